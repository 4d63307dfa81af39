"""LLM server compatibility: N weekly plans per COACH_LLM_MODE against one OpenAI-compatible server.

    python bench/llm_compat.py --base-url URL [--model NAME] [--api-key KEY] [--plans 6]
                               [--modes parse,json_schema,json_object,auto] [--timeout 60]
                               [--concurrency 2] [--max-tokens 1500]
    python bench/llm_compat.py --fake [--plans 6]      # offline smoke test: the fake server

Builds a fresh SQLite database in a temporary directory (never the project's database), N stores
with one manager each and 13 weeks of scores (the coaching benchmark's chain builder), loads the
demo training modules, then for each mode generates the N plans against the server
(`generate_plans(..., force=True)`) and prints what it measured: ready / fallback / failed plans,
the fallback and failure reasons grouped, the LLM calls with their outcomes and rejected-call
errors, tokens in and out, per-call latency p50/p95 and the wall time of the mode.
A mode the adapter does not accept (yet) is skipped with a note.

--fake starts tests.fakes.openai_server.FakeOpenAIServer in this process, answering every request
with a grounded plan (tests/coaching/llm/helpers.good_answer): every plan should be ready.
"""

import argparse
import datetime as dt
import math
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ALL_MODES = "parse,json_schema,json_object,auto"
REASON_CHARS = 160
TOP_REASONS = 8


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base-url", help="e.g. http://127.0.0.1:8765/v1")
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--api-key", default="unused", help="local servers accept any key")
    parser.add_argument("--plans", type=int, default=6, help="stores, one manager and plan each")
    parser.add_argument("--modes", default=ALL_MODES, help=f"comma-separated, from {ALL_MODES}")
    parser.add_argument("--timeout", type=float, default=60.0, help="OPENAI_TIMEOUT, seconds")
    parser.add_argument("--concurrency", type=int, default=2, help="COACH_LLM_CONCURRENCY")
    parser.add_argument("--max-tokens", type=int, default=1500, help="COACH_MAX_COMPLETION_TOKENS")
    parser.add_argument("--fake", action="store_true", help="use the in-process fake server")
    args = parser.parse_args(argv)
    if not args.fake and not args.base_url:
        parser.error("--base-url is required (or --fake for the offline smoke test)")
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    return args


def setup_django(folder: str) -> None:
    """Django on a fresh SQLite file in `folder`, whatever DATABASE_URL the shell holds."""
    os.environ["DATABASE_URL"] = f"sqlite:///{Path(folder) / 'llm_compat.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("LOG_LEVEL", "ERROR")  # the reasons are printed below, grouped
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_chain(plans: int) -> tuple[list[tuple[int, int]], dt.date]:
    """N stores and managers with scores, the demo modules; the (manager, store) pairs and week."""
    from django.utils import timezone

    from bench.coaching_batch_benchmark import build_chain as bench_chain
    from coaching.demo import load_demo_modules
    from coaching.plans.access import coached_pairs
    from scoring.weeks import week_start

    store_ids = set(bench_chain(plans, regions=min(3, plans)))
    load_demo_modules()
    pairs = [p for p in coached_pairs() if p[1] in store_ids]
    assert len(pairs) == plans, (len(pairs), plans)
    return pairs, week_start(timezone.localdate())


def configure(args: argparse.Namespace, base_url: str) -> None:
    from django.conf import settings

    settings.COACH_LLM_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = base_url
    settings.OPENAI_API_KEY = args.api_key
    settings.OPENAI_MODEL = args.model
    settings.OPENAI_TIMEOUT = args.timeout
    settings.COACH_LLM_CONCURRENCY = args.concurrency
    settings.COACH_MAX_COMPLETION_TOKENS = args.max_tokens


def print_header(args: argparse.Namespace, base_url: str) -> None:
    from django.conf import settings

    print(
        f"llm_compat {dt.datetime.now():%Y-%m-%d %H:%M}  machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"server {base_url}{' (fake)' if args.fake else ''}  model {args.model}  "
        f"plans {args.plans}  timeout {args.timeout:g} s  concurrency {args.concurrency}  "
        f"max tokens {args.max_tokens}  attempts {settings.COACH_LLM_ATTEMPTS}  "
        f"SDK retries {settings.OPENAI_MAX_RETRIES}"
    )


