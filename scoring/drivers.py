"""Key drivers: which ROR categories move a business KPI, across the chain.

Each row is a store-week t with all active categories scored and the KPI known at t and t+horizon;
the outcome is the KPI's % change over those weeks (ROR leads ROI). The categories are correlated
with each other, so plain regression weights mislead; the importance of a category is its LMG
share (Lindeman, Merenda and Gold): its added R-squared averaged over every order in which the
categories can enter the regression, as a % of the R-squared of all of them. The shares sum to 100.
The interval resamples stores (a bootstrap), since one store's weeks are not independent.
"""

import datetime as dt
import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Max

from . import offline
from .models import Category, Kpi, KpiReading, Store
from .selectors import CategoryTrend, combined_scores
from .weeks import weeks_back


@dataclass(frozen=True)
class Driver:
    category: str
    importance: float  # % of the explained variance
    low: float | None
    high: float | None


@dataclass(frozen=True)
class DriverAnalysis:
    kpi: str
    horizon: int
    rows: int
    stores: int
    r_squared: float | None
    drivers: list[Driver]  # most important first
    note: str = ""

    @property
    def enough(self) -> bool:
        return bool(self.drivers)

    def weights(self) -> dict[str, float]:
        """Impact weights for focus selection: importance relative to the average category,
        kept within 0.5-2 so no category is ever ignored or dominates on its own."""
        if not self.drivers:
            return {}
        average = 100 / len(self.drivers)
        return {
            d.category: round(min(2.0, max(0.5, d.importance / average)), 2) for d in self.drivers
        }


def lmg_shares(data: np.ndarray) -> tuple[np.ndarray, float] | None:
    """LMG importance of each column but the last (the outcome), as % of the full R-squared."""
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(data, rowvar=False)
    if not np.all(np.isfinite(corr)):
        return None  # a constant column: nothing to learn from it
    p = corr.shape[0] - 1
    rxx, rxy = corr[:p, :p], corr[:p, p]
    r2 = {(): 0.0}
    for size in range(1, p + 1):
        for subset in itertools.combinations(range(p), size):
            idx = list(subset)
            solution = np.linalg.lstsq(rxx[np.ix_(idx, idx)], rxy[idx], rcond=None)[0]
            r2[subset] = float(rxy[idx] @ solution)
    weight = [math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) for s in range(p)]
    importance = np.zeros(p)
    for subset, value in r2.items():
        for j in range(p):
            if j in subset:
                continue
            bigger = tuple(sorted((*subset, j)))
            importance[j] += weight[len(subset)] * (r2[bigger] - value)
    total = r2[tuple(range(p))]
    if total <= 0:
        return None
    return importance / total * 100, total


def key_drivers(
    store_ids: Sequence[int],
    *,
    end: dt.date,
    kpi: str = "sales",
    weeks: int = 52,
    horizon: int = 4,
    min_rows: int = 80,
    min_stores: int = 8,
    reps: int = 200,
    seed: int = 0,
) -> DriverAnalysis:
    categories = dict(Category.objects.filter(active=True).values_list("id", "code"))
    order = sorted(categories)
    start = weeks_back(end, weeks + horizon)
    cells: dict[tuple[int, dt.date], dict[int, float]] = defaultdict(dict)
    for store, _region, category, week, score in combined_scores(
        store_ids=store_ids, start=start, end=end
    ):
        if category in categories:
            cells[(store, week)][category] = score
    values = {
        (store, week): float(value)
        for store, week, value in KpiReading.objects.filter(
            store_id__in=store_ids, kpi=kpi, week__range=(start, end)
        ).values_list("store_id", "week", "value")
    }
    rows_of: dict[int, list[list[float]]] = defaultdict(list)
    for (store, week), scores in cells.items():
        now, later = (
            values.get((store, week)),
            values.get((store, week + dt.timedelta(weeks=horizon))),
        )
        if len(scores) == len(order) and now and later is not None:
            rows_of[store].append([scores[c] for c in order] + [(later - now) / now * 100])
    rows = sum(len(r) for r in rows_of.values())
    if rows < min_rows or len(rows_of) < min_stores:
        return DriverAnalysis(
            kpi, horizon, rows, len(rows_of), None, [],
            f"not enough data: {rows} store-weeks with scores and {kpi} in {len(rows_of)} stores "
            f"(needs {min_rows} in {min_stores})",
        )  # fmt: skip
    fitted = lmg_shares(np.array([r for store_rows in rows_of.values() for r in store_rows]))
    if fitted is None:
        return DriverAnalysis(kpi, horizon, rows, len(rows_of), None, [], "no variation to explain")
    shares, r_squared = fitted
    rng = np.random.default_rng(seed)
    stores = list(rows_of)
    samples = []
    for _ in range(reps):
        picked = rng.choice(len(stores), size=len(stores), replace=True)
        again = lmg_shares(np.array([r for i in picked for r in rows_of[stores[i]]]))
        if again is not None:
            samples.append(again[0])
    low = high = [None] * len(order)
    if samples:
        low, high = np.percentile(np.array(samples), [5, 95], axis=0)
    drivers = [
        Driver(
            categories[c],
            round(float(shares[i]), 1),
            None if low[i] is None else round(float(low[i]), 1),
            None if high[i] is None else round(float(high[i]), 1),
        )
        for i, c in enumerate(order)
    ]
    drivers.sort(key=lambda d: (-d.importance, d.category))
    return DriverAnalysis(kpi, horizon, rows, len(rows_of), round(r_squared, 3), drivers)


