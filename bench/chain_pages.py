"""Pages and API lists on a generated chain (bench/chain.py): server time and queries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ror_chain \\
        python bench/chain_pages.py [--repeat 20] [--only region]

Each page is requested through Django's test client as its user: first with an empty cache (the
first view after an import), then `--repeat` times warm. Prints queries, the first view and the
warm p50 / p95 in milliseconds. With CELERY_BROKER_URL set, the slow analyses and the overviews'
figures are off the request path as deployed: the script first times `refresh_analyses` (beat's
hourly job) and `warm_overviews` (queued after every change of the scores), and no request
computes them; the first view is then a user's first request after the warm-up. Run it on a 1,000-store and a 5,000-store chain to compare; the
baseline of each run is the cheapest request of the same run (the login page) so the ratios hold
across machine states.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PAGES = [
    ("baseline: login page", None, "/accounts/login/"),
    ("region page (lead)", "lead.r1", "/regions/r1/"),
    ("region page 7, by ROR", "lead.r1", "/regions/r1/?sort=ror&page=7"),
    ("region page, search", "lead.r1", "/regions/r1/?q=C0009"),
    ("store page (lead)", "lead.r1", "/stores/C00001/"),
    ("manager's week", "m00001", "/week/"),
    ("manager's goals", "m00001", "/goals/"),
    ("chain overview (admin)", "admin", "/regions/"),
    ("API stores (admin)", "admin", "/api/v1/stores/"),
    ("API scores (lead)", "lead.r1", "/api/v1/scores/"),
    ("API plans (manager)", "m00001", "/api/v1/plans/"),
    ("API progress (lead)", "lead.r1", "/api/v1/progress/"),
    ("API impact (lead)", "lead.r1", "/api/v1/impact/?region=r1"),
    ("API drivers (lead)", "lead.r1", "/api/v1/drivers/"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", default="", help="run the pages whose name holds this")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from scoring.models import Store

    stores = Store.objects.count()
    print(f"chain: {stores:,} stores; database: {connection.vendor}; repeat {args.repeat}")
    offline_mode = bool(os.environ.get("CELERY_BROKER_URL"))
    if offline_mode:
        # As deployed with a broker: the analyses are the hourly task's, not the requests'.
        from coaching.tracking.chain import warm_overviews
        from coaching.tracking.services import refresh_analyses
        from scoring import offline, snapshots

        no_worker = type("NoWorker", (), {"send_task": lambda *a, **k: None})()
        offline.current_app = snapshots.current_app = no_worker
        cache.clear()
        began = time.perf_counter()
        computed = refresh_analyses()
        print(f"refresh_analyses: {computed} analyses in {time.perf_counter() - began:.1f} s")
        began = time.perf_counter()
        warmed = warm_overviews()
        print(f"warm_overviews (after an import): {warmed} in {time.perf_counter() - began:.1f} s")
    print(f"{'page':26} {'status':>6} {'queries':>7} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8}")
    users = {
        u.username: u for u in get_user_model().objects.filter(username__in={p[1] for p in PAGES})
    }
    for name, username, path in PAGES:
        if args.only and args.only not in name and not name.startswith("baseline"):
            continue
        client = Client()
        if username:
            client.force_login(users[username])
        if not offline_mode:
            cache.clear()  # embedded: the first view after an import computes what it shows
        queries = []

        def count(execute, sql, params, many, context, seen=queries):
            seen.append(sql)
            return execute(sql, params, many, context)

        began = time.perf_counter()
        with connection.execute_wrapper(count):
            response = client.get(path)
        first = (time.perf_counter() - began) * 1000
        times = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - began) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        print(
            f"{name:26} {response.status_code:>6} {len(queries):>7} {first:>9.0f}"
            f" {statistics.median(times):>8.0f} {p95:>8.0f}"
        )


if __name__ == "__main__":
    main()
