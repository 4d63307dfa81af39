"""The mid-week nudge tick at chain scale, against the floor measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ror_chain python bench/nudges_benchmark.py

Needs the chain `bench/chain.py` builds (any size; 5,000 stores is the case that matters). Times:
- finding who is due (`due_nudges`) against one hand-written SQL query for the same pairs: the
  floor, since any implementation has to read the week's plans and their open tips;
- sending `--send` of them (`send_nudge`, mail to Django's in-memory backend), per nudge, against
  composing and "sending" the same email without the idempotency row and its lock.
Prints medians of `--repeat` runs and the ratios. Rolls back what it wrote.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

FLOOR_SQL = """
SELECT p.manager_id, p.store_id FROM coaching_weeklyplan p
JOIN auth_user u ON u.id = p.manager_id AND u.is_active AND u.email <> ''
JOIN scoring_profile pr ON pr.user_id = p.manager_id AND pr.nudges AND pr.role = 'store_manager'
JOIN scoring_profile_stores ps ON ps.profile_id = pr.id AND ps.store_id = p.store_id
WHERE p.week = %s AND p.status IN ('ready', 'fallback')
  AND (p.read_at IS NULL OR EXISTS (
        SELECT 1 FROM coaching_coachingtip t
        WHERE t.plan_id = p.id AND t.done_at IS NULL AND t.dismissed_reason = ''))
"""


def median_seconds(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--send", type=int, default=500)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction

    with transaction.atomic():  # the managers' addresses and the nudges are rolled back
        run(args, now_for(week_of_plans()), connection)
        transaction.set_rollback(True)


def week_of_plans() -> dt.date:
    from coaching.models import WeeklyPlan

    return WeeklyPlan.objects.order_by("-week").values_list("week", flat=True).first()


def now_for(week: dt.date) -> dt.datetime:
    """The chain's stores share a zone; NUDGE_WEEKDAY at NUDGE_HOUR there is nudge time."""
    import zoneinfo

    from django.conf import settings

    from scoring.models import Store

    zone = Store.objects.values_list("timezone", flat=True).first()
    return dt.datetime.combine(
        week + dt.timedelta(days=settings.NUDGE_WEEKDAY),
        dt.time(settings.NUDGE_HOUR, 5),
        tzinfo=zoneinfo.ZoneInfo(zone),
    )


def run(args, now: dt.datetime, connection) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core import mail
    from django.db.models import Value
    from django.db.models.functions import Concat

    from coaching.nudges.access import plan_to_nudge
    from coaching.nudges.selectors import due_nudges
    from coaching.nudges.services import compose, send_nudge
    from scoring.models import Store

    # The chain's logins have no address; a manager without one is never nudged.
    get_user_model().objects.update(email=Concat("username", Value("@chain.example")))
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    week = now.date() - dt.timedelta(days=now.weekday())
    stores = Store.objects.count()
    print(f"chain: {stores:,} stores, week of {week}, nudge time {now.isoformat()}")

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, [week])
            return cursor.fetchall()

    found, expected = due_nudges(now), floor()
    assert {(m, s) for m, s, _ in found} == {tuple(r) for r in expected}, "same pairs as the floor"
    ours = median_seconds(lambda: due_nudges(now), args.repeat)
    base = median_seconds(floor, args.repeat)
    print(f"who is due: {len(found):,} pairs")
    print(f"  due_nudges   {ours * 1000:8.1f} ms")
    print(f"  floor (SQL)  {base * 1000:8.1f} ms   ratio {ours / base:.2f}x")

    pairs = found[: args.send]
    start = time.perf_counter()
    for manager_id, store_id, due_week in pairs:
        send_nudge(manager_id, store_id, due_week, now=now)
    ours = (time.perf_counter() - start) / len(pairs)
    sent = len(mail.outbox)
    mail.outbox = []
    start = time.perf_counter()
    for manager_id, store_id, due_week in pairs:
        subject, body = compose(plan_to_nudge(manager_id, store_id, due_week))
        mail.send_mail(subject, body, None, ["m@example.com"])
    base = (time.perf_counter() - start) / len(pairs)
    print(f"sending {len(pairs):,} ({sent:,} mails, rolled back):")
    print(f"  send_nudge (row, lock, mail)  {ours * 1000:6.2f} ms a nudge")
    print(
        f"  floor (read, compose, mail)   {base * 1000:6.2f} ms a nudge   ratio {ours / base:.2f}x"
    )
    print(f"  a whole Thursday tick at this size: about {ours * len(found):.0f} s of worker time")


if __name__ == "__main__":
    main()
