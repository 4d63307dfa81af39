"""The weekly batch against a bare openai-SDK client: same N, L and C, same fake server process.

    python bench/coaching_bound.py [--managers 5000] [--latency 0.5] [--concurrency 64]
                                   [--regions 3] [--db /tmp/ror-coach-bound.sqlite3] [--profile]

Builds the chain of bench/coaching_batch_benchmark.py (N stores, one manager each, 13 weeks x 8
categories, the demo modules) on a fresh SQLite file, or on DATABASE_URL. One fake OpenAI server
(tests/fakes/openai_server.py) runs in a child process, a thread per connection, answering every
chat request after L seconds with a grounded plan and reporting cached prompt tokens as OpenAI
does (prefixes of 1,024 tokens and more, in steps of 128, seen before). Then, in this order:

  (a) bare SDK: one `openai.OpenAI` client, C threads, N `chat.completions.create` calls, each
      with the very body the batch sends for one of the N plans (built before the clock starts),
      reading each answer's content as JSON: the baseline;
  (b) batch: `coaching.plans.batch.generate_plans` for the N managers with the OpenAI coach and
      COACH_LLM_CONCURRENCY=C, on plans not yet made this week (as on a Monday).

It prints both wall times, the ratio (b)/(a) (target <= 1.05), the per-plan CPU outside the SDK
(process_time of (b) minus process_time of (a), over N: everything the batch does that the bare
client does not; target < 3 ms), tokens per plan from the LLMCall rows (prompt, cached,
completion), and the fake server's own CPU per request and most requests in flight, so it can be
seen not to be the bottleneck. --profile adds cProfiles of (a) and (b) on 300 plans, one at a time
with L = 0 (cProfile sees one thread). Prints only what this run measured.
"""

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.coaching_batch_benchmark import (
    STORE_PREFIX,
    build_chain,
    grounded_plan,
    print_profile,
    profiled,
    timed,
    verdict,
)

CACHE_MIN_TOKENS, CACHE_STEP = 1024, 128  # OpenAI's prompt caching rule


def serve(latency: float, conn) -> None:
    """Child process: the fake server; answers the parent's commands until told to stop."""
    from tests.fakes.openai_server import FakeOpenAIServer, ok, slow

    server = FakeOpenAIServer(keep_requests=False)
    server.cache_prompts(min_tokens=CACHE_MIN_TOKENS, step=CACHE_STEP)
    server.default = slow(latency, ok(grounded_plan))
    server.start()
    conn.send(server.base_url)
    while True:
        command, value = conn.recv()
        if command == "stop":
            break
        if command == "latency":
            server.default = ok(grounded_plan) if value <= 0 else slow(value, ok(grounded_plan))
        conn.send(
            {
                "requests": server.request_count,
                "cpu": time.process_time(),
                "max_in_flight": server.max_in_flight,
            }
        )
        if command == "reset":  # after answering: the next run starts from nothing
            server.max_in_flight = 0
            server.cache_prompts(min_tokens=CACHE_MIN_TOKENS, step=CACHE_STEP)
    server.stop()


def ask(conn, command, value=None) -> dict:
    conn.send((command, value))
    return conn.recv()


def bare_client(base_url: str, bodies: list[dict], concurrency: int) -> int:
    """N calls with a plain SDK client and C threads: what any program calling the API pays."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="bench", timeout=60, max_retries=0)

    def call(body: dict) -> int:
        completion = client.chat.completions.create(**body)
        return len(json.loads(completion.choices[0].message.content)["tips"])

    if concurrency == 1:  # in this thread, where a profiler sees it
        tips = sum(map(call, bodies))
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            tips = sum(pool.map(call, bodies))
    client.close()
    return tips


def request_bodies(pairs, week, coach) -> list[dict]:
    """The body the batch sends for each pair (its first call), built before any clock starts."""
    from django.contrib.auth import get_user_model

    from coaching.plans import batch
    from coaching.plans.week_context import load_week_context
    from scoring.models import Store

    context = load_week_context(week, pairs)
    names = dict(get_user_model().objects.values_list("id", "first_name"))
    codes = dict(Store.objects.values_list("id", "code"))
    bodies = []
    for manager_id, store_id in pairs:
        request, _ = batch.build_request(
            context, manager_id, store_id, names[manager_id], codes[store_id]
        )
        bodies.append(coach.plan_body(request))
    return bodies


class Phases:
    """Wall time the batch's main thread spends in its phases (the LLM calls overlap them)."""

    NAMES = {
        "prepare": ("Run", "prepare"),
        "save": ("Run", "save"),
        "digests": (None, "send_digests"),
    }

    def __init__(self, batch) -> None:
        self.batch, self.spent, self.saved = batch, dict.fromkeys(self.NAMES, 0.0), {}

    def __enter__(self):
        for phase, (owner, name) in self.NAMES.items():
            where = getattr(self.batch, owner) if owner else self.batch
            real = getattr(where, name)
            self.saved[phase] = (where, name, real)
            setattr(where, name, self._timer(phase, real))
        return self

    def _timer(self, phase, real):
        def timed_call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.spent[phase] += time.perf_counter() - started

        return timed_call

    def __exit__(self, *exc) -> None:
        for where, name, real in self.saved.values():
            setattr(where, name, real)

    def __str__(self) -> str:
        return ", ".join(
            f"{'preparing (context, requests, claims)' if k == 'prepare' else k} {v:.2f} s"
            for k, v in self.spent.items()
        )


