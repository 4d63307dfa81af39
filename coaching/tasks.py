"""Celery entry points: thin wrappers over the rooms' services.

Idempotent under at-least-once delivery (acks_late): plans are unique per manager, store and week
and reused when their inputs have not changed, so a redelivered task writes nothing twice. A
database that restarts or drops connections mid-task fails the task with OperationalError or
InterfaceError: it is retried with backoff (the same task id, so it takes its claims back).
"""

import datetime as dt
import logging
import zoneinfo

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from scoring.access import all_stores
from scoring.weeks import week_start

from .plans import batch
from .plans.access import coached_pairs, uncoached_pairs
from .tracking.services import send_lead_summaries as send_summaries

log = logging.getLogger(__name__)


# A restart or a dropped connection: the task runs again, the plans it saved are reused.
RETRY_ON_DATABASE_ERRORS = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 8,
}


def _local_times(now: dt.datetime):
    """(store id, the store's local time now) for every store."""
    for store_id, tz in all_stores().values_list("id", "timezone"):
        try:
            yield store_id, now.astimezone(zoneinfo.ZoneInfo(tz))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            yield store_id, now.astimezone(dt.UTC)


def _scheduled(local: dt.datetime) -> dt.datetime:
    """When the store's current local week was due: its Monday at COACH_SCHEDULE_HOUR."""
    monday = week_start(local.date())
    return dt.datetime.combine(monday, dt.time(settings.COACH_SCHEDULE_HOUR), local.tzinfo)


def stores_due(now: dt.datetime) -> dict[dt.date, list[int]]:
    """Stores whose local time is Monday at COACH_SCHEDULE_HOUR, by their local coaching week."""
    due: dict[dt.date, list[int]] = {}
    for store_id, local in _local_times(now):
        if local.weekday() == 0 and local.hour == settings.COACH_SCHEDULE_HOUR:
            due.setdefault(week_start(local.date()), []).append(store_id)
    return due


def stores_catching_up(now: dt.datetime) -> dict[dt.date, list[int]]:
    """Stores whose local week was due an hour or more ago, and less than COACH_CATCHUP_HOURS:
    a run missed then (beat or broker down) is made up for by a later hourly tick."""
    window = dt.timedelta(hours=settings.COACH_CATCHUP_HOURS)
    late: dict[dt.date, list[int]] = {}
    for store_id, local in _local_times(now):
        since = local - _scheduled(local)
        if dt.timedelta(hours=1) <= since < window:
            late.setdefault(week_start(local.date()), []).append(store_id)
    return late


def queue_coaching(now: dt.datetime) -> int:
    """The stores due now, every pair of them; and the pairs a missed run left without a plan
    (none ready or fallen back, no live claim). Chunks enqueued."""
    enqueued = 0
    pairs = coached_pairs()
    for week, store_ids in stores_due(now).items():
        wanted = set(store_ids)
        enqueued += enqueue_week(week, [p for p in pairs if p[1] in wanted])
    for week, store_ids in stores_catching_up(now).items():
        wanted = set(store_ids)
        missing = uncoached_pairs(week, [p for p in pairs if p[1] in wanted])
        if missing:
            log.info("catching up %s plans for week %s", len(missing), week)
        enqueued += enqueue_week(week, missing)
    return enqueued


@shared_task(acks_late=True, **RETRY_ON_DATABASE_ERRORS)
def schedule_weekly_coaching() -> int:
    """Runs hourly; fans out chunks of (manager, store) pairs onto the llm queue: on time at each
    store's Monday COACH_SCHEDULE_HOUR, and late for the pairs a missed tick left uncoached."""
    return queue_coaching(timezone.now())


def enqueue_week(week: dt.date, pairs: list[tuple[int, int]], *, force: bool = False) -> int:
    size = max(1, settings.COACH_BATCH_CHUNK)
    chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
    for chunk in chunks:
        # delay_on_commit: a task never starts before the rows it needs are committed.
        generate_plans.delay_on_commit([list(p) for p in chunk], week.isoformat(), force)
    return len(chunks)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, **RETRY_ON_DATABASE_ERRORS)
def generate_plans(self, pairs: list[list[int]], week: str, force: bool = False) -> dict[str, int]:
    # The task id names the claims: a redelivered task takes back the plans it reserved.
    result = batch.generate_plans(
        [(m, s) for m, s in pairs],
        dt.date.fromisoformat(week),
        force=force,
        claim_token=self.request.id,
    )
    for line in result.problem_lines():
        log.warning("%s", line)
    return dict(result.counts)


@shared_task(acks_late=True, **RETRY_ON_DATABASE_ERRORS)
def send_lead_summaries() -> int:
    """Monday morning: each regional lead's summary of the week that just ended."""
    return send_summaries(week_start(timezone.localdate()))
