"""Celery scale-out: the weekly batch with 1, 2 and 4 worker processes on the real broker.

    python bench/worker_scaleout.py [--stores 1000] [--workers 1,2,4] [--regimes llm,cpu]
                                    [--latency 0.5] [--llm-concurrency 8] [--broker redis|amqp]
                                    [--reuse] [--repeat 3]

Builds its own PostgreSQL database `ror_h_workers` (created if missing; `--reuse` keeps the stores
and scores an earlier run built) with N stores, one manager each and 13 weeks of scores, using
bench/coaching_batch_benchmark.py's helpers, and starts that benchmark's fake OpenAI server in a
separate process (every answer after L seconds). Then, for each regime and each W, it starts W
`celery -A config worker -P prefork --concurrency 1` processes with the same environment as
deployed (DEBUG off, DATABASE_URL, CELERY_BROKER_URL, OPENAI_BASE_URL to the fake server), waits
until they are ready, and times the weekly batch end to end: `coaching.tasks.queue_coaching` (what
beat's hourly `schedule_weekly_coaching` calls) at Monday COACH_SCHEDULE_HOUR, which fans the
pairs out in chunks of COACH_BATCH_CHUNK over the broker, until every plan of the week is ready and
its digest sent (polled in the database). The week's plans are deleted before each run.

Regimes: `llm`, the OpenAI coach against the fake server (L s per answer, COACH_LLM_CONCURRENCY
per worker): the LLM wait is the limit, bound N*L/(C*W); `cpu`, the offline playbook coach: the
database and Python CPU are the limit. The baseline is W=1 of the same run. CPU per plan and cores
used, by the workers, by this database's PostgreSQL backends and by the whole machine (any
process: other work on the machine shows there), say which resource is used up.

Isolation: the broker is Redis database 13 (or RabbitMQ's default vhost) and generate_plans is
routed to a queue named for this run, so no other worker on the machine takes these chunks.
"""

import argparse
import contextlib
import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coaching_batch_benchmark import WEEKS, build_chain, serve_fake_llm  # noqa: E402
from load_test import CpuMeter, CpuUse  # noqa: E402

DATABASE = "ror_h_workers"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
BROKERS = {"redis": "redis://127.0.0.1:6379/13", "amqp": "amqp://guest:guest@127.0.0.1:5672//"}
QUEUE = f"scaleout-{os.getpid()}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=1000, help="stores, one manager each")
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument("--workers", default="1,2,4", help="worker process counts to run")
    parser.add_argument("--regimes", default="llm,cpu", help="llm, cpu or both")
    parser.add_argument("--latency", type=float, default=0.5, help="fake LLM seconds per answer")
    parser.add_argument("--llm-concurrency", type=int, default=8, help="per worker process")
    parser.add_argument("--chunk", type=int, default=64, help="COACH_BATCH_CHUNK")
    parser.add_argument("--broker", default="redis", help="redis, amqp or a broker URL")
    parser.add_argument("--pool", default="prefork", help="the workers' -P")
    parser.add_argument("--concurrency", type=int, default=1, help="the workers' --concurrency")
    parser.add_argument("--reuse", action="store_true", help="keep the stores already built")
    parser.add_argument("--repeat", type=int, default=3, help="cpu runs per W: the median shown")
    parser.add_argument("--timeout", type=float, default=120, help="s without progress: fail")
    return parser.parse_args()


# --------------------------------------------------------------------------- database


def prepare_database(args) -> tuple[list[int], str]:
    """Migrate (creating the database if need be) and build or reuse the N stores."""
    exists = subprocess.run(  # noqa: S603
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SELECT 1", DATABASE],  # noqa: S607
        capture_output=True,
    )
    if exists.returncode != 0:
        subprocess.run(  # noqa: S603
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", DATABASE],  # noqa: S607
            check=True,
        )
    import django

    django.setup()
    from django.core.management import call_command

    from coaching.demo import load_demo_modules
    from scoring.models import Store

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    stores = list(Store.objects.order_by("id").values_list("id", flat=True))
    if args.reuse and len(stores) == args.stores:
        return stores, "reused"
    if Store.objects.exclude(code__startswith="BN").exists():
        sys.exit(f"{DATABASE} holds stores this benchmark did not build: refusing to coach them")
    store_ids = build_chain(args.stores, args.regions)
    load_demo_modules()
    return store_ids, f"built in {time.perf_counter() - began:.1f} s"


# --------------------------------------------------------------------------- broker and workers


