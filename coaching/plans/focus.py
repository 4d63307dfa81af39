"""Which categories a manager should work on this week: deterministic, explainable, no LLM.

priority = impact_weight x repeat_penalty x (goal + goal_gap + peer_gap + decline), where, in
points of score divided by 10 so the terms are comparable:
  goal      1.0 when an active goal names the category (0.2 once its target is met)
  goal_gap  (goal target - score) / 10
  peer_gap  0.8 x (region median - score) / 10 + 0.4 x (chain top quartile - score) / 10
  decline   1.5 x |drop| / 10 when last week's drop is beyond the store's noise,
            plus 0.5 x |12-week slope| x 4 / 10 when the category has been sliding
Negative gaps count as zero. Categories already coached in either of the last two plans with no
newer data are halved. Scores above 95 and low-confidence scores are never a focus on their own:
only an active goal can make them one. The top three with a priority above zero are returned,
each with the sentence that explains it.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from scoring.numbers import decimal
from scoring.selectors import CategoryTrend

CEILING = 95.0
FOCUS_SIZE = 3
REPEAT_PENALTY = 0.5


@dataclass(frozen=True)
class GoalTarget:
    category: str
    target: float
    due: str  # "12 Dec 2026", for the LLM's data
    due_on: dt.date | None = None

    @property
    def shown_due(self) -> str:
        """The due date in the reader's language ("12 déc. 2026")."""
        return date_format(self.due_on, gettext("j M Y")) if self.due_on else self.due


@dataclass(frozen=True)
class Focus:
    trend: CategoryTrend
    priority: float
    situation: str  # declining | goal | low | steady
    reason: str
    goal: GoalTarget | None


def rank_categories(
    trends: Sequence[CategoryTrend],
    *,
    goals: Mapping[str, GoalTarget],
    recently_coached: set[str] = frozenset(),
    region_drops: Mapping[str, float] | None = None,
    impact: Mapping[str, float] | None = None,
    size: int = FOCUS_SIZE,
) -> list[Focus]:
    """The pure ranking. `region_drops` maps a category to the largest confident drop among the
    region's other stores, so a reason can say when this store's is the largest."""
    ranked = []
    for trend in trends:
        if trend.score is None:
            continue
        code = trend.category.code
        goal = goals.get(code)
        if goal is None and (trend.score > CEILING or trend.low_confidence):
            continue
        terms = {
            # A goal already met still earns a little attention: holding a gain is work too.
            "goal": (1.0 if goal.target > trend.score else 0.2) if goal else 0.0,
            "goal_gap": max(0.0, goal.target - trend.score) / 10 if goal else 0.0,
            "peer_gap": 0.8 * _gap(trend.region_median, trend.score)
            + 0.4 * _gap(trend.chain_top_quartile, trend.score),
            "decline": _decline(trend),
        }
        priority = sum(terms.values()) * (impact or {}).get(code, 1.0)
        if code in recently_coached:
            priority *= REPEAT_PENALTY
        if priority <= 0:
            continue
        situation = _situation(terms, trend)
        reason = _reason(trend, goal, situation, (region_drops or {}).get(code))
        ranked.append(Focus(trend, round(priority, 3), situation, reason, goal))
    ranked.sort(key=lambda f: (-f.priority, f.trend.category.display_order))
    if not ranked:
        # A store doing well everywhere still gets one thing to keep moving: its lowest category.
        eligible = [t for t in trends if t.score is not None and not t.low_confidence]
        if eligible:
            lowest = min(eligible, key=lambda t: t.score)
            ranked.append(Focus(lowest, 0.0, "steady", _reason(lowest, None, "steady", None), None))
    return ranked[:size]


def _gap(benchmark: float | None, score: float) -> float:
    return 0.0 if benchmark is None else max(0.0, benchmark - score) / 10


def _decline(trend: CategoryTrend) -> float:
    if trend.low_confidence:
        return 0.0
    value = 0.0
    if trend.significant and trend.change is not None and trend.change < 0:
        value += 1.5 * -trend.change / 10
    if trend.slope is not None and trend.slope < 0:
        value += 0.5 * -trend.slope * 4 / 10
    return value


def _situation(terms: dict[str, float], trend: CategoryTrend) -> str:
    if trend.significant and trend.change is not None and trend.change < 0:
        return "declining"
    if terms["decline"] >= max(terms["goal"] + terms["goal_gap"], terms["peer_gap"]):
        return "declining" if terms["decline"] > 0 else "steady"
    if terms["goal"]:
        return "goal"
    return "low"


def _reason(trend: CategoryTrend, goal: GoalTarget | None, situation: str, region_drop) -> str:
    """One or two sentences, in the active language: the news (a drop or a slide) first, then the
    goal or the gap."""
    name, score = gettext(trend.category.name), _n(trend.score)
    parts = []
    dropped = trend.significant and trend.change is not None and trend.change < 0
    if dropped:
        values = {"name": name, "drop": _n(-trend.change), "score": score, "noise": _n(trend.noise)}
        if region_drop is None or -trend.change > region_drop:
            text = _(
                "%(name)s fell %(drop)s points last week to %(score)s, beyond this store's usual "
                "week-to-week movement of %(noise)s, the largest drop in the region."
            )
        else:
            text = _(
                "%(name)s fell %(drop)s points last week to %(score)s, beyond this store's usual "
                "week-to-week movement of %(noise)s."
            )
        parts.append(text % values)
    elif situation == "declining" and trend.slope is not None:
        parts.append(
            _(
                "%(name)s has been sliding %(slope)s points a week over 12 weeks and stands at %(score)s."
            )
            % {"name": name, "slope": _n(-trend.slope), "score": score}
        )
    if goal is not None:
        gap = goal.target - trend.score
        values = {"target": _n(goal.target), "due": goal.shown_due, "name": name, "score": score}
        if gap > 0:
            text = _(
                "Your goal is %(target)s by %(due)s; %(name)s is at %(score)s (%(gap)s points to go)."
            )
            values["gap"] = _n(gap)
        else:
            text = _(
                "Your goal is %(target)s by %(due)s; %(name)s is at %(score)s (target reached; hold it)."
            )
        parts.append(text % values)
    elif situation != "declining" or not parts:
        parts.append(_gap_sentence(trend, name))
    return " ".join(parts)


def _n(value: float) -> str:
    return decimal(value, 1)


def _gap_sentence(trend: CategoryTrend, name: str) -> str:
    values = {"name": name, "score": _n(trend.score)}
    if trend.region_median is not None and trend.score < trend.region_median:
        text = _("%(name)s is %(score)s, %(gap)s points below the region median at %(benchmark)s.")
        benchmark = trend.region_median
    elif trend.chain_top_quartile is not None and trend.score < trend.chain_top_quartile:
        text = _(
            "%(name)s is %(score)s, %(gap)s points below the chain's top quarter at %(benchmark)s."
        )
        benchmark = trend.chain_top_quartile
    else:
        return (
            _("%(name)s is your lowest category this week at %(score)s; keep it moving.") % values
        )
    return text % (values | {"gap": _n(benchmark - trend.score), "benchmark": _n(benchmark)})
