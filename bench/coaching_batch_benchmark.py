"""Coaching batch benchmark: N managers' weekly plans against a local fake LLM with latency L.

    python bench/coaching_batch_benchmark.py [--managers 2000] [--latency 0.5] [--concurrency 32]
                                             [--regions 3] [--db /tmp/ror-coach-bench.sqlite3]
                                             [--profile]

Builds a fresh SQLite database (or uses DATABASE_URL if set) with N stores, one manager each and
13 weeks of scores in the 8 categories, loads the demo training modules, and starts the fake
OpenAI server (tests/fakes/openai_server.py) in a separate process, answering every request after
L seconds with a grounded plan. Then it times `coaching.plans.batch.generate_plans` for all N
managers with the OpenAI coach and COACH_LLM_CONCURRENCY=C, and compares the elapsed time with
the bound N*L/C (target: within 1.25x). Last it runs the same batch with the offline playbook coach
(no LLM, single-threaded): elapsed/N is the per-plan cost outside the LLM call (target: < 10 ms),
and once more for one chunk of COACH_BATCH_CHUNK managers, as one Celery task runs it.
--profile adds cProfiles of both paths on 200 managers. Prints the figures measured in this run.
"""

import argparse
import cProfile
import io
import json
import multiprocessing
import os
import pstats
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATA_MARKER = "DATA (JSON):\n"
STORE_PREFIX = "BN"
WEEKS = 13
FIRST_NAMES = ["Aisha", "Ben", "Chloe", "Dev", "Erin", "Farid", "Grace", "Hugo", "Isla", "Jon"]


# --------------------------------------------------------------------------- the fake LLM


def grounded_plan(body: dict) -> dict:
    """One tip per focus item, quoting only the data: what a well-behaved model answers."""
    content = next(
        m["content"]
        for m in reversed(body["messages"])
        if m["role"] == "user" and DATA_MARKER in (m["content"] or "")
    )
    data = json.loads(content.split(DATA_MARKER, 1)[1])
    tips = []
    for item in data["focus"]:
        module = next((m for m in data["modules"] if m["category"] == item["category"]), None)
        tips.append(
            {
                "category": item["category"],
                "title": f"Work on {item['name'].lower()} this week",
                "why": item["reason"],
                "steps": [
                    "Talk it through with the team at the start of the first shift.",
                    "Watch for it on the floor every day and praise what works.",
                    "Look back on Friday at what changed and what to keep.",
                ],
                "module_slug": module["slug"] if module else None,
            }
        )
    return {"tips": tips}


def serve_fake_llm(latency: float, conn) -> None:
    """Child process: the fake server, answering every chat request after `latency` seconds."""
    from tests.fakes.openai_server import FakeOpenAIServer, ok, slow

    server = FakeOpenAIServer()
    server.default = slow(latency, ok(grounded_plan))
    server.start()
    conn.send(server.base_url)
    while True:  # until the parent says stop
        command, value = conn.recv()
        if command == "stop":
            break
        if command == "latency":
            server.default = ok(grounded_plan) if value <= 0 else slow(value, ok(grounded_plan))
        conn.send(server.request_count)
    server.stop()


# --------------------------------------------------------------------------- the chain


