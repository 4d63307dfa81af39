"""Import benchmark: how long a large score CSV takes, and whether memory stays flat.

    python bench/import_benchmark.py [--rows 1000000] [--db /tmp/ror-bench.sqlite3]

Builds a fresh SQLite database (or uses DATABASE_URL if set), writes a CSV of `rows` scores
(stores x 8 categories x weeks), imports a tenth of it and then all of it, then re-imports the
whole file (every row unchanged). Prints the figures measured in this run.
"""

import argparse
import csv
import datetime as dt
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    """Samples resident memory every 20 ms while the block runs."""

    def __enter__(self):
        self.start = self.peak = rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib())


def write_csv(path: Path, stores: list[str], categories: list[str], weeks: list[dt.date]) -> int:
    rows = 0
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["store_code", "week", "category", "score", "responses"])
        for s_index, store in enumerate(stores):
            for w_index, week in enumerate(weeks):
                for c_index, category in enumerate(categories):
                    value = 40 + (s_index * 7 + w_index * 3 + c_index * 11) % 55 + 0.5
                    out.writerow([store, week.isoformat(), category, value, 5 + w_index % 40])
                    rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "ror-bench.sqlite3"))
    args = parser.parse_args()

    if "DATABASE_URL" not in os.environ:
        for suffix in ("", "-wal", "-shm"):
            Path(args.db + suffix).unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from scoring.imports import import_scores
    from scoring.models import Category, CategoryScore, Region, Store
    from scoring.weeks import week_start, weeks_back

    call_command("migrate", verbosity=0)
    CategoryScore.objects.all().delete()
    categories = list(Category.objects.values_list("code", flat=True))
    weeks_count = 125
    store_count = max(1, args.rows // (len(categories) * weeks_count))
    region, _ = Region.objects.get_or_create(code="bench", defaults={"name": "Bench"})
    Store.objects.bulk_create(
        [Store(code=f"B{i:05d}", name=f"Bench {i}", region=region) for i in range(store_count)],
        ignore_conflicts=True,
    )
    stores = [f"B{i:05d}" for i in range(store_count)]
    last = weeks_back(week_start(dt.date.today()), 1)
    weeks = [weeks_back(last, i) for i in range(weeks_count)]

    workdir = Path(tempfile.mkdtemp(prefix="ror-bench-"))
    small, large = workdir / "small.csv", workdir / "large.csv"
    small_rows = write_csv(small, stores[: max(1, store_count // 10)], categories, weeks)
    large_rows = write_csv(large, stores, categories, weeks)
    print(f"database: {connection.vendor}; files: {small_rows:,} and {large_rows:,} rows")

    def timed(path: Path, label: str):
        with PeakRss() as memory, path.open("rb") as stream:
            started = time.perf_counter()
            result = import_scores(stream)
            elapsed = time.perf_counter() - started
        assert result.ok, result.errors[:5]
        print(
            f"{label:<28} {result.rows:>9,} rows {elapsed:7.2f} s "
            f"{result.rows / elapsed:>10,.0f} rows/s  peak RSS +{memory.peak - memory.start:6.1f} MiB"
            f"  ({result.created:,} created, {result.updated:,} updated, "
            f"{result.unchanged:,} unchanged)"
        )
        return elapsed, memory.peak - memory.start

    _, small_mem = timed(small, "import, tenth of the file")
    CategoryScore.objects.all().delete()
    large_time, large_mem = timed(large, "import, whole file")
    timed(large, "re-import, all unchanged")
    print(f"memory growth whole file / tenth: {large_mem / max(small_mem, 0.1):.2f}x")
    print(f"target 1,000,000 rows under 60 s: {'met' if large_time < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
