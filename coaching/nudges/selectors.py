"""Reads for nudges: each store's local clock, quiet hours, who is due a nudge now, the banner on
the manager's week page, and whom a lead may nudge."""

import datetime as dt
import functools
import zoneinfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists

from scoring.access import all_stores, role_of, stores_visible_to
from scoring.models import Role
from scoring.weeks import week_start

from .access import managers_of, open_tips_of, plans_due_a_nudge, sent_nudges

Due = tuple[int, int, dt.date]  # (manager id, store id, week)


@functools.lru_cache(maxsize=512)
def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC  # as the weekly schedule does: a store with a bad zone runs on UTC


def local_time(zone_name: str, now: dt.datetime) -> dt.datetime:
    """`now` on the clock of a store in this time zone."""
    return now.astimezone(_zone(zone_name))


def quiet_hours() -> tuple[int, int] | None:
    """NUDGE_QUIET_HOURS as (from hour, to hour), e.g. (20, 8); None when there are none."""
    text = settings.NUDGE_QUIET_HOURS.strip()
    if not text:
        return None
    try:
        start, end = (int(part) for part in text.split("-"))
    except ValueError:
        raise ImproperlyConfigured(f"NUDGE_QUIET_HOURS={text!r}: expected e.g. 20-8") from None
    if not (0 <= start <= 23 and 0 <= end <= 23):
        raise ImproperlyConfigured(f"NUDGE_QUIET_HOURS={text!r}: hours are 0 to 23")
    return start, end


def in_quiet_hours(local: dt.datetime) -> bool:
    """Whether this local time falls in the quiet hours (which may span midnight)."""
    hours = quiet_hours()
    if hours is None or hours[0] == hours[1]:
        return False
    start, end = hours
    if start < end:
        return start <= local.hour < end
    return local.hour >= start or local.hour < end


def is_nudge_time(local: dt.datetime) -> bool:
    """NUDGE_WEEKDAY from NUDGE_HOUR on, the same local day, outside quiet hours: a tick a few
    hours late still catches up, and none goes out the next morning or at night."""
    return (
        local.weekday() == settings.NUDGE_WEEKDAY
        and local.hour >= settings.NUDGE_HOUR
        and not in_quiet_hours(local)
    )


def _zones_due(now: dt.datetime) -> dict[dt.date, list[str]]:
    """The stores' time zones whose local time is nudge time, by their local coaching week. One
    query: a chain has thousands of stores but a handful of zones."""
    zones = all_stores().order_by().values_list("timezone", flat=True).distinct()
    due: dict[dt.date, list[str]] = {}
    for name in zones:
        local = local_time(name, now)
        if is_nudge_time(local):
            due.setdefault(week_start(local.date()), []).append(name)
    return due


def due_nudges(now: dt.datetime) -> list[Due]:
    """Every (manager, store, week) due a scheduled nudge now: one query for the zones, then one
    per local week (at most one in practice), whatever the number of stores."""
    due: list[Due] = []
    for week, zones in _zones_due(now).items():
        plans = plans_due_a_nudge(week, zones).order_by("store_id", "manager_id")
        due += [(m, s, week) for m, s in plans.values_list("manager_id", "store_id")]
    return due


def banner_for(user, store, week: dt.date | None) -> int | None:
    """The open tips to show in a banner on the manager's week page: their number when a nudge
    (scheduled or a lead's) was sent this week and tips are still open, else None. One query."""
    if store is None or week is None or not user.is_authenticated:
        return None
    nudged = sent_nudges(user, store, week)
    return open_tips_of(user, store, week).filter(Exists(nudged)).count() or None


def nudge_managers(user, store) -> list:
    """The managers this user may nudge about this store: for its regional lead or an admin the
    store's managers, for anyone else nobody (the store page shows no button then)."""
    if role_of(user) not in (Role.REGIONAL_LEAD, Role.ADMIN):
        return []
    if not stores_visible_to(user).filter(pk=store.pk).exists():
        return []
    return list(managers_of(store))
