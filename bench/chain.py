"""A real chain's data in a PostgreSQL database: the ground the chain-scale benchmarks stand on.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ror_chain \\
        python bench/chain.py [--stores 5000] [--weeks 104] [--per-region 1000]

Wipes that database, migrates it and loads `stores` stores in regions of `per-region`, each with
`weeks` weeks of eight category scores (5,000 x 104 x 8 = 4.16 million rows) and weekly sales,
written with COPY; a manager per store (login `m00001`... password `chain-2026`), a lead per region
(`lead.r1`...), an admin (`admin`), one goal per manager, and the last eight weeks of plans with
three tips each, half of them done. The published demo modules too. Prints what it built and how
long each part took. Deterministic for a given size.
"""

import argparse
import datetime as dt
import io
import math
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "chain-2026"  # noqa: S105 (a benchmark's throwaway logins, printed on purpose)


def copy_rows(cursor, table: str, columns: str, rows) -> int:
    """COPY rows (tuples) into table, streamed in 8 MB chunks."""
    count = 0
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
            count += 1
            if buffer.tell() > 8_000_000:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=5000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--per-region", type=int, default=1000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database the generator may wipe")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    timings = {}
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0)
    from coaching.demo import load_demo_modules
    from coaching.models import CoachingTip, Goal, TrainingModule, WeeklyPlan
    from scoring.models import Category, Profile, Region, Role, Store
    from scoring.services import ROLE_GROUPS
    from scoring.weeks import week_start, weeks_back

    load_demo_modules()
    timings["migrate and modules"] = time.perf_counter() - began

    began = time.perf_counter()
    rng = random.Random(2026)
    regions = Region.objects.bulk_create(
        [
            Region(code=f"r{n + 1}", name=f"Region {n + 1}")
            for n in range(math.ceil(args.stores / args.per_region))
        ]
    )
    stores = Store.objects.bulk_create(
        [
            Store(code=f"C{n + 1:05d}", name=f"Store {n + 1}", region=regions[n // args.per_region])
            for n in range(args.stores)
        ],
        batch_size=5000,
    )
    User = get_user_model()
    hashed = make_password(PASSWORD)
    users = User.objects.bulk_create(
        [
            User(username=f"m{n + 1:05d}", first_name="Sam", password=hashed)
            for n in range(args.stores)
        ]
        + [User(username=f"lead.{r.code}", first_name="Lee", password=hashed) for r in regions]
        + [User(username="admin", password=hashed, is_superuser=True, is_staff=True)],
        batch_size=5000,
    )
    managers, leads, admin = users[: args.stores], users[args.stores : -1], users[-1]
    profiles = Profile.objects.bulk_create(
        [Profile(user=u, role=Role.STORE_MANAGER) for u in managers]
        + [Profile(user=u, role=Role.REGIONAL_LEAD) for u in leads]
        + [Profile(user=admin, role=Role.ADMIN)],
        batch_size=5000,
    )
    Profile.stores.through.objects.bulk_create(
        [
            Profile.stores.through(profile=p, store=s)
            for p, s in zip(profiles[: args.stores], stores, strict=True)
        ],
        batch_size=5000,
    )
    Profile.regions.through.objects.bulk_create(
        [
            Profile.regions.through(profile=p, region=r)
            for p, r in zip(profiles[args.stores : -1], regions, strict=True)
        ]
    )
    groups = {role: Group.objects.get(name=name) for role, name in ROLE_GROUPS.items()}
    User.groups.through.objects.bulk_create(
        [User.groups.through(user=u, group=groups[Role.STORE_MANAGER]) for u in managers]
        + [User.groups.through(user=u, group=groups[Role.REGIONAL_LEAD]) for u in leads]
        + [User.groups.through(user=admin, group=groups[Role.ADMIN])],
        batch_size=5000,
    )
    timings["chain and people"] = time.perf_counter() - began

    # Scores: each store-category has a level, a slow trend and noise; a few stores slide.
    began = time.perf_counter()
    categories = list(Category.objects.filter(active=True).order_by("display_order"))
    latest = weeks_back(week_start(timezone.localdate()), 1)
    weeks = [weeks_back(latest, n) for n in range(args.weeks)][::-1]
    now = timezone.now().isoformat()

    def score_rows():
        for store in stores:
            level = {c.id: rng.uniform(45, 85) for c in categories}
            slope = {c.id: rng.gauss(0, 0.08) for c in categories}
            for number, week in enumerate(weeks):
                for category in categories:
                    value = level[category.id] + slope[category.id] * number + rng.gauss(0, 2.0)
                    value = min(100.0, max(0.0, value))
                    yield (
                        store.id,
                        category.id,
                        week,
                        f"{value:.1f}",
                        rng.randint(5, 40),
                        "import",
                        now,
                    )

    def kpi_rows():
        for store in stores:
            sales = rng.uniform(8_000, 20_000)
            for week in weeks:
                sales *= 1 + rng.gauss(0.001, 0.01)
                yield (store.id, week, "sales", f"{sales:.2f}", now)

    with transaction.atomic(), connection.cursor() as cursor:
        scores = copy_rows(
            cursor,
            "scoring_categoryscore",
            "store_id, category_id, week, score, responses, source, updated_at",
            score_rows(),
        )
        kpis = copy_rows(
            cursor, "scoring_kpireading", "store_id, week, kpi, value, updated_at", kpi_rows()
        )
    timings["scores and KPIs (COPY)"] = time.perf_counter() - began

    began = time.perf_counter()
    due = latest + dt.timedelta(weeks=10)
    Goal.objects.bulk_create(
        [
            Goal(
                manager=m,
                store=s,
                category=categories[n % len(categories)],
                target_score="80.0",
                due_date=due,
                intent="Lift this category by spring",
                baseline_score="65.0",
            )
            for n, (m, s) in enumerate(zip(managers, stores, strict=True))
        ],
        batch_size=5000,
    )
    modules = {m.category_id: m for m in TrainingModule.objects.filter(status="published")}
    plan_weeks = weeks[-8:]
    plans = WeeklyPlan.objects.bulk_create(
        [
            WeeklyPlan(
                manager=m,
                store=s,
                week=week + dt.timedelta(weeks=1),
                data_week=week,
                status="ready",
                provider="playbook",
                focus=[{"category": c.code} for c in categories[:3]],
                read_at=timezone.now(),
            )
            for m, s in zip(managers, stores, strict=True)
            for week in plan_weeks
        ],
        batch_size=5000,
    )
    done_at = timezone.now()
    tips = CoachingTip.objects.bulk_create(
        [
            CoachingTip(
                plan=plan,
                category=c,
                order=order,
                title="Run a five-minute huddle on the day's promise",
                why="A benchmark tip: the chain generator writes the same words everywhere.",
                steps=["Gather the shift at opening", "Name one promise for today"],
                module=modules.get(c.id),
                done_at=done_at if rng.random() < 0.5 else None,
            )
            for plan in plans
            for order, c in enumerate(categories[(plan.id % 3) :: 3][:3])
        ],
        batch_size=5000,
    )
    timings["goals, plans and tips"] = time.perf_counter() - began
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings["ANALYZE"] = time.perf_counter() - began

    print(f"chain: {len(regions)} regions, {len(stores):,} stores, {len(weeks)} weeks")
    print(
        f"rows: {scores:,} scores, {kpis:,} KPI readings, {len(plans):,} plans, {len(tips):,} tips"
    )
    print(f"logins: m00001 (manager of C00001), lead.r1, admin; password {PASSWORD}")
    for name, seconds in timings.items():
        print(f"{name:28} {seconds:7.1f} s")


if __name__ == "__main__":
    main()
