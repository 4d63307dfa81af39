"""Celery entry points: thin wrappers over the rooms' services.

Idempotent under at-least-once delivery (acks_late): plans are unique per manager, store and week
and reused when their inputs have not changed, so a redelivered task writes nothing twice.
"""

import datetime as dt
import logging
import zoneinfo

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from scoring.access import all_stores
from scoring.weeks import week_start

from .plans import batch
from .plans.access import coached_pairs
from .tracking.services import send_lead_summaries as send_summaries

log = logging.getLogger(__name__)


def stores_due(now: dt.datetime) -> dict[dt.date, list[int]]:
    """Stores whose local time is Monday at COACH_SCHEDULE_HOUR, by their local coaching week."""
    due: dict[dt.date, list[int]] = {}
    for store_id, tz in all_stores().values_list("id", "timezone"):
        try:
            local = now.astimezone(zoneinfo.ZoneInfo(tz))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            local = now.astimezone(dt.UTC)
        if local.weekday() == 0 and local.hour == settings.COACH_SCHEDULE_HOUR:
            due.setdefault(week_start(local.date()), []).append(store_id)
    return due


@shared_task(acks_late=True)
def schedule_weekly_coaching() -> int:
    """Runs hourly around Monday; fans out chunks of (manager, store) pairs onto the llm queue."""
    enqueued = 0
    for week, store_ids in stores_due(timezone.now()).items():
        wanted = set(store_ids)
        pairs = [p for p in coached_pairs() if p[1] in wanted]
        enqueued += enqueue_week(week, pairs)
    return enqueued


def enqueue_week(week: dt.date, pairs: list[tuple[int, int]], *, force: bool = False) -> int:
    size = max(1, settings.COACH_BATCH_CHUNK)
    chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
    for chunk in chunks:
        # delay_on_commit: a task never starts before the rows it needs are committed.
        generate_plans.delay_on_commit([list(p) for p in chunk], week.isoformat(), force)
    return len(chunks)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
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


@shared_task(acks_late=True)
def send_lead_summaries() -> int:
    """Monday morning: each regional lead's summary of the week that just ended."""
    return send_summaries(week_start(timezone.localdate()))
