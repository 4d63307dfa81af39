"""Import benchmark: the score import against its floor, and whether memory stays flat.

    python bench/import_benchmark.py [--rows 1000000] [--db /tmp/ror-bench.sqlite3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ror_h_import python bench/import_benchmark.py

Builds a fresh SQLite database (or uses DATABASE_URL if set), writes a CSV of `rows` scores
(stores x 8 categories x weeks), and for a tenth of the file and then all of it times, on an
empty table, first the floor and then the project's import; then re-imports the whole file (every
row unchanged) both ways, each timed run starting from a settled database (WAL checkpointed, or
vacuumed and checkpointed). Prints the figures measured in this run; with `--repeat N` each is
run N times, alternating, and the best of each is compared.

The floor is the least any importer of this file into `scoring_categoryscore` has to do, with no
validation, no error reporting and no change counting: `csv.reader`, a dict look-up of the store
and category ids, then on SQLite one `sqlite3` executemany upsert on the table's unique key, and
on PostgreSQL a psycopg `COPY` into a temporary table and one `INSERT ... ON CONFLICT DO UPDATE`.
"""

import argparse
import cProfile
import csv
import datetime as dt
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TABLE = "scoring_categoryscore"
COLUMNS = "store_id, category_id, week, source, score, responses, updated_at"
UPSERT = (
    "ON CONFLICT (store_id, category_id, week, source) DO UPDATE SET score = excluded.score, "
    "responses = excluded.responses, updated_at = excluded.updated_at"
)
TARGET_RATIO = 2.0


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

    @property
    def growth(self) -> float:
        return self.peak - self.start


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


def floor_rows(path: Path, store_ids: dict, category_ids: dict):
    """The file's rows as the table wants them, with nothing checked: the floor's only Python."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for store, week, category, score, responses in reader:
            yield store_ids[store], category_ids[category], week, "import", score, responses or None


def sqlite_floor(path: Path, db: str, store_ids: dict, category_ids: dict) -> int:
    """Raw csv + sqlite3: one transaction, one executemany upsert, under the pragmas Django's
    connection runs with (foreign keys checked, synchronous=NORMAL on the WAL)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    con = sqlite3.connect(db, isolation_level=None, timeout=20)
    try:
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("BEGIN IMMEDIATE")
        cursor = con.executemany(
            f"INSERT INTO {TABLE} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, '{now}') "  # noqa: S608
            + UPSERT,
            floor_rows(path, store_ids, category_ids),
        )
        con.execute("COMMIT")
        return cursor.rowcount
    finally:
        con.close()


def postgres_floor(path: Path, url: str, store_ids: dict, category_ids: dict) -> int:
    """psycopg COPY into a temporary table, then one INSERT ... ON CONFLICT DO UPDATE."""
    import psycopg

    with psycopg.connect(url) as con, con.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE floor_staging (store_id BIGINT, category_id BIGINT, week DATE, "
            "source VARCHAR(16), score NUMERIC(4, 1), responses INTEGER) ON COMMIT DROP"
        )
        with cursor.copy(
            "COPY floor_staging (store_id, category_id, week, source, score, responses) FROM STDIN"
        ) as copy:
            for row in floor_rows(path, store_ids, category_ids):
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {TABLE} ({COLUMNS}) SELECT store_id, category_id, week, source, score, "  # noqa: S608
            f"responses, now() FROM floor_staging {UPSERT}"
        )
        return cursor.rowcount


def report(label: str, rows: int, elapsed: float, memory: PeakRss, extra: str = "") -> None:
    print(
        f"{label:<34} {rows:>9,} rows {elapsed:7.2f} s {rows / elapsed:>10,.0f} rows/s  "
        f"peak RSS +{memory.growth:6.1f} MiB{extra}"
    )


