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
only an active goal can make them one.

Coherence with the store page and with the manager:
- A strength of the store report (`scoring.selectors.report_strengths`, the one definition) is a
  focus only when the manager's goal or a drop beyond the store's noise says so, and its reason
  says which.
- A trivial gap (no goal, no drop or slide, and within the store's usual week-to-week movement of
  the region median) ranks after every category with a real reason, a manager's goal first of
  all.
- The reason names every deciding factor: the drop, the goal, a slide or a gap making at least
  DECIDING_SHARE of the priority, and the sales-driver weight when without it the category would
  rank lower or not at all.

The top three with a priority above zero are returned, each with the sentence that explains it.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from scoring.numbers import decimal
from scoring.selectors import CategoryTrend, report_strengths

CEILING = 95.0
FOCUS_SIZE = 3
REPEAT_PENALTY = 0.5
DECIDING_SHARE = 0.25  # a term making at least this share of a priority is named in its reason


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


@dataclass(frozen=True)
class _Case:
    """One category's terms before ranking: what decided it, for the ranking and its reason."""

    trend: CategoryTrend
    goal: GoalTarget | None
    terms: dict[str, float]  # goal, region, quartile, drop, slide
    weight: float  # from the chain's sales drivers, 1.0 when unknown
    repeat: float  # REPEAT_PENALTY when recently coached, else 1.0
    strength: bool  # the store report calls it a strength
    trivial: bool

    def priority(self, *, weighted: bool = True) -> float:
        return sum(self.terms.values()) * (self.weight if weighted else 1.0) * self.repeat

    def order(self, *, weighted: bool = True) -> tuple:
        """Trivial gaps after real reasons, then by priority, then the usual category order."""
        priority = round(self.priority(weighted=weighted), 3)
        return (self.trivial, -priority, self.trend.category.display_order)

    def deciding(self, term: str) -> bool:
        return _deciding(self.terms, term)


def _deciding(terms: Mapping[str, float], term: str) -> bool:
    """A term deciding enough of the priority to be named in the reason."""
    total = sum(terms.values())
    return total > 0 and terms[term] >= DECIDING_SHARE * total


def rank_categories(
    trends: Sequence[CategoryTrend],
    *,
    goals: Mapping[str, GoalTarget],
    recently_coached: set[str] = frozenset(),
    region_drops: Mapping[str, float] | None = None,
    impact: Mapping[str, float] | None = None,
    weeks_of_data: Mapping[str, int] | None = None,
    size: int = FOCUS_SIZE,
) -> list[Focus]:
    """The pure ranking. `region_drops` maps a category to the largest confident drop among the
    region's other stores, so a reason can say when this store's is the largest; `weeks_of_data`
    the weeks of scores a slope was fitted on, so a reason never claims more."""
    strengths = {t.category.code for t in report_strengths(trends)}
    cases = [
        case
        for trend in trends
        if (case := _case(trend, goals, strengths, recently_coached, impact or {})) is not None
        and case.priority() > 0
    ]
    ranked = sorted(cases, key=lambda c: c.order())[:size]
    if not ranked:
        return _steady(trends, strengths)
    weights = list((impact or {}).values())
    top_weight = max(weights, default=1.0)
    focus = []
    for position, case in enumerate(ranked):
        code = case.trend.category.code
        # Its sales-driver weight decided when, weighed as 1, it would stand lower (or out).
        unweighted = case.order(weighted=False)
        weighed = case.weight > 1.0 and position < sum(
            other.order() < unweighted for other in cases if other is not case
        )
        most = case.weight == top_weight and weights.count(top_weight) == 1
        situation = _situation(case.terms, case.trend)
        reason = _reason(
            case,
            situation,
            (region_drops or {}).get(code),
            (weeks_of_data or {}).get(code),
            sales=("most" if most else "more") if weighed else None,
        )
        focus.append(Focus(case.trend, round(case.priority(), 3), situation, reason, case.goal))
    return focus