def purge_queue(app, *, delete: bool = False) -> None:
    """This run's queue, declared as Celery declares it for the workers, emptied (or deleted)."""
    with app.connection_for_write() as conn:
        queue = app.amqp.queues[QUEUE](conn.default_channel)
        queue.declare()
        queue.purge()
        if delete:
            queue.delete()


def worker_env(base: dict, regime: str, args, llm_url: str) -> dict:
    env = {
        **base,
        "COACH_LLM_PROVIDER": "openai" if regime == "llm" else "playbook",
        "OPENAI_BASE_URL": llm_url,
        "OPENAI_API_KEY": "fake",
        "COACH_LLM_CONCURRENCY": str(args.llm_concurrency),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    return env


def start_workers(count: int, env: dict, args, logdir: Path) -> list[subprocess.Popen]:
    """`count` worker processes on this run's queue, each in its own process group; returns
    once every one has logged that it is ready."""
    host = socket.gethostname()
    celery = Path(sys.executable).parent / "celery"
    workers, logs = [], []
    for i in range(count):
        log = logdir / f"worker-{count}-{i}.log"
        command = [
            *(str(celery), "-A", "config", "worker", "-P", args.pool),
            *("--concurrency", str(args.concurrency), "-Q", QUEUE, "-l", "info"),
            *("-n", f"{QUEUE}-{i}@{host}"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ]
        with log.open("wb") as out:
            workers.append(
                subprocess.Popen(  # noqa: S603 (our own command line)
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        logs.append(log)
    try:
        deadline = time.monotonic() + 60
        while not all(" ready." in log.read_text(errors="replace") for log in logs):
            for worker, log in zip(workers, logs, strict=True):
                if worker.poll() is not None:
                    raise RuntimeError(f"a worker exited:\n{log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                raise RuntimeError("the workers were not ready within 60 s")
            time.sleep(0.1)
    except BaseException:
        stop_workers(workers)
        raise
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    """SIGTERM (warm shutdown) to each worker's process group, then SIGKILL after 15 s."""
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)  # the pool's children too
        worker.wait(timeout=5)


# --------------------------------------------------------------------------- one run


@dataclass
class Run:
    elapsed: float
    chunks: int
    cpu: CpuUse  # the workers' (group), their database's and the machine's
    counts: dict


def run_batch(n: int, timeout: float, groups: set[int]) -> Run:
    """Enqueue the week as beat does and wait for every plan of it to be ready and emailed."""
    import datetime as dt

    from django.conf import settings
    from django.db.models import Count

    from coaching.models import WeeklyPlan
    from coaching.tasks import queue_coaching
    from scoring.weeks import week_start

    monday = week_start(dt.datetime.now(dt.UTC).date())
    now = dt.datetime.combine(monday, dt.time(settings.COACH_SCHEDULE_HOUR), dt.UTC)
    WeeklyPlan.objects.filter(week=monday).delete()
    meter = CpuMeter(groups, DATABASE)
    began = time.perf_counter()
    chunks = queue_coaching(now)
    done = WeeklyPlan.objects.filter(
        week=monday, status__in=(WeeklyPlan.Status.READY, WeeklyPlan.Status.FALLBACK)
    ).exclude(emailed_at=None)
    finished, moved = 0, began
    while finished < n:
        time.sleep(0.1)
        meter.sample()
        now_finished = done.count()
        if now_finished > finished:
            finished, moved = now_finished, time.perf_counter()
        if time.perf_counter() - moved > timeout:
            raise RuntimeError(f"{finished} of {n} plans done; none more in {timeout:.0f} s")
    elapsed, cpu = time.perf_counter() - began, meter.stop()
    rows = WeeklyPlan.objects.filter(week=monday).values_list("status").annotate(n=Count("id"))
    return Run(elapsed, chunks, cpu, dict(rows))


def run_regime(regime: str, app, args, env: dict, llm, n: int) -> list[tuple[int, Run, int]]:
    """For each W: start W workers, run the batch --repeat times, stop them."""
    results = []
    for count in [int(w) for w in args.workers.split(",")]:
        runs, requests = [], 0
        with tempfile.TemporaryDirectory(prefix="ror-scaleout-") as logdir:
            purge_queue(app)
            workers = start_workers(count, env, args, Path(logdir))
            try:
                for _ in range(args.repeat if regime == "cpu" else 1):  # llm: long and steady
                    before = llm_requests(llm)
                    runs.append(run_batch(n, args.timeout, {w.pid for w in workers}))
                    requests += llm_requests(llm) - before
            except Exception:
                for log in sorted(Path(logdir).glob("*.log")):
                    print(f"----- {log.name} (last 3,000 characters)")
                    print(log.read_text(errors="replace")[-3000:])
                raise
            finally:
                stop_workers(workers)
        runs.sort(key=lambda r: r.elapsed)
        results.append((count, runs[len(runs) // 2], requests // len(runs)))
    return results


def llm_requests(llm) -> int:
    parent, _ = llm
    parent.send(("count", None))
    return parent.recv()


# --------------------------------------------------------------------------- report


def report(regime: str, args, n: int, results: list[tuple[int, Run, int]]) -> None:
    llm = regime == "llm"
    if llm:
        print(
            f"regime (a) LLM-bound: OpenAI coach, fake server L={args.latency:g} s per answer, "
            f"COACH_LLM_CONCURRENCY={args.llm_concurrency} per worker process"
        )
    else:
        print(
            "regime (b) CPU-bound: playbook coach (no LLM): the database and Python CPU "
            "(worker CPU wait: the workers' threads runnable but waiting for a core, in cores)"
        )
    print(
        f"  {'W':>2} {'elapsed s':>9} {'plans/s':>7} {'speed-up':>8} {'ideal':>5}"
        f" {'worker ms/plan':>14} {'db ms/plan':>10} {'worker cores':>12} {'db cores':>8}"
        f" {'machine cores':>13} {'chunks':>6}"
        + (f" {'N*L/(C*W) s':>11} {'LLM calls':>9}" if llm else f" {'worker CPU wait':>15}")
        + "  plans by status"
    )
    base = results[0][1].elapsed
    for count, run, calls in results:
        bound = n * args.latency / (args.llm_concurrency * count)
        workers, db = run.cpu.group, run.cpu.database
        print(
            f"  {count:>2} {run.elapsed:>9.2f} {n / run.elapsed:>7.1f}"
            f" {base / run.elapsed:>7.2f}x {count / results[0][0]:>4.1f}x"
            f" {workers / n * 1000:>14.1f} {db / n * 1000:>10.1f}"
            f" {workers / run.elapsed:>12.2f} {db / run.elapsed:>8.2f}"
            f" {run.cpu.machine * os.cpu_count():>13.2f} {run.chunks:>6}"
            + (f" {bound:>11.1f} {calls:>9,}" if llm else f" {run.cpu.waited / run.elapsed:>15.2f}")
            + f"  {', '.join(f'{k} {v:,}' for k, v in sorted(run.counts.items()))}"
        )
    print(f"  load average at the end: {os.getloadavg()[0]:.2f}")


def main() -> None:
    args = parse_args()
    # SIGTERM (e.g. `timeout`) unwinds like Ctrl-C, so the finally blocks stop the workers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    broker = BROKERS.get(args.broker, args.broker)
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": broker,
        "COACH_BATCH_CHUNK": str(args.chunk),
        # Digests are composed and "sent" for every plan as in production, into memory.
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(base_env)
    store_ids, how = prepare_database(args)
    n = len(store_ids)

    from config.celery import app

    app.conf.task_routes = {"coaching.tasks.generate_plans": {"queue": QUEUE}}
    print(
        f"database: postgresql {DATABASE}; {n:,} stores and managers in {args.regions} regions, "
        f"{WEEKS} weeks x 8 categories of scores ({how})"
    )
    print(
        f"machine: {os.cpu_count()} cores; broker {broker.split('@')[-1]}, queue {QUEUE}; "
        f"workers: celery worker -P {args.pool} --concurrency {args.concurrency}, one process "
        f"each; COACH_BATCH_CHUNK={args.chunk}; cpu regime: median of {args.repeat} runs per W"
    )
    print(
        "load average at start: {:.2f} {:.2f} {:.2f} (other processes share the cores)".format(
            *os.getloadavg()
        )
    )
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve_fake_llm, args=(args.latency, child), daemon=True)
    server.start()
    try:
        llm_url = parent.recv()
        for regime in args.regimes.split(","):
            env = worker_env(base_env, regime, args, llm_url)
            results = run_regime(regime, app, args, env, (parent, server), n)
            report(regime, args, n, results)
    finally:
        with contextlib.suppress(Exception):
            purge_queue(app, delete=True)
        parent.send(("stop", None))
        server.join(timeout=10)
        if server.is_alive():
            server.kill()


if __name__ == "__main__":
    main()