def forget_plans(week) -> None:
    """The week's bench plans go, so (b) makes them as on a Monday (created, not updated)."""
    from coaching.models import WeeklyPlan

    WeeklyPlan.objects.filter(store__code__startswith=STORE_PREFIX, week=week).delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--managers", type=int, default=5000)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument(
        "--db", default=str(Path(tempfile.gettempdir()) / "ror-coach-bound.sqlite3")
    )
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    n, latency, concurrency = args.managers, args.latency, args.concurrency

    if "DATABASE_URL" not in os.environ:
        for suffix in ("", "-wal", "-shm"):
            Path(args.db + suffix).unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Avg, Count, Sum
    from django.utils import timezone

    from coaching.demo import load_demo_modules
    from coaching.llm import get_coach
    from coaching.models import LLMCall, WeeklyPlan
    from coaching.plans import batch
    from coaching.plans.access import coached_pairs
    from scoring.weeks import week_start

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    store_ids = build_chain(n, args.regions)
    load_demo_modules()
    wanted = set(store_ids)
    pairs = [p for p in coached_pairs() if p[1] in wanted]
    assert len(pairs) == n, (len(pairs), n)
    week = week_start(timezone.localdate())
    print(
        f"database: {connection.vendor}; {n:,} stores and managers in {args.regions} regions "
        f"(built in {time.perf_counter() - started:.1f} s); {os.cpu_count()} cores; "
        f"Python {sys.version.split()[0]}"
    )

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve, args=(latency, child), daemon=True)
    server.start()
    try:
        settings.COACH_LLM_PROVIDER = "openai"
        settings.OPENAI_BASE_URL = base_url = parent.recv()
        settings.OPENAI_API_KEY = "bench"
        settings.COACH_LLM_CONCURRENCY = concurrency
        coach = get_coach()
        bodies = request_bodies(pairs, week, coach)
        size = sum(len(json.dumps(b)) for b in bodies) / n
        print(f"request body: {size:,.0f} bytes on average (the same N bodies in (a) and (b))")

        # Warm both paths up (imports, connection pools, the server's threads), off the clock.
        bare_client(base_url, bodies[: 2 * concurrency], concurrency)
        batch.generate_plans(pairs[:concurrency], week, force=True)
        forget_plans(week)
        LLMCall.objects.all().delete()

        before = ask(parent, "reset")
        bare, tips = timed(lambda: bare_client(base_url, bodies, concurrency))
        middle = ask(parent, "reset")
        phases = Phases(batch)
        with phases:
            run, result = timed(lambda: batch.generate_plans(pairs, week))
        after = ask(parent, "count")

        assert result.counts["created"] == n, result.counts
        ready = WeeklyPlan.objects.filter(
            store_id__in=store_ids, week=week, status=WeeklyPlan.Status.READY, provider="openai"
        ).count()
        assert ready == n, f"{ready} ready openai plans, expected {n}"
        calls = LLMCall.objects.filter(plan__week=week, provider="openai")
        tokens = calls.aggregate(
            calls=Count("id"),
            prompt=Avg("tokens_in"),
            cached=Avg("cached_tokens"),
            completion=Avg("tokens_out"),
            cost=Sum("cost_usd"),
        )

        bound = n * latency / concurrency
        ratio = run.wall / bare.wall
        outside = (run.cpu - bare.cpu) / n * 1000
        server_cpu = (after["cpu"] - before["cpu"]) / (after["requests"] - before["requests"])
        print(f"N={n:,} L={latency:g} s C={concurrency}; bound N*L/C = {bound:.2f} s")
        print(f"(a) bare SDK client     {bare.wall:8.2f} s  CPU {bare.cpu / n * 1000:6.2f} ms/call")
        print(f"(b) generate_plans      {run.wall:8.2f} s  CPU {run.cpu / n * 1000:6.2f} ms/plan")
        print(f"ratio (b)/(a)           {ratio:8.3f}  (target <= 1.05: {verdict(ratio <= 1.05)})")
        print(
            f"CPU outside the SDK     {outside:8.2f} ms per plan  (target < 3 ms: "
            f"{verdict(outside < 3)}); method: (process_time of (b) - process_time of (a)) / N, "
            "both all threads of this process"
        )
        print(
            f"tokens per plan         prompt {tokens['prompt']:.0f}, of which cached "
            f"{tokens['cached']:.0f}; completion {tokens['completion']:.0f} "
            f"({tokens['calls']:,} calls; fake server counts 4 characters a token; "
            f"cost at {settings.OPENAI_MODEL} prices ${tokens['cost']:.4f})"
        )
        print(f"counts                  {result.summary()}")
        print(f"of which (wall, main thread): {phases}")
        print(
            f"fake server             {server_cpu * 1000:.2f} ms CPU per request, at most "
            f"{middle['max_in_flight']} (a) / {after['max_in_flight']} (b) requests in flight"
        )
        assert tips > 0
        if args.profile:
            profile_both(parent, base_url, bodies, pairs, week, batch, settings)
    finally:
        parent.send(("stop", None))
        server.join(timeout=10)
        if server.is_alive():
            server.kill()


def profile_both(parent, base_url, bodies, pairs, week, batch, settings) -> None:
    few = min(300, len(pairs))
    ask(parent, "latency", 0.0)
    settings.COACH_LLM_CONCURRENCY = 1
    profile, (run, _) = profiled(lambda: timed(lambda: bare_client(base_url, bodies[:few], 1)))
    print(f"(a) under cProfile: {few} calls one at a time, L=0: {run.cpu / few * 1000:.2f} ms CPU")
    print_profile(profile)
    forget_plans(week)
    profile, (run, _) = profiled(lambda: timed(lambda: batch.generate_plans(pairs[:few], week)))
    print(f"(b) under cProfile: {few} plans one at a time, L=0: {run.cpu / few * 1000:.2f} ms CPU")
    print_profile(profile, lines=40)


if __name__ == "__main__":
    main()