def _case(
    trend: CategoryTrend,
    goals: Mapping[str, GoalTarget],
    strengths: set[str],
    recently_coached: set[str],
    impact: Mapping[str, float],
) -> _Case | None:
    """The category's terms, or None when it may not be a focus this week."""
    if trend.score is None:
        return None
    code = trend.category.code
    goal = goals.get(code)
    if goal is None and (trend.score > CEILING or trend.low_confidence):
        return None
    dropped = _dropped(trend)
    strength = code in strengths
    if strength and goal is None and not dropped:
        return None  # the store page says "protect": nothing here says otherwise
    terms = {
        # A goal already met still earns a little attention: holding a gain is work too.
        "goal": ((1.0 if goal.target > trend.score else 0.2) + _gap(goal.target, trend.score))
        if goal
        else 0.0,
        "region": 0.8 * _gap(trend.region_median, trend.score),
        "quartile": 0.4 * _gap(trend.chain_top_quartile, trend.score),
        "drop": 1.5 * -trend.change / 10 if dropped else 0.0,
        "slide": _slide(trend),
    }
    region_gap = 10 * _gap(trend.region_median, trend.score)
    trivial = not (goal or dropped or _deciding(terms, "slide") or region_gap > _noise_band(trend))
    repeat = REPEAT_PENALTY if code in recently_coached else 1.0
    return _Case(trend, goal, terms, impact.get(code, 1.0), repeat, strength, trivial)


def _steady(trends: Sequence[CategoryTrend], strengths: set[str]) -> list[Focus]:
    """A store doing well everywhere still gets one thing to keep moving: its lowest category
    that is not one of its strengths."""
    eligible = [
        t
        for t in trends
        if t.score is not None and not t.low_confidence and t.category.code not in strengths
    ]
    if not eligible:
        return []
    lowest = min(eligible, key=lambda t: t.score)
    return [Focus(lowest, 0.0, "steady", _lowest_sentence(lowest), None)]


def _dropped(trend: CategoryTrend) -> bool:
    """Last week's drop is beyond the store's usual movement, on confident data."""
    return (
        not trend.low_confidence
        and trend.significant
        and trend.change is not None
        and trend.change < 0
    )


def _noise_band(trend: CategoryTrend) -> float:
    """Points a score moves in an ordinary week at this store: what a gap must exceed to be
    more than trivial (the same band a drop must leave to be news)."""
    noise = max(trend.noise or 0.0, settings.SCORING_NOISE_FLOOR)
    return settings.SCORING_NOISE_SIGMAS * noise


def _gap(benchmark: float | None, score: float) -> float:
    return 0.0 if benchmark is None else max(0.0, benchmark - score) / 10


def _slide(trend: CategoryTrend) -> float:
    if trend.low_confidence or trend.slope is None or trend.slope >= 0:
        return 0.0
    return 0.5 * -trend.slope * 4 / 10


def _situation(terms: Mapping[str, float], trend: CategoryTrend) -> str:
    if _dropped(trend):
        return "declining"
    decline = terms["drop"] + terms["slide"]
    if decline >= max(terms["goal"], terms["region"] + terms["quartile"]):
        return "declining" if decline > 0 else "steady"
    if terms["goal"]:
        return "goal"
    return "low"


