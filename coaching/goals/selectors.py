"""Reads for goals: where each goal stands and where it is heading by its due date."""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from scoring.cube import score_cube
from scoring.models import Category, Store
from scoring.selectors import CategoryTrend, store_trends

from ..models import Goal

AT_RISK_MARGIN = 5.0  # points short of target at the due date that still count as "at risk"


@dataclass(frozen=True)
class GoalProgress:
    goal: Goal
    current: float | None
    baseline: float | None
    target: float
    projected: float | None  # at the due date, from the 12-week slope
    status: str  # on_track | at_risk | off_track | no_data
    days_left: int | None = None  # from today to the due date; negative once it has passed

    @property
    def hold(self) -> bool:
        return self.goal.kind == Goal.Kind.HOLD

    @property
    def weeks_left(self) -> int:
        return max(0, self.days_left or 0) // 7


def goal_progress(goal: Goal, *, week: dt.date, trend: CategoryTrend | None = None) -> GoalProgress:
    """Where a goal stands, judged in its direction: a raise goal by where the score lands on the
    due date, a hold goal by the lower of today's score and that landing, since it must stay at
    or above its target all the way (a hold goal is not on track because a fall is still ahead,
    nor is a raise goal off track for starting below its target)."""
    if trend is None:
        trend = next(t for t in store_trends(goal.store, week) if t.category.id == goal.category_id)
    target = float(goal.target_score)
    baseline = None if goal.baseline_score is None else float(goal.baseline_score)
    days_left = (goal.due_date - timezone.localdate()).days  # as people count: from today
    if trend.score is None:
        return GoalProgress(goal, None, baseline, target, None, "no_data", days_left)
    weeks_left = max(0, (goal.due_date - week).days // 7)  # the trend runs from its week
    projected = trend.score + (trend.slope or 0.0) * weeks_left
    projected = round(min(100.0, max(0.0, projected)), 1)
    judged = min(trend.score, projected) if goal.kind == Goal.Kind.HOLD else projected
    if judged >= target:
        status = "on_track"
    elif judged >= target - AT_RISK_MARGIN:
        status = "at_risk"
    else:
        status = "off_track"
    return GoalProgress(goal, trend.score, baseline, target, projected, status, days_left)


def progress_of(
    goals: Sequence[Goal], trends: dict[int, list[CategoryTrend]], week: dt.date
) -> list[GoalProgress]:
    """Progress of the goals whose store and category have a trend in `trends`."""
    by_cell = {(s, t.category.id): t for s, ts in trends.items() for t in ts}
    return [
        goal_progress(g, week=week, trend=by_cell[(g.store_id, g.category_id)])
        for g in goals
        if (g.store_id, g.category_id) in by_cell
    ]


def goal_progress_without_scores(goal: Goal) -> GoalProgress:
    baseline = None if goal.baseline_score is None else float(goal.baseline_score)
    days_left = (goal.due_date - timezone.localdate()).days
    return GoalProgress(goal, None, baseline, float(goal.target_score), None, "no_data", days_left)


def goals_with_progress(goals: QuerySet[Goal]) -> list[GoalProgress]:
    """Each goal's progress at its store's latest scored week; goals with no scores yet say so."""
    goals = list(goals.select_related("category", "store"))
    cube = score_cube(sorted({g.store_id for g in goals}), weeks=1, benchmark=True)
    if cube.week is None:
        return [goal_progress_without_scores(g) for g in goals]
    return progress_of(goals, cube.trends(), cube.week)


def latest_trends_for(goals: Iterable[Goal]) -> dict[tuple[int, int], CategoryTrend]:
    """{(store id, category id): latest trend} for these goals; their scores read once."""
    cube = score_cube(sorted({g.store_id for g in goals}), weeks=1, benchmark=True)
    if cube.week is None:
        return {}
    return {
        (store_id, t.category.id): t for store_id, trends in cube.trends().items() for t in trends
    }


# A suggested target: what a store can usually add in the weeks to a new goal's default due date.
SUGGEST_WEEKS = 8  # the new-goal form's default due date is this many weeks away
WEEKLY_GAIN = 1.0  # points a week: the demo chain's coached categories gained 1 to 1.2
HOLD_FROM = 92.0  # near the ceiling there is little left to raise: suggest holding instead


@dataclass(frozen=True)
class Suggestion:
    """A category's latest score and a target that makes sense for it, with why (`reason`):
    "pace" (WEEKLY_GAIN a week to the due date, at most 100), "top_quarter" (the chain's top
    quarter is above today's score and nearer than that pace: a target others already reach),
    "hold" (HOLD_FROM or more: near the ceiling, keeping it is the goal), "no_data"."""

    category: Category
    current: float | None
    kind: str
    target: float | None
    reason: str


def suggest(trend: CategoryTrend, weeks: int = SUGGEST_WEEKS) -> Suggestion:
    current, top = trend.score, trend.chain_top_quartile
    if current is None:
        return Suggestion(trend.category, None, Goal.Kind.RAISE, None, "no_data")
    if current >= HOLD_FROM:
        return Suggestion(trend.category, current, Goal.Kind.HOLD, float(int(current)), "hold")
    paced = min(100.0, current + WEEKLY_GAIN * weeks)
    nearer = top is not None and current < top < paced
    target, reason = (top, "top_quarter") if nearer else (paced, "pace")
    # One decimal, as targets are kept, and always above today's score, as a raise goal must be.
    target = max(round(target, 1), round(current + 0.1, 1))
    return Suggestion(trend.category, current, Goal.Kind.RAISE, target, reason)


def suggested_targets(store: Store) -> list[Suggestion]:
    """Each active category's latest score at the store and a suggested goal, in one read."""
    cube = score_cube([store.id], weeks=1, benchmark=True)
    if cube.week is None:
        categories = Category.objects.filter(active=True)
        return [Suggestion(c, None, Goal.Kind.RAISE, None, "no_data") for c in categories]
    return [suggest(t) for t in cube.trends().get(store.id, [])]