def run_mode(mode: str, pairs: list[tuple[int, int]], week: dt.date) -> None:
    """Generate the plans in one mode and print what happened."""
    from django.conf import settings

    from coaching.llm import get_coach, openai_adapter
    from coaching.models import LLMCall
    from coaching.plans.batch import generate_plans

    settings.COACH_LLM_MODE = mode
    forget = getattr(openai_adapter, "forget_servers", None)
    if forget is not None:  # each mode starts as a fresh process would: nothing learned yet
        forget()
    try:
        coach = get_coach()
    except ValueError as exc:
        print(f"\n== {mode}: skipped, the adapter does not accept this mode here ({exc})")
        return
    first_call = (LLMCall.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    started = time.perf_counter()
    try:
        result = generate_plans(pairs, week, force=True, coach=coach)
    except Exception as exc:  # the batch itself broke: say so and go on with the next mode
        print(f"\n== {mode}: the batch raised {type(exc).__name__}: {short(str(exc))}")
        return
    wall = time.perf_counter() - started
    print(f"\n== {mode}: {len(pairs)} plans in {wall:.1f} s wall ({wall / len(pairs):.1f} s/plan)")
    print(f"  batch      {result.summary()}")
    report_plans(pairs, week)
    report_calls(first_call, len(pairs))


def report_plans(pairs: list[tuple[int, int]], week: dt.date) -> None:
    from coaching.models import WeeklyPlan

    plans = WeeklyPlan.objects.filter(store_id__in=[s for _, s in pairs], week=week)
    statuses = Counter(plans.values_list("status", flat=True))
    print(
        f"  plans      ready {statuses['ready']}  fallback {statuses['fallback']}  "
        f"failed {statuses['failed']}"
        + (f"  other {dict(statuses)}" if set(statuses) - {"ready", "fallback", "failed"} else "")
    )
    reasons = plans.exclude(status=WeeklyPlan.Status.READY).values_list("status", "fallback_reason")
    print_grouped("reasons", [f"[{status}] {reason or '(none)'}" for status, reason in reasons])


def report_calls(first_call: int, plan_count: int) -> None:
    from coaching.models import LLMCall

    calls = LLMCall.objects.filter(id__gte=first_call, purpose="weekly_plan")
    llm = list(
        calls.exclude(provider="playbook").values_list(
            "outcome", "tokens_in", "tokens_out", "latency_ms", "error"
        )
    )
    stand_ins = calls.filter(provider="playbook").count()
    outcomes = Counter(outcome for outcome, *_ in llm)
    print(
        f"  LLM calls  {len(llm)} ({', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))})"
        f"; playbook stand-ins {stand_ins}"
    )
    if "mode" in {f.name for f in LLMCall._meta.get_fields()}:  # logged once the adapter does
        used = Counter(calls.exclude(provider="playbook").values_list("mode", "outcome"))
        print(
            "  by mode    " + ", ".join(f"{m or '?'}/{o} {n}" for (m, o), n in sorted(used.items()))
        )
    tokens_in = sum(row[1] for row in llm)
    tokens_out = sum(row[2] for row in llm)
    print(
        f"  tokens     in {tokens_in:,} ({tokens_in / plan_count:,.0f}/plan)  "
        f"out {tokens_out:,} ({tokens_out / plan_count:,.0f}/plan)"
    )
    latencies = sorted(row[3] / 1000 for row in llm)
    if latencies:
        print(
            f"  latency    p50 {percentile(latencies, 50):.2f} s  "
            f"p95 {percentile(latencies, 95):.2f} s  max {latencies[-1]:.2f} s per call"
        )
    print_grouped("call errors", [row[4] for row in llm if row[0] != "ok" and row[4]])


def print_grouped(title: str, texts: list[str]) -> None:
    """Texts cut to REASON_CHARS and grouped, the most frequent first."""
    if not texts:
        return
    groups = Counter(short(text) for text in texts).most_common()
    print(f"  {title} ({len(texts)}, {len(groups)} distinct):")
    for text, count in groups[:TOP_REASONS]:
        print(f"    {count:3d}x {text}")
    if len(groups) > TOP_REASONS:
        print(f"    ... and {len(groups) - TOP_REASONS} more distinct")


def short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 3] + "..."


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted, non-empty list."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def start_fake():
    from tests.coaching.llm.helpers import good_answer
    from tests.fakes.openai_server import FakeOpenAIServer, ok

    server = FakeOpenAIServer()
    server.default = ok(good_answer)
    return server.start()


def main(argv=None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="llm-compat-") as folder:
        setup_django(folder)
        started = time.perf_counter()
        pairs, week = build_chain(args.plans)
        built = time.perf_counter() - started
        fake = start_fake() if args.fake else None
        try:
            base_url = fake.base_url if fake else args.base_url
            configure(args, base_url)
            print_header(args, base_url)
            print(f"chain: {len(pairs)} stores and managers, demo modules (built in {built:.1f} s)")
            for mode in args.modes:
                run_mode(mode, pairs, week)
        finally:
            if fake is not None:
                fake.stop()
            from django.db import connections

            connections.close_all()


if __name__ == "__main__":
    main()
