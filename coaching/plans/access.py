"""Which weekly plans and tips a user may see and answer (the rule is in `coaching.access`), and
which (manager, store) pairs the weekly batch coaches."""

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from scoring.models import Profile, Role

from ..access import personal_rows, personal_rows_changeable_by
from ..models import CoachingTip, WeeklyPlan


def _plans() -> QuerySet[WeeklyPlan]:
    return WeeklyPlan.objects.select_related("store", "manager").order_by("-week", "store__code")


def plans_visible_to(user) -> QuerySet[WeeklyPlan]:
    return personal_rows(_plans(), user)


def plans_with_tips_visible_to(user) -> QuerySet[WeeklyPlan]:
    tips = CoachingTip.objects.select_related("category", "module")
    return plans_visible_to(user).prefetch_related(Prefetch("tips", queryset=tips))


def own_plans(user) -> QuerySet[WeeklyPlan]:
    """The plans this user is coached by and may answer: their own, at a store they manage now."""
    return personal_rows_changeable_by(_plans(), user).filter(manager=user)


def _tips() -> QuerySet[CoachingTip]:
    return CoachingTip.objects.select_related("category", "module", "plan").order_by("id")


def tips_visible_to(user) -> QuerySet[CoachingTip]:
    return personal_rows(_tips(), user, manager="plan__manager", store="plan__store")


def own_tips(user) -> QuerySet[CoachingTip]:
    """The tips this user answers (done, helpful, follow-up): only the plan's own manager's."""
    tips = personal_rows_changeable_by(_tips(), user, manager="plan__manager", store="plan__store")
    return tips.filter(plan__manager=user)


def coached_pairs(*, store_code: str | None = None) -> list[tuple[int, int]]:
    """Every (manager, store) a plan is due for: active store managers and the stores they
    manage now. For the weekly batch, never for a person's request."""
    pairs = Profile.objects.filter(role=Role.STORE_MANAGER, user__is_active=True).filter(
        Q(stores__code=store_code) if store_code else Q(stores__isnull=False)
    )
    return sorted(set(pairs.values_list("user_id", "stores__id")))


def uncoached_pairs(week: dt.date, pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Those of these pairs with no ready or fallback plan for the week and no live claim (a run
    coaching it now): what a missed schedule still owes. One query."""
    wanted = set(pairs)
    if not wanted:
        return []
    live = timezone.now() - dt.timedelta(seconds=settings.COACH_CLAIM_SECONDS)
    settled = WeeklyPlan.objects.filter(
        Q(status__in=(WeeklyPlan.Status.READY, WeeklyPlan.Status.FALLBACK))
        | Q(claimed_at__gte=live),
        week=week,
        manager_id__in={m for m, _ in wanted},
        store_id__in={s for _, s in wanted},
    ).values_list("manager_id", "store_id")
    return sorted(wanted - set(settled))
