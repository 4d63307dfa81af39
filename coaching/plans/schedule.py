"""When each store's week is due: on time at its local Monday COACH_SCHEDULE_HOUR, or late, for
the pairs a missed run (beat or broker down) left without a plan. Reads only: the task queues."""

import datetime as dt
import logging
import zoneinfo

from django.conf import settings

from scoring.access import all_stores
from scoring.weeks import week_start

from .access import coached_pairs, uncoached_pairs

log = logging.getLogger(__name__)


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


def pairs_to_coach(now: dt.datetime) -> dict[dt.date, list[tuple[int, int]]]:
    """By coaching week: every pair of the stores due now, then the pairs a missed run left
    without a plan (none ready or fallen back, no live claim)."""
    pairs = coached_pairs()
    due: dict[dt.date, list[tuple[int, int]]] = {}
    for week, store_ids in stores_due(now).items():
        wanted = set(store_ids)
        due.setdefault(week, []).extend(p for p in pairs if p[1] in wanted)
    for week, store_ids in stores_catching_up(now).items():
        wanted = set(store_ids)
        missing = uncoached_pairs(week, [p for p in pairs if p[1] in wanted])
        if missing:
            log.info("catching up %s plans for week %s", len(missing), week)
            due.setdefault(week, []).extend(missing)
    return due
