"""The ROR arithmetic as pure functions: no Django, no database, easy to check by hand.

The selectors run the same formulas in SQL where volume matters; the tests hold the two together.
"""

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence


def questionnaire_score(mean_answer: float) -> float:
    """Mean of 1-5 answers -> 0-100: 1 is 0, 3 is 50, 5 is 100."""
    if not 1 <= mean_answer <= 5:
        raise ValueError(f"a mean answer lies between 1 and 5, not {mean_answer}")
    return (mean_answer - 1) / 4 * 100


def answer_points(value: int, *, scale: int) -> float:
    """One answer -> 0-100: on the 1-5 agreement scale as `questionnaire_score`, on the 0-10
    likelihood scale ten points a step. The roll-up runs this in SQL (`services`)."""
    if scale == 10:
        if not 0 <= value <= 10:
            raise ValueError(f"a 0-10 answer lies between 0 and 10, not {value}")
        return value * 10.0
    return questionnaire_score(value)


def normalise(value: float, *, low: float, high: float, higher_is_better: bool = True) -> float:
    """Map a raw metric onto 0-100 linearly between its declared bounds, clipped at both ends."""
    if high <= low:
        raise ValueError("high must be above low")
    share = (value - low) / (high - low)
    if not higher_is_better:
        share = 1 - share
    return min(100.0, max(0.0, share * 100))


def combine_sources(parts: Iterable[tuple[float, int | None]], *, unknown_weight: int) -> float:
    """Response-weighted mean of one category's scores from several sources.

    A source that reported no sample size weighs as `unknown_weight` (the low-confidence minimum).
    """
    total = weight_sum = 0.0
    for score, responses in parts:
        weight = unknown_weight if responses is None else responses
        total += score * weight
        weight_sum += weight
    if weight_sum == 0:
        raise ValueError("nothing to combine")
    return total / weight_sum


def ror(scores: Mapping[str, float], weights: Mapping[str, float]) -> float | None:
    """Weighted mean over the categories present; weights are renormalised to sum to 1 over them.

    Categories without a score simply drop out (coverage tells how many were present).
    """
    present = [code for code in scores if weights.get(code, 0) > 0]
    weight_sum = sum(weights[code] for code in present)
    if not present or weight_sum == 0:
        return None
    return sum(scores[code] * weights[code] for code in present) / weight_sum


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of y over x (points per week); None below three points."""
    n = len(points)
    if n < 3:
        return None
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx


def noise(changes: Sequence[float]) -> float | None:
    """Sample standard deviation of week-to-week changes; None below four changes."""
    if len(changes) < 4:
        return None
    centre = sum(changes) / len(changes)
    return math.sqrt(sum((c - centre) ** 2 for c in changes) / (len(changes) - 1))


def is_significant(change: float, noise_sd: float | None, *, sigmas: float, floor: float) -> bool:
    """A change beyond `sigmas` times the store's usual week-to-week noise (never below `floor`)."""
    if noise_sd is None:
        return False
    return abs(change) > sigmas * max(noise_sd, floor)


def quantile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolation quantile (numpy's default), e.g. q=0.5 median, q=0.75 top quartile."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    lower = math.floor(position)
    upper = math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


class Benchmark:
    """One week's scores of a population (a region or the chain), sorted once so that ranking
    every store in it is a bisection rather than a scan."""

    def __init__(self, values: Sequence[float]) -> None:
        self.ordered = sorted(values)
        self.median = quantile(self.ordered, 0.5)
        self.top_quartile = quantile(self.ordered, 0.75)

    def rank(self, value: float) -> float | None:
        """Share of the population below `value` (ties count half), 0-100."""
        if not self.ordered:
            return None
        below = bisect.bisect_left(self.ordered, value)
        equal = bisect.bisect_right(self.ordered, value) - below
        return 100 * (below + 0.5 * equal) / len(self.ordered)
