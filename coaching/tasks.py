"""Celery entry points: thin wrappers over the rooms' services.

Idempotent under at-least-once delivery (acks_late): plans are unique per manager, store and week
and reused when their inputs have not changed, so a redelivered task writes nothing twice. A
database that restarts or drops connections mid-task fails the task with OperationalError or
InterfaceError: it is retried with backoff (the same task id, so it takes its claims back).
"""

import datetime as dt
import logging
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from scoring.weeks import week_start

from .nudges import services as nudge_services
from .plans import batch, schedule
from .tracking import chain
from .tracking import services as tracking_services
from .tracking.selectors import refresh_impact
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


def queue_coaching(now: dt.datetime) -> int:
    """Chunks enqueued for the pairs due now and those a missed run left uncoached."""
    return sum(enqueue_week(week, pairs) for week, pairs in schedule.pairs_to_coach(now).items())


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


@shared_task(acks_late=True, **RETRY_ON_DATABASE_ERRORS)
def compute_impact(store_ids: list[int], start: str, end: str) -> None:
    """Coaching's impact at these stores, for the pages and the API that asked for it."""
    refresh_impact(store_ids, start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end))


@shared_task(acks_late=True, **RETRY_ON_DATABASE_ERRORS)
def warm_overviews() -> int:
    """After a change of the scores: the dashboards' figures, ready before anyone asks."""
    return chain.warm_overviews()


@shared_task(acks_late=True, **RETRY_ON_DATABASE_ERRORS)
def refresh_analyses() -> int:
    """Hourly: the regions' impact reports, the chain's drivers and the overviews, ready before
    anyone asks."""
    return tracking_services.refresh_analyses() + chain.warm_overviews()


# A mail server that refuses or drops the connection: that one nudge is tried again a little later
# (its row counts the attempts and is marked sent only once the mail went out).
RETRY_ON_MAIL_ERRORS = {
    **RETRY_ON_DATABASE_ERRORS,
    "autoretry_for": (OperationalError, InterfaceError, SMTPException, OSError),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "max_retries": 4,
}


def _moment(now: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(now) if now else None


@shared_task(acks_late=True, **RETRY_ON_DATABASE_ERRORS)
def send_nudges(now: str | None = None) -> int:
    """Hourly at :15: one task per manager due a mid-week nudge (their store's NUDGE_WEEKDAY from
    NUDGE_HOUR), so one mail failure is retried alone. `now` (ISO) replays a moment; each nudge
    is then judged at it too, else at the time its own task runs."""
    return nudge_services.send_due_nudges(
        _moment(now) or timezone.now(),
        lambda manager, store, week: send_one_nudge.delay(manager, store, week.isoformat(), now),
    )


@shared_task(acks_late=True, **RETRY_ON_MAIL_ERRORS)
def send_one_nudge(manager_id: int, store_id: int, week: str, now: str | None = None) -> bool:
    """Once per manager, store and week, however often it is delivered or retried."""
    return nudge_services.send_nudge(
        manager_id, store_id, dt.date.fromisoformat(week), now=_moment(now)
    )
