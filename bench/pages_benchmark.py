"""Page benchmark: server time and queries of the main pages on a small and a large demo chain.

    python bench/pages_benchmark.py [--small 24] [--large 240] [--repeat 5]
                                    [--db FILE]

Builds the demo chain (scores, people, modules, goals, coaching history, this week's plans) with
`--small` stores, times each page through Django's test client (the median of `--repeat` runs,
after one warm-up), then rebuilds the demo with `--large` stores and does it again. A region has a
third of the stores. Prints, per page, the queries and milliseconds at both sizes and the ratio of
the times: pages are meant to cost the same number of queries whatever the chain's size, and time
that grows with what the page shows (a region's rows), not with the whole chain. The timed runs
hit the impact report's cache (coaching.tracking.selectors.region_impact); the first, uncached view of
each page is printed too.
Uses DATABASE_URL when set, else a fresh SQLite file.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PAGES = [
    ("manager.s001", "/week/"),
    ("manager.s001", "/goals/"),
    ("lead.north", "/regions/north/"),
    ("lead.north", "/stores/S001/"),
    ("trainer", "/studio/"),
]


def build(stores: int) -> float:
    from django.core.management import call_command

    from coaching.demo import create_demo_goals, create_demo_history, load_demo_modules

    start = time.perf_counter()
    out = io.StringIO()
    call_command("demo", stores=stores, stdout=out)
    load_demo_modules()
    create_demo_goals()
    create_demo_history()
    call_command("generate_coaching", stdout=out)
    return time.perf_counter() - start


def measure(repeat: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    users = get_user_model().objects
    results = {}
    for username, url in PAGES:
        client = Client()
        client.force_login(users.get(username=username))
        cache.clear()
        start = time.perf_counter()
        assert client.get(url).status_code == 200, url
        cold = (time.perf_counter() - start) * 1000
        times = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                client.get(url)
                times.append(time.perf_counter() - start)
        results[(username, url)] = (len(queries), statistics.median(times) * 1000, cold)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=24)
    parser.add_argument("--large", type=int, default=240)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--db", default=str(Path(tempfile.gettempdir()) / "ror-coach-pages.sqlite3")
    )
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        Path(args.db).unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")
    sizes = {}
    for stores in (args.small, args.large):
        seconds = build(stores)
        print(f"built the demo with {stores} stores in {seconds:.1f} s")
        sizes[stores] = measure(args.repeat)
    small, large = sizes[args.small], sizes[args.large]
    print(f"\n{args.small} -> {args.large} stores")
    print(f"{'page':<32} {'queries':>13} {'ms (median)':>20} {'ratio':>6} {'first view, ms':>22}")
    for username, url in PAGES:
        (q1, t1, c1), (q2, t2, c2) = small[(username, url)], large[(username, url)]
        label = f"{username} {url}"
        print(
            f"{label:<32} {q1:>5} -> {q2:<5} {t1:>8.1f} -> {t2:<8.1f} {t2 / t1:>5.2f}x "
            f"{c1:>9.1f} -> {c2:<9.1f}"
        )


if __name__ == "__main__":
    main()