class Bench:
    """One database, one pair of files: times the floor and the import, each on the same table."""

    def __init__(self, args) -> None:
        from django.db import connection

        from scoring.models import Category, Store

        self.connection = connection
        self.db = args.db
        self.profile = args.profile
        self.repeat = args.repeat
        self.store_ids = dict(Store.objects.values_list("code", "id"))
        self.category_ids = dict(Category.objects.values_list("code", "id"))

    def empty_table(self) -> None:
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                cursor.execute(f"TRUNCATE {TABLE}")
            else:
                cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608

    def settle(self) -> None:
        """Start each timed run from the same state: no run pays for the last one's writes (the
        SQLite WAL checkpointed, PostgreSQL's dead rows vacuumed and dirty pages written)."""
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                cursor.execute(f"VACUUM ANALYZE {TABLE}")
                cursor.execute("CHECKPOINT")
            else:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def floor(self, path: Path, label: str) -> tuple[float, PeakRss]:
        self.connection.close()  # the floor has the database to itself
        url = os.environ["DATABASE_URL"]
        with PeakRss() as memory:
            started = time.perf_counter()
            if url.startswith("postgres"):
                rows = postgres_floor(path, url, self.store_ids, self.category_ids)
            else:
                rows = sqlite_floor(path, self.db, self.store_ids, self.category_ids)
            elapsed = time.perf_counter() - started
        report(label, rows, elapsed, memory)
        return elapsed, memory

    def project(self, path: Path, label: str, profile: bool = False) -> tuple[float, PeakRss]:
        from scoring.imports import import_scores

        profiler = cProfile.Profile() if profile and self.profile else None
        with PeakRss() as memory, path.open("rb") as stream:
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            result = import_scores(stream)
            if profiler:
                profiler.disable()
            elapsed = time.perf_counter() - started
        assert result.ok, result.errors[:5]
        counts = f"  ({result.created:,} new, {result.updated:,} upd, {result.unchanged:,} same)"
        report(label, result.rows, elapsed, memory, counts)
        if profiler:
            profiler.dump_stats(self.profile)
        return elapsed, memory

    def compare(
        self, path: Path, what: str, *, reimport: bool = False, profile: bool = False
    ) -> tuple[float, PeakRss]:
        """Floor then import of one file, on an empty table unless `reimport`; `--repeat` times,
        alternating, the best time of each kept (the machine is shared)."""
        prefix = "re-import" if reimport else "import"
        floors, imports = [], []
        for _ in range(self.repeat):
            if not reimport:
                self.empty_table()
            self.settle()
            floors.append(self.floor(path, f"floor, {what}"))
            if not reimport:
                self.empty_table()
            self.settle()
            imports.append(self.project(path, f"{prefix}, {what}", profile=profile))
        floor_time = min(took for took, _ in floors)
        took, memory = min(imports, key=lambda pair: pair[0])
        ratio = took / floor_time
        verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
        print(
            f"  {prefix} {took:.2f} s / floor {floor_time:.2f} s = {ratio:.2f}x "
            f"(target <= {TARGET_RATIO:g}x: {verdict})"
        )
        return took, memory


def setup(args) -> tuple[Path, Path]:
    """The database, its stores and the two files."""
    from django.core.management import call_command
    from django.db import connection

    from scoring.models import Category, Region, Store
    from scoring.weeks import week_start, weeks_back

    call_command("migrate", verbosity=0)
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
    return workdir, small, large


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "ror-bench.sqlite3"))
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, best kept")
    parser.add_argument("--profile", help="write a cProfile of the whole-file import here")
    args = parser.parse_args()

    if "DATABASE_URL" not in os.environ:
        for suffix in ("", "-wal", "-shm"):
            Path(args.db + suffix).unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    workdir, small, large = setup(args)
    bench = Bench(args)
    _, small_memory = bench.compare(small, "tenth of the file")
    took, large_memory = bench.compare(large, "whole file", profile=True)
    bench.compare(large, "whole file, unchanged", reimport=True)
    growth = large_memory.growth / max(small_memory.growth, 0.1)
    print(f"memory growth whole file / tenth: {growth:.2f}x")
    print(f"target 1,000,000 rows under 60 s: {'met' if took < 60 else 'NOT met'}")
    shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
