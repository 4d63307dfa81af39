"""Reads of the manager-lead loop: a store's recent coaching as its lead reads it (plans, tips
with the manager's answers, replies), and the replies a manager has to read on their week page.
Each a fixed number of queries, whatever the number of plans, tips or replies."""

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q

from scoring.access import role_of
from scoring.models import Role, Store

from ..models import CoachingTip, PlanReply, WeeklyPlan
from ..plans.access import plans_visible_to
from .access import replies_to_read

PLAN_WEEKS = 4  # this week and three before; "earlier weeks" adds as many again
MAX_PLAN_WEEKS = 52


@dataclass
class TipThread:
    tip: CoachingTip
    replies: list[PlanReply] = field(default_factory=list)


@dataclass
class PlanThread:
    plan: WeeklyPlan
    tips: list[TipThread]
    replies: list[PlanReply]  # about the plan as a whole


@dataclass
class StoreCoaching:
    store: Store
    plans: list[PlanThread]
    weeks: int  # how many weeks are shown
    more: bool  # older plans exist
    can_reply: bool


def store_coaching(user, store: Store, *, weeks: int = PLAN_WEEKS) -> StoreCoaching:
    """The store's newest plans this user may read, newest first, each tip with the replies about
    it: three queries. Only a lead (of the store's region) or an admin may reply."""
    weeks = max(1, min(weeks, MAX_PLAN_WEEKS))
    tips = CoachingTip.objects.select_related("category", "module").order_by("order", "id")
    replies = PlanReply.objects.select_related("author").order_by("created_at", "id")
    plans = list(
        plans_visible_to(user)
        .filter(store=store)
        .exclude(status__in=(WeeklyPlan.Status.PENDING, WeeklyPlan.Status.FAILED))
        .order_by("-week", "id")
        .prefetch_related(Prefetch("tips", queryset=tips), Prefetch("replies", queryset=replies))[
            : weeks + 1
        ]
    )
    threads = [_thread(plan) for plan in plans[:weeks]]
    can_reply = role_of(user) in (Role.REGIONAL_LEAD, Role.ADMIN)
    return StoreCoaching(store, threads, weeks, len(plans) > weeks, can_reply)


def _thread(plan: WeeklyPlan) -> PlanThread:
    by_tip: dict[int, list[PlanReply]] = {}
    general = []
    for reply in plan.replies.all():
        if reply.tip_id is None:
            general.append(reply)
        else:
            by_tip.setdefault(reply.tip_id, []).append(reply)
    tips = [TipThread(tip, by_tip.pop(tip.id, [])) for tip in plan.tips.all()]
    return PlanThread(plan, tips, general + [r for rs in by_tip.values() for r in rs])


def replies_for_week(manager, store: Store, plan: WeeklyPlan | None) -> list[PlanReply]:
    """What the manager's week page shows: the replies on the plan shown, and those on their
    earlier plans at the store not seen yet. One query."""
    shown = Q(seen_at__isnull=True) | (Q(plan=plan) if plan is not None else Q(pk__in=[]))
    return list(replies_to_read(manager).filter(shown, plan__store=store))
