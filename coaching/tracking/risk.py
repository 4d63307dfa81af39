"""What "at risk" means, once, for the region page and the lead's summary email.

A store is at risk when its ROR gives cause for concern:

- it **fell beyond noise** over the last RISK_WEEKS weeks: the fall exceeds SCORING_NOISE_SIGMAS
  times the store's usual movement over that many weeks (its week-to-week noise measured before
  them, times the square root of the weeks, never below SCORING_NOISE_FLOOR), the same noise
  model the category trends use; or
- it is **in the bottom of the region**: the lowest ROR (regions of three stores or more), or in
  its bottom quarter (four or more).

Goals off track or at risk never make a store at risk on their own (a store leading the region
with an ambitious goal is not slipping), but they add to the rank and the reasons of one that is.
Ranking: the size of the fall beyond noise, how far below the region's median, and each goal
behind counting GOAL_WEIGHT points. Pure: ROR series and goal counts in, reasons out."""

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext, ngettext

from scoring import maths
from scoring.numbers import decimal

RISK_WEEKS = 3  # a fall is judged over three weeks: one bad week is often noise
NOISE_WEEKS = 12  # the usual movement is measured over the twelve weeks before them
GOAL_WEIGHT = 1.0  # points of rank per goal behind: a tie-breaker, not a trigger


@dataclass(frozen=True)
class Reason:
    """One plain-language reason; the text is built when shown, in the reader's language."""

    kind: str  # fell | lowest | bottom | goals
    value: float = 0.0
    weeks: int = 0

    def __str__(self) -> str:
        if self.kind == "fell":
            return ngettext(
                "ROR down %(points)s points in %(weeks)d week",
                "ROR down %(points)s points in %(weeks)d weeks",
                self.weeks,
            ) % {"points": decimal(self.value), "weeks": self.weeks}
        if self.kind == "lowest":
            return gettext("lowest ROR in the region")
        if self.kind == "bottom":
            return gettext("ROR in the region's bottom quarter")
        count = int(self.value)
        return ngettext(
            "%(count)d goal off track or at risk", "%(count)d goals off track or at risk", count
        ) % {"count": count}


@dataclass(frozen=True)
class Risk:
    store_id: int
    score: float  # the rank: higher is more at risk
    reasons: list[Reason] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "; ".join(str(r) for r in self.reasons)


def fall(series: Sequence[float | None]) -> float | None:
    """How far the ROR fell beyond noise over RISK_WEEKS weeks (positive), else None."""
    if len(series) <= RISK_WEEKS or series[-1] is None or series[-1 - RISK_WEEKS] is None:
        return None
    change = series[-1] - series[-1 - RISK_WEEKS]
    before = list(series[-1 - RISK_WEEKS - NOISE_WEEKS : -RISK_WEEKS])
    steps = [b - a for a, b in itertools.pairwise(before) if a is not None and b is not None]
    noise_sd = maths.noise(steps)
    if change >= 0 or noise_sd is None:
        return None
    spread = max(noise_sd * math.sqrt(RISK_WEEKS), settings.SCORING_NOISE_FLOOR)
    if not maths.is_significant(
        change, spread, sigmas=settings.SCORING_NOISE_SIGMAS, floor=settings.SCORING_NOISE_FLOOR
    ):
        return None
    return round(-change, 1)


def assess(
    ror: Mapping[int, Sequence[float | None]], goals_behind: Mapping[int, int]
) -> list[Risk]:
    """The stores at risk among these (store id -> weekly ROR, oldest first, all ending on the
    same week), most at risk first; `goals_behind` counts each store's goals off track or at
    risk."""
    latest = {s: values[-1] for s, values in ror.items() if values and values[-1] is not None}
    ranked = sorted(latest, key=lambda s: (latest[s], s))
    bottom = set(ranked[: len(ranked) // 4]) if len(ranked) >= 4 else set()
    lowest = ranked[0] if len(ranked) >= 3 else None
    median = maths.quantile(list(latest.values()), 0.5)
    risks = []
    for store_id, values in ror.items():
        fell = fall(values)
        reasons, score = [], 1.0  # any store at risk ranks above those that are not (0)
        if fell is not None:
            reasons.append(Reason("fell", fell, RISK_WEEKS))
            score += fell
        if store_id == lowest:
            reasons.append(Reason("lowest"))
        elif store_id in bottom:
            reasons.append(Reason("bottom"))
        if store_id == lowest or store_id in bottom:
            score += max(median - latest[store_id], 0.0)
        if not reasons:
            continue
        behind = goals_behind.get(store_id, 0)
        if behind:
            reasons.append(Reason("goals", behind))
            score += GOAL_WEIGHT * behind
        risks.append(Risk(store_id, round(score, 2), reasons))
    return sorted(risks, key=lambda r: (-r.score, r.store_id))
