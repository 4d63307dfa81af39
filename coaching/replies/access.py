"""Who reads and writes a lead's replies on weekly plans.

- A regional lead replies on the plans of their region's stores, and an admin on any: the plans
  they may read (`coaching.access`), not a manager's own.
- A store manager reads the replies on their own plans at a store they manage now, and writes
  none; a trainer neither.
"""

from django.db.models import QuerySet

from scoring.access import role_of
from scoring.models import Role

from ..access import personal_rows
from ..models import PlanReply, WeeklyPlan
from ..plans.access import own_plans, plans_visible_to


def replies_visible_to(user) -> QuerySet[PlanReply]:
    replies = PlanReply.objects.select_related("author", "tip", "plan").order_by("created_at", "id")
    return personal_rows(replies, user, manager="plan__manager", store="plan__store")


def plans_to_reply_to(user) -> QuerySet[WeeklyPlan]:
    """The plans this user may reply on: a lead's region's, any for an admin, none otherwise."""
    if role_of(user) in (Role.REGIONAL_LEAD, Role.ADMIN):
        return plans_visible_to(user)
    return WeeklyPlan.objects.none()


def replies_to_read(user) -> QuerySet[PlanReply]:
    """The replies on this user's own plans (at a store they manage now): theirs to read."""
    return replies_visible_to(user).filter(plan__in=own_plans(user).values("id"))
