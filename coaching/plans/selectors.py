"""Reads for a manager's coaching: this week's plan and its tips, past weeks, tips due a
follow-up, and the "This week" page's data."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from scoring.cube import score_cube
from scoring.models import Store
from scoring.selectors import CategoryTrend

from ..goals.access import goals_visible_to
from ..goals.selectors import GoalProgress, progress_of
from ..models import CoachingTip, Goal, WeeklyPlan
from ..tracking.selectors import change, week_axis
from .access import own_plans, own_tips

SPARK_WEEKS = 12


@dataclass
class CategoryRow:
    trend: CategoryTrend
    spark: list[float | None]


@dataclass
class ManagerWeek:
    store: Store
    plan: WeeklyPlan | None
    tips: list[CoachingTip]
    week: dt.date | None  # the scored week shown
    ror: float | None
    ror_change: float | None
    ror_spark: list[float | None]
    categories: list[CategoryRow]
    goals: list[GoalProgress]

    @property
    def trends(self) -> list[CategoryTrend]:
        return [row.trend for row in self.categories]


def current_plan(manager, store: Store, today: dt.date) -> WeeklyPlan | None:
    return (
        own_plans(manager)
        .filter(store=store, week__lte=today)
        .exclude(status__in=(WeeklyPlan.Status.PENDING, WeeklyPlan.Status.FAILED))
        .order_by("-week")
        .first()
    )


def tips_of(plan: WeeklyPlan | None) -> list[CoachingTip]:
    if plan is None:
        return []
    return list(plan.tips.select_related("category", "module").order_by("order"))


def manager_week(manager, store: Store, plan: WeeklyPlan | None) -> ManagerWeek:
    """The store's scores are read once (`score_cube`) for the trends, sparklines and ROR."""
    cube = score_cube([store.id], weeks=SPARK_WEEKS, benchmark=True)
    week = cube.week
    if week is None:
        return ManagerWeek(store, plan, tips_of(plan), None, None, None, [], [], [])
    weeks = week_axis(week, SPARK_WEEKS)
    trends = cube.trends()
    series = cube.series(weeks)
    ror = cube.ror(weeks)[store.id]
    goals = goals_visible_to(manager).filter(store=store, status=Goal.Status.ACTIVE)
    return ManagerWeek(
        store=store,
        plan=plan,
        tips=tips_of(plan),
        week=week,
        ror=ror[-1],
        ror_change=change(ror),
        ror_spark=ror,
        categories=[CategoryRow(t, series[(store.id, t.category.id)]) for t in trends[store.id]],
        goals=progress_of(list(goals.select_related("category", "store")), trends, week),
    )


def plan_archive(manager) -> QuerySet[WeeklyPlan]:
    """The manager's past plans at the stores they manage now, with how many tips were done."""
    return (
        own_plans(manager)
        .exclude(status=WeeklyPlan.Status.PENDING)
        .annotate(
            tip_count=Count("tips"), done_count=Count("tips", filter=Q(tips__done_at__isnull=False))
        )
        .order_by("-week")
    )


def tips_due_for_followup(manager) -> list[CoachingTip]:
    """Tips done four weeks ago or more whose manager has not said yet whether they worked."""
    cutoff = timezone.now() - dt.timedelta(weeks=4)
    return list(own_tips(manager).filter(done_at__lte=cutoff, followup_answer=""))
