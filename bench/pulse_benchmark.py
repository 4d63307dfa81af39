"""Pulse benchmark: a chain's day of answers through the submit path, then into the scores.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ror_pulse_bench \\
        python bench/pulse_benchmark.py [--stores 5000] [--per-store 50] [--clients 8]

Builds `stores` stores in a fresh database, then `clients` threads (each its own database
connection) submit `per-store` answers for every store through `scoring.pulse.services.
submit_pulse`, the write behind the public form, the kiosk and the device API, with the roll-up
left to the batch as it is with a broker. A monitor samples `pg_locks` every 50 ms for waits.
Then one `roll_answers()` folds the day into the scores. The baseline, measured in the same run
on the same tables, is the floor of the write: the same rows inserted with plain INSERTs on a raw
psycopg connection, same threads. Prints the figures measured; asserts nothing.
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class LockWatch:
    """Samples ungranted locks on the database while the block runs."""

    def __init__(self, dsn):
        self.dsn, self.max_waiting, self.samples_waiting, self.samples = dsn, 0, 0, 0

    def __enter__(self):
        import psycopg

        self._conn = psycopg.connect(self.dsn, autocommit=True)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.05):
            waiting = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted"
            ).fetchone()[0]
            self.samples += 1
            self.samples_waiting += waiting > 0
            self.max_waiting = max(self.max_waiting, waiting)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._conn.close()


def run_threads(clients, work):
    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=5000)
    parser.add_argument("--per-store", type=int, default=50)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database the benchmark may wipe")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    with connection.cursor() as cursor:  # a clean slate, seed migrations included
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0)
    from scoring.models import Audience, CategoryScore, Region, Store, Submission
    from scoring.pulse import access, services
    from scoring.weeks import week_start

    services.schedule_roll = lambda: None  # as with a broker: the batch rolls, not the request
    region = Region.objects.create(code="bench", name="Bench")
    Store.objects.bulk_create(
        [Store(code=f"B{n:05d}", name=f"Store {n}", region=region) for n in range(args.stores)],
        batch_size=2000,
    )
    store_ids = list(Store.objects.values_list("id", flat=True))
    stores = {s.id: s for s in Store.objects.all()}
    customer = list(access.questions_for(Audience.CUSTOMER).select_related("category"))
    by_category = {}
    for q in customer:
        by_category.setdefault(q.category_id, []).append(q)
    import datetime as dt

    week = week_start(dt.date.today())
    total = args.stores * args.per_store
    jobs = [store_ids[n % len(store_ids)] for n in range(total)]
    random.Random(7).shuffle(jobs)
    dsn_text = os.environ["DATABASE_URL"]

    def answers_for(n):
        rng = random.Random(n)
        return {rng.choice(qs).id: rng.randint(3, 5) for qs in by_category.values()}

    # Baseline: the floor of the same writes, plain INSERTs on raw psycopg connections.
    import psycopg

    floor_latencies = []

    def floor(worker):
        conn = psycopg.connect(dsn_text.replace("postgres://", "postgresql://"), autocommit=False)
        mine = []
        for n in range(worker, total, args.clients):
            began = time.perf_counter()
            with conn.transaction():
                sub = conn.execute(
                    "INSERT INTO scoring_submission (store_id, week, submitted_at, audience, channel,"
                    " comment, counted, rolled) VALUES (%s, %s, now(), 'customer', 'link', '', true,"
                    " false) RETURNING id",
                    (jobs[n], week),
                ).fetchone()[0]
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO scoring_answer (submission_id, question_id, value) VALUES (%s, %s, %s)",
                        [(sub, q, v) for q, v in answers_for(n).items()],
                    )
            mine.append(time.perf_counter() - began)
        conn.close()
        floor_latencies.extend(mine)

    with LockWatch(dsn_text.replace("postgres://", "postgresql://")) as floor_locks:
        floor_seconds = run_threads(args.clients, floor)
    Submission.objects.all().delete()

    latencies = []

    def submit(worker):
        mine = []
        for n in range(worker, total, args.clients):
            began = time.perf_counter()
            services.submit_pulse(
                store=stores[jobs[n]],
                audience=Audience.CUSTOMER,
                answers=answers_for(n),
                comment="Quick and friendly" if n % 5 == 0 else "",
                channel="link",
                week=week,
            )
            mine.append(time.perf_counter() - began)
        latencies.extend(mine)
        connections.close_all()

    with LockWatch(dsn_text.replace("postgres://", "postgresql://")) as locks:
        seconds = run_threads(args.clients, submit)

    began = time.perf_counter()
    rolled = services.roll_answers()
    roll_seconds = time.perf_counter() - began
    scores = CategoryScore.objects.filter(week=week).count()

    print(f"machine: {os.cpu_count()} cores; PostgreSQL; {args.clients} concurrent clients")
    print(f"chain: {args.stores:,} stores x {args.per_store} answers = {total:,} answers (a day)")
    for name, lat, secs, watch in (
        ("floor (raw INSERTs)", floor_latencies, floor_seconds, floor_locks),
        ("submit_pulse", latencies, seconds, locks),
    ):
        print(
            f"{name:20} {len(lat) / secs:8,.0f} answers/s  p50 {statistics.median(lat) * 1000:6.1f} ms"
            f"  p95 {percentile(lat, 0.95) * 1000:6.1f} ms  p99 {percentile(lat, 0.99) * 1000:6.1f} ms"
            f"  lock waits seen in {watch.samples_waiting}/{watch.samples} samples (max {watch.max_waiting})"
        )
    print(
        f"ratio submit/floor: p95 {percentile(latencies, 0.95) / percentile(floor_latencies, 0.95):.2f}x,"
        f" wall time {seconds / floor_seconds:.2f}x the floor's"
    )
    print(f"roll-up: {rolled:,} answers into {scores:,} category scores in {roll_seconds:.1f} s")


if __name__ == "__main__":
    main()
