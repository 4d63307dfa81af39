"""The querysets behind nudges: which plans are still open, who manages a store now, and the
nudges already sent. The rule for who may see what stays in `scoring.access`."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from scoring.models import Profile, Role

from ..models import CoachingTip, Nudge, WeeklyPlan

SETTLED = (WeeklyPlan.Status.READY, WeeklyPlan.Status.FALLBACK)
OPEN_TIP = Q(done_at__isnull=True, dismissed_reason="")


def _manages_now() -> Exists:
    """The plan's manager manages the plan's store today (a moved manager is not nudged)."""
    return Exists(
        Profile.stores.through.objects.filter(
            profile__user_id=OuterRef("manager_id"),
            profile__role=Role.STORE_MANAGER,
            store_id=OuterRef("store_id"),
        )
    )


def _open_tips() -> QuerySet[CoachingTip]:
    return CoachingTip.objects.filter(OPEN_TIP).order_by("order", "id")


def plans_still_open(week: dt.date) -> QuerySet[WeeklyPlan]:
    """The week's ready or fallback plans with a tip still open or the plan unread, of active
    managers with an email address who manage the store now."""
    open_tips = _open_tips().filter(plan=OuterRef("pk"))
    return (
        WeeklyPlan.objects.filter(week=week, status__in=SETTLED, manager__is_active=True)
        .exclude(manager__email="")
        .filter(_manages_now())
        .filter(Q(Exists(open_tips)) | Q(read_at__isnull=True))
    )


def plans_due_a_nudge(week: dt.date, zones: list[str]) -> QuerySet[WeeklyPlan]:
    """Open plans at stores in these time zones whose manager wants reminders and got none this
    week yet (neither the scheduled one nor a lead's). An unsent scheduled nudge (its mail failed)
    stays due, so a later tick of the same day retries it."""
    sent = Nudge.objects.filter(
        manager_id=OuterRef("manager_id"),
        store_id=OuterRef("store_id"),
        week=OuterRef("week"),
        sent_at__isnull=False,
    )
    return (
        plans_still_open(week)
        .filter(store__timezone__in=zones, manager__profile__nudges=True)
        .exclude(Exists(sent))
    )


def plan_to_nudge(manager_id: int, store_id: int, week: dt.date) -> WeeklyPlan | None:
    """The pair's open plan with its manager, store and open tips (`open_list`), or None."""
    return (
        plans_still_open(week)
        .filter(manager_id=manager_id, store_id=store_id)
        .select_related("manager__profile", "store")
        .prefetch_related(Prefetch("tips", queryset=_open_tips(), to_attr="open_list"))
        .first()
    )


def managers_of(store) -> QuerySet:
    """The active store managers of this store, the people a lead may nudge."""
    return (
        get_user_model()
        .objects.filter(is_active=True, profile__role=Role.STORE_MANAGER, profile__stores=store)
        .order_by("first_name", "last_name", "username")
    )


def sent_nudges(manager, store, week: dt.date) -> QuerySet[Nudge]:
    return Nudge.objects.filter(manager=manager, store=store, week=week, sent_at__isnull=False)


def open_tips_of(manager, store, week: dt.date) -> QuerySet[CoachingTip]:
    """The manager's open tips of the week at the store (their own plan's only)."""
    return _open_tips().filter(
        plan__manager=manager, plan__store=store, plan__week=week, plan__status__in=SETTLED
    )


def lead_nudges_sent_since(manager, store, since: dt.datetime) -> QuerySet[Nudge]:
    return Nudge.objects.filter(
        kind=Nudge.Kind.LEAD, manager=manager, store=store, sent_at__gte=since
    )


def profile_to_lock(manager) -> QuerySet[Profile]:
    """The manager's profile row, locked to serialise two leads nudging them at once."""
    return Profile.objects.select_for_update().filter(user=manager)