def _reason(
    case: _Case, situation: str, region_drop: float | None, weeks: int | None, *, sales: str | None
) -> str:
    """A few short sentences, in the active language, naming every factor that decided the
    category: the news (a drop or a slide) first, then the goal, why a strength is coached at
    all, the gaps, and the sales drivers."""
    trend, goal = case.trend, case.goal
    name = gettext(trend.category.name)
    parts = []
    if _dropped(trend):
        parts.append(_drop_sentence(trend, name, region_drop))
    elif case.terms["slide"] > 0 and (case.deciding("slide") or situation == "declining"):
        parts.append(_slide_sentence(trend, name, weeks))
    if goal is not None:
        parts.append(_goal_sentence(trend, goal, name))
    if case.strength:
        parts.append(_strength_sentence(goal is not None, _dropped(trend)))
    gaps = _gap_sentence(trend, name, case.deciding("region"), case.deciding("quartile"))
    if gaps:
        parts.append(gaps)
    if sales == "most":
        parts.append(_("It drives sales most in this chain, which moves it up this week's list."))
    elif sales:
        parts.append(
            _(
                "It drives sales more than the average category in this chain, which moves it "
                "up this week's list."
            )
        )
    return " ".join(parts) or _lowest_sentence(trend)


def _drop_sentence(trend: CategoryTrend, name: str, region_drop: float | None) -> str:
    values = {
        "name": name,
        "drop": _n(-trend.change),
        "score": _n(trend.score),
        "noise": _n(trend.noise),
    }
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
    return text % values


def _slide_sentence(trend: CategoryTrend, name: str, weeks: int | None) -> str:
    """ "Over N weeks" only of the weeks there are scores for (a slope needs three)."""
    values = {"name": name, "slope": _n(-trend.slope), "score": _n(trend.score)}
    if weeks is None or weeks < 3:
        return _("%(name)s has been sliding %(slope)s points a week and stands at %(score)s.") % (
            values
        )
    return _(
        "%(name)s has been sliding %(slope)s points a week over %(weeks)s weeks and stands at "
        "%(score)s."
    ) % (values | {"weeks": weeks})


def _goal_sentence(trend: CategoryTrend, goal: GoalTarget, name: str) -> str:
    gap = goal.target - trend.score
    values = {
        "target": _n(goal.target),
        "due": goal.shown_due,
        "name": name,
        "score": _n(trend.score),
    }
    if gap > 0:
        text = _(
            "Your goal is %(target)s by %(due)s; %(name)s is at %(score)s (%(gap)s points to go)."
        )
        values["gap"] = _n(gap)
    else:
        text = _(
            "Your goal is %(target)s by %(due)s; %(name)s is at %(score)s (target reached; hold it)."
        )
    return text % values


def _strength_sentence(goal: bool, dropped: bool) -> str:
    """Why a category the store page calls a strength is coached anyway."""
    if goal and dropped:
        return _(
            "It is one of this store's strengths; your goal and the drop are why it is in focus."
        )
    if goal:
        return _("It is one of this store's strengths; your goal is why it is in focus.")
    return _("It is one of this store's strengths; the drop is why it is in focus.")


def _n(value: float) -> str:
    return decimal(value, 1)


def _gap_sentence(trend: CategoryTrend, name: str, region: bool, quartile: bool) -> str | None:
    """The gaps that decided the category, to the region median and to the chain's top quarter."""
    values = {"name": name, "score": _n(trend.score)}
    median, top = trend.region_median, trend.chain_top_quartile
    if region and quartile:
        text = _(
            "%(name)s is %(score)s, %(gap)s points below the region median at %(benchmark)s and "
            "%(top_gap)s points below the chain's top quarter at %(top)s."
        )
        values |= {"top_gap": _n(top - trend.score), "top": _n(top)}
        benchmark = median
    elif region:
        text = _("%(name)s is %(score)s, %(gap)s points below the region median at %(benchmark)s.")
        benchmark = median
    elif quartile:
        text = _(
            "%(name)s is %(score)s, %(gap)s points below the chain's top quarter at %(benchmark)s."
        )
        benchmark = top
    else:
        return None
    return text % (values | {"gap": _n(benchmark - trend.score), "benchmark": _n(benchmark)})


def _lowest_sentence(trend: CategoryTrend) -> str:
    values = {"name": gettext(trend.category.name), "score": _n(trend.score)}
    return _("%(name)s is your lowest category this week at %(score)s; keep it moving.") % values
