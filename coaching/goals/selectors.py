"""Reads for goals: where each goal stands and where it is heading by its due date."""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from scoring.cube import score_cube
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


def goal_progress(goal: Goal, *, week: dt.date, trend: CategoryTrend | None = None) -> GoalProgress:
    if trend is None:
        trend = next(t for t in store_trends(goal.store, week) if t.category.id == goal.category_id)
    target = float(goal.target_score)
    baseline = None if goal.baseline_score is None else float(goal.baseline_score)
    if trend.score is None:
        return GoalProgress(goal, None, baseline, target, None, "no_data")
    weeks_left = max(0, (goal.due_date - week).days // 7)
    projected = trend.score + (trend.slope or 0.0) * weeks_left
    projected = round(min(100.0, max(0.0, projected)), 1)
    if projected >= target:
        status = "on_track"
    elif projected >= target - AT_RISK_MARGIN:
        status = "at_risk"
    else:
        status = "off_track"
    return GoalProgress(goal, trend.score, baseline, target, projected, status)


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
    return GoalProgress(goal, None, baseline, float(goal.target_score), None, "no_data")


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