def quadrant(analysis: DriverAnalysis, scores: dict[str, float], medians: dict[str, float]):
    """Importance x performance for one store: where to act first."""
    if not analysis.enough:
        return []
    average = 100 / len(analysis.drivers)
    result = []
    for d in analysis.drivers:
        if d.category not in scores or d.category not in medians:
            continue
        important = d.importance >= average
        strong = scores[d.category] >= medians[d.category]
        label = {
            (True, False): "fix first",
            (True, True): "protect",
            (False, True): "maintain",
            (False, False): "watch",
        }[(important, strong)]
        result.append({"category": d.category, "importance": d.importance,
                       "score": scores[d.category], "median": medians[d.category], "quadrant": label})  # fmt: skip
    return result


def chain_drivers(week: dt.date, *, wait: bool = False) -> DriverAnalysis | None:
    """The chain's sales drivers at a data week, without an interval; None before any sales KPI.
    Off the request path (`offline`): a page gets the newest while a new week's computes; the
    weekly batch (`wait`) computes it if nobody has yet."""
    if not KpiReading.objects.filter(kpi=Kpi.SALES).exists():
        return None
    if wait:
        found = offline.kept(_chain_key(week))
        return found.value if found else refresh_chain_drivers(week)
    return offline.served(
        _chain_key(week),
        latest=CHAIN_DRIVERS_LATEST,
        task="scoring.tasks.compute_chain_drivers",
        args=[week.isoformat()],
        compute=lambda: compute_chain_drivers(week),
    ).value


CHAIN_DRIVERS_LATEST = "scoring:chain-drivers:latest"


def _chain_key(week: dt.date) -> str:
    return f"scoring:chain-drivers:v2:{week.isoformat()}"


def chain_drivers_missing(week: dt.date) -> bool:
    has_sales = KpiReading.objects.filter(kpi=Kpi.SALES).exists()
    return has_sales and offline.kept(_chain_key(week)) is None


def compute_chain_drivers(week: dt.date) -> DriverAnalysis:
    stores = list(Store.objects.values_list("id", flat=True))
    return key_drivers(stores, end=week, kpi=Kpi.SALES, reps=0)


def refresh_chain_drivers(week: dt.date) -> DriverAnalysis:
    """Compute and keep the chain's drivers for a data week (a task, or the weekly batch)."""
    value = compute_chain_drivers(week)
    return offline.keep(_chain_key(week), latest=CHAIN_DRIVERS_LATEST, value=value).value


def _key_drivers_key(kpi: str, horizon: int, end: dt.date) -> str:
    readings = KpiReading.objects.filter(kpi=kpi).aggregate(n=Count("id"), last=Max("week"))
    return f"scoring:key-drivers:v2:{kpi}:{horizon}:{end}:{readings['n']}:{readings['last']}"


def chain_key_drivers(*, kpi: str, horizon: int, end: dt.date) -> "offline.Computed":
    """The chain's drivers of a KPI as the API serves them, keyed by the KPI, horizon, week and
    state of the KPI readings; computed off the request path (`offline`)."""
    return offline.served(
        _key_drivers_key(kpi, horizon, end),
        latest=f"scoring:key-drivers:latest:{kpi}:{horizon}",
        task="scoring.tasks.compute_key_drivers",
        args=[kpi, horizon, end.isoformat()],
        compute=lambda: compute_key_drivers(kpi=kpi, horizon=horizon, end=end),
    )


def compute_key_drivers(*, kpi: str, horizon: int, end: dt.date) -> DriverAnalysis:
    stores = list(Store.objects.values_list("id", flat=True))
    return key_drivers(stores, end=end, kpi=kpi, horizon=horizon)


def refresh_key_drivers(*, kpi: str, horizon: int, end: dt.date) -> DriverAnalysis:
    value = compute_key_drivers(kpi=kpi, horizon=horizon, end=end)
    latest = f"scoring:key-drivers:latest:{kpi}:{horizon}"
    return offline.keep(_key_drivers_key(kpi, horizon, end), latest=latest, value=value).value


def store_quadrant(week: dt.date, trends: Sequence[CategoryTrend]) -> list[dict]:
    """A store's categories placed by the chain's sales drivers and its own latest scores."""
    analysis = chain_drivers(week)
    if analysis is None:
        return []
    scores = {t.category.code: t.score for t in trends if t.score is not None}
    medians = {t.category.code: t.chain_median for t in trends if t.chain_median is not None}
    return quadrant(analysis, scores, medians)
