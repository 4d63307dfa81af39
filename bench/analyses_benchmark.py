"""The hourly analyses on a generated chain (bench/chain.py): each region's coaching impact and
the chain's sales drivers, timed one by one.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ror_chain \\
        python bench/analyses_benchmark.py [--repeat 1]

Computes what `refresh_analyses` computes (`coaching_impact` per region, `compute_chain_drivers`)
without keeping anything: it reads the database and writes nothing, the cache included. Prints
each analysis's seconds and queries, the total, and each against a baseline of the same run: a
plain SELECT of the raw score rows the analysis reads (the region's weeks for an impact report,
the chain's 57 weeks for the drivers), read twice and the faster kept so that it is warm, so the
ratios compare across machine states. With `--repeat`, the fastest of the runs.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RAW_SCORES = (
    "SELECT store_id, category_id, week, score FROM scoring_categoryscore "
    "WHERE week BETWEEN %s AND %s AND store_id = ANY(%s)"
)


def fastest(repeat: int, run) -> tuple[float, int]:
    """Seconds of the fastest of `repeat` runs, and the queries one run makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    best, queries = float("inf"), 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - began)
        queries = len(captured)
    return best, queries


def raw_read(store_ids: list[int], start, end):
    """The baseline: the raw score rows, fetched and nothing else."""
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            cursor.execute(RAW_SCORES, [start, end, list(store_ids)])
            cursor.fetchall()

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to the chain's PostgreSQL database (bench/chain.py)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from coaching.tracking.selectors import coaching_impact, first_coaching_week
    from scoring.drivers import compute_chain_drivers
    from scoring.models import Store
    from scoring.selectors import latest_scored_week
    from scoring.weeks import weeks_back

    print(f"chain: {Store.objects.count():,} stores; repeat {args.repeat}")
    print(f"{'analysis':<24} {'seconds':>8} {'queries':>8} {'baseline s':>11} {'x baseline':>11}")
    totals = [0.0, 0.0]

    def line(name: str, seconds: float, queries: int, baseline: float) -> None:
        totals[0] += seconds
        totals[1] += baseline
        ratio = seconds / baseline
        print(f"{name:<24} {seconds:8.2f} {queries:8d} {baseline:11.2f} {ratio:11.1f}", flush=True)

    for region in sorted(set(Store.objects.values_list("region_id", flat=True))):
        ids = sorted(Store.objects.filter(region_id=region).values_list("id", flat=True))
        week, began = latest_scored_week(ids), first_coaching_week(ids)
        if week is None or began is None:
            print(f"region {region}: no scores or no coaching, skipped")
            continue
        baseline, _ = fastest(max(2, args.repeat), raw_read(ids, weeks_back(began, 4), week))
        seconds, queries = fastest(
            args.repeat, lambda ids=ids, s=began, e=week: coaching_impact(ids, start=s, end=e)
        )
        line(f"impact, region {region}", seconds, queries, baseline)
    week = latest_scored_week(None)
    stores = list(Store.objects.values_list("id", flat=True))
    baseline, _ = fastest(max(2, args.repeat), raw_read(stores, weeks_back(week, 56), week))
    seconds, queries = fastest(args.repeat, lambda: compute_chain_drivers(week))
    line("chain sales drivers", seconds, queries, baseline)
    print(f"{'total':<24} {totals[0]:8.2f} {'':8} {totals[1]:11.2f} {totals[0] / totals[1]:11.1f}")


if __name__ == "__main__":
    main()