def build_chain(stores: int, regions: int, seed: int = 1) -> list[int]:
    """N stores with one manager each and WEEKS weeks of scores in every category, in bulk."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from coaching.models import WeeklyPlan
    from scoring.models import Category, CategoryScore, Profile, Region, Role, Source, Store
    from scoring.weeks import week_start, weeks_back

    rng = random.Random(seed)
    User = get_user_model()
    unusable = make_password(None)  # nobody logs in
    # A re-run on the same database starts from scratch.
    WeeklyPlan.objects.filter(store__code__startswith=STORE_PREFIX).delete()
    CategoryScore.objects.filter(store__code__startswith=STORE_PREFIX).delete()
    User.objects.filter(username__startswith="bench.manager.").delete()
    Store.objects.filter(code__startswith=STORE_PREFIX).delete()

    region_rows = [
        Region.objects.update_or_create(code=f"bench-{r}", defaults={"name": f"Bench {r}"})[0]
        for r in range(regions)
    ]
    store_rows = Store.objects.bulk_create(
        [
            Store(code=f"{STORE_PREFIX}{i:05d}", name=f"Bench {i}", region=region_rows[i % regions])
            for i in range(stores)
        ]
    )
    users = User.objects.bulk_create(
        [
            User(
                username=f"bench.manager.{i:05d}",
                first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                email=f"bench.manager.{i:05d}@bench.invalid",
                password=unusable,
            )
            for i in range(stores)
        ]
    )
    profiles = Profile.objects.bulk_create(
        [Profile(user=user, role=Role.STORE_MANAGER) for user in users]
    )
    Profile.stores.through.objects.bulk_create(
        [
            Profile.stores.through(profile_id=p.id, store_id=s.id)
            for p, s in zip(profiles, store_rows, strict=True)
        ]
    )

    last = weeks_back(week_start(timezone.localdate()), 1)
    weeks = [weeks_back(last, i) for i in reversed(range(WEEKS))]
    categories = list(Category.objects.filter(active=True))
    rows = []
    for store in store_rows:
        falling = rng.choice(categories).id  # one category slides in the last weeks
        for category in categories:
            value = rng.uniform(45, 85)
            for number, week in enumerate(weeks):
                value += rng.gauss(0, 1.5) - (3.0 if category.id == falling and number > 9 else 0)
                rows.append(
                    CategoryScore(
                        store=store,
                        category=category,
                        week=week,
                        score=round(min(99.0, max(1.0, value)), 1),
                        responses=rng.randint(6, 14),
                        source=Source.IMPORT,
                    )
                )
    CategoryScore.objects.bulk_create(rows, batch_size=5000)
    return [s.id for s in store_rows]


# --------------------------------------------------------------------------- the benchmark


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--managers", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--regions", type=int, default=3, help="as many as the demo chain has")
    parser.add_argument(
        "--db", default=str(Path(tempfile.gettempdir()) / "ror-coach-bench.sqlite3")
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile both paths on 200 managers"
    )
    args = parser.parse_args()
    n, latency, concurrency = args.managers, args.latency, args.concurrency

    if "DATABASE_URL" not in os.environ:
        for suffix in ("", "-wal", "-shm"):
            Path(args.db + suffix).unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Digests are composed and "sent" for every plan as in production, into memory, not stdout.
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from coaching.demo import load_demo_modules
    from coaching.llm import get_coach
    from coaching.models import WeeklyPlan
    from coaching.plans import batch
    from coaching.plans.access import coached_pairs
    from coaching.plans.week_context import load_week_context
    from scoring.weeks import week_start

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    store_ids = build_chain(n, args.regions)
    load_demo_modules()
    wanted = set(store_ids)
    pairs = [p for p in coached_pairs() if p[1] in wanted]
    assert len(pairs) == n, (len(pairs), n)
    week = week_start(timezone.localdate())
    mode = connection.settings_dict["OPTIONS"].get("transaction_mode")
    print(
        f"database: {connection.vendor}{f' (transaction_mode={mode})' if mode else ''}; "
        f"{n:,} stores and managers in {args.regions} regions, "
        f"{WEEKS} weeks x 8 categories of scores (built in {time.perf_counter() - started:.1f} s)"
    )

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve_fake_llm, args=(latency, child), daemon=True)
    server.start()
    try:
        settings.COACH_LLM_PROVIDER = "openai"
        settings.OPENAI_BASE_URL = parent.recv()
        settings.OPENAI_API_KEY = "bench"
        settings.COACH_LLM_CONCURRENCY = concurrency
        run, result = timed(lambda: batch.generate_plans(pairs, week, force=True))
        parent.send(("count", None))
        requests = parent.recv()

        bound = n * latency / concurrency
        ratio = run.wall / bound
        print(f"LLM run: N={n:,} L={latency:g} s C={concurrency} -> {requests:,} LLM requests")
        print(f"  elapsed                 {run.wall:8.2f} s")
        print(f"  bound N*L/C             {bound:8.2f} s")
        print(f"  ratio elapsed/bound     {ratio:8.3f}  (target <= 1.25: {verdict(ratio <= 1.25)})")
        print(
            f"  CPU time per plan       {run.cpu / n * 1000:8.2f} ms  (process_time, all threads)"
        )
        print(f"  counts                  {describe(result.counts)}")
        assert result.counts["fallback"] == 0 and result.counts["failed"] == 0, result.counts
        ready = WeeklyPlan.objects.filter(
            store_id__in=store_ids, week=week, status=WeeklyPlan.Status.READY, provider="openai"
        ).count()
        assert ready == n, f"{ready} ready openai plans, expected {n}"

        if args.profile:
            # The LLM path one plan after another, so one profiler sees all of it, with the
            # server answering at once: what is left is the cost around the wait.
            few = pairs[: min(n, 200)]
            parent.send(("latency", 0.0))
            parent.recv()
            settings.COACH_LLM_CONCURRENCY = 1
            profile, (run, _) = profiled(
                lambda: timed(lambda: batch.generate_plans(few, week, force=True))
            )
            print(f"LLM path under cProfile: {len(few)} plans one at a time, L=0")
            print(f"  per plan (profiled)     {run.wall / len(few) * 1000:8.2f} ms")
            print_profile(profile)
    finally:
        parent.send(("stop", None))
        server.join(timeout=10)
        if server.is_alive():
            server.kill()

    # The same batch with the offline coach: no LLM, so all of it is the cost around the call.
    settings.COACH_LLM_PROVIDER = "playbook"
    run, result = timed(lambda: batch.generate_plans(pairs, week, force=True))
    per_plan = run.wall / n * 1000
    print("playbook run (no LLM, single-threaded):")
    print(f"  elapsed                 {run.wall:8.2f} s")
    print(
        f"  per plan                {per_plan:8.2f} ms  (target < 10 ms: {verdict(per_plan < 10)})"
    )
    print(f"  CPU time per plan       {run.cpu / n * 1000:8.2f} ms")
    print(f"  counts                  {describe(result.counts)}")
    assert result.counts["failed"] == 0, result.counts

    # Where that time goes: the two steps before any plan is coached, timed on their own.
    coach = get_coach()
    load, week_context = timed(lambda: load_week_context(week, pairs))
    requests, _ = timed(lambda: build_requests(batch, week_context, pairs, coach))
    print("  of which, timed separately:")
    print(f"    load_week_context     {load.wall:8.2f} s  ({load.wall / n * 1000:.2f} ms per plan)")
    print(
        f"    build_request + fingerprint {requests.wall:6.2f} s  "
        f"({requests.wall / n * 1000:.2f} ms per plan)"
    )

    # A Celery task coaches one chunk: generate_plans(chunk) loads the context for that chunk.
    chunk = pairs[: settings.COACH_BATCH_CHUNK]
    run, result = timed(lambda: batch.generate_plans(chunk, week, force=True))
    print(f"playbook, one chunk of {len(chunk)} managers (what one Celery task does):")
    print(
        f"  elapsed                 {run.wall:8.2f} s  ({run.wall / len(chunk) * 1000:.2f} ms per plan)"
    )
    assert result.counts["failed"] == 0, result.counts

    if args.profile:
        few = pairs[: min(n, 200)]
        profile, (run, _) = profiled(
            lambda: timed(lambda: batch.generate_plans(few, week, force=True))
        )
        print(f"playbook path under cProfile: {len(few)} of the {n:,} managers")
        print(f"  per plan (profiled)     {run.wall / len(few) * 1000:8.2f} ms")
        print_profile(profile)


@dataclass
class Timing:
    wall: float
    cpu: float


def timed(fn):
    cpu, wall = time.process_time(), time.perf_counter()
    value = fn()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu), value


def profiled(fn):
    # Wall-clock timer: database round trips are part of the cost. (A CPU-time timer costs a
    # system call per event here and inflates call-heavy code several times over.)
    profile = cProfile.Profile()
    value = profile.runcall(fn)
    return profile, value


def print_profile(profile: cProfile.Profile, lines: int = 25) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines)
    print(out.getvalue())


def build_requests(batch, context, pairs, coach) -> int:
    """What generate_plans does for every pair before it coaches anyone."""
    from django.contrib.auth import get_user_model

    from scoring.models import Store

    names = dict(get_user_model().objects.values_list("id", "first_name"))
    codes = dict(Store.objects.values_list("id", "code"))
    for manager_id, store_id in pairs:
        request, _ = batch.build_request(
            context, manager_id, store_id, names[manager_id], codes[store_id]
        )
        batch.fingerprint_of(request, coach)
    return len(pairs)


def describe(counts) -> str:
    return (
        f"{counts['created']:,} created, {counts['updated']:,} updated, "
        f"{counts['reused']:,} reused, {counts['fallback']:,} fallback, {counts['failed']:,} failed"
    )


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    main()
