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
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.db.models import Count, Max

from . import offline
from .cube import as_date, combined_sql
from .models import Category, Kpi, KpiReading, Store
from .selectors import CategoryTrend
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
    readings = KpiReading.objects.filter(store_id__in=store_ids, kpi=kpi, week__range=(start, end))
    data, per_store = design_matrix(
        _score_columns(store_ids, start=start, end=end),
        _columns(list(readings.values_list("store_id", "week", "value")), 3),
        order,
        horizon=horizon,
    )
    rows, stores = len(data), len(per_store)
    if rows < min_rows or stores < min_stores:
        return DriverAnalysis(
            kpi, horizon, rows, stores, None, [],
            f"not enough data: {rows} store-weeks with scores and {kpi} in {stores} stores "
            f"(needs {min_rows} in {min_stores})",
        )  # fmt: skip
    fitted = lmg_shares(data)
    if fitted is None:
        return DriverAnalysis(kpi, horizon, rows, stores, None, [], "no variation to explain")
    shares, r_squared = fitted
    rng = np.random.default_rng(seed)
    first = np.cumsum(per_store) - per_store  # each store's first row
    samples = []
    for _ in range(reps):
        picked = rng.choice(stores, size=stores, replace=True)
        again = lmg_shares(data[_rows_of(first[picked], per_store[picked])])
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
    return DriverAnalysis(kpi, horizon, rows, stores, round(r_squared, 3), drivers)


Columns = tuple[np.ndarray, ...]


def design_matrix(
    scores: Columns, kpis: Columns, categories: Sequence[int], *, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """The regression's rows and how many of them each store has.

    `scores` are (store, category, week, score) columns and `kpis` (store, week, value) ones,
    weeks as day numbers (`date.toordinal`). A row is a store-week with every one of
    `categories` scored and the KPI known, non-zero, at that week and `horizon` weeks later:
    the scores in `categories` order, then the KPI's % change. Rows run by store, then week,
    whatever order the database returned them in, so the bootstrap's resamples are stable."""
    store, category, day, value = scores
    column = np.searchsorted(categories, category)
    active = column < len(categories)
    active[active] = np.asarray(categories)[column[active]] == category[active]
    keys, cell = np.unique(_key(store[active], day[active]), return_inverse=True)
    grid = np.full((len(keys), len(categories)), np.nan)
    grid[cell, column[active]] = value[active]
    kpi_keys, kpi_first = np.unique(_key(kpis[0], kpis[1]), return_index=True)
    now = _lookup(kpi_keys, kpis[2][kpi_first], keys)
    later = _lookup(kpi_keys, kpis[2][kpi_first], keys + 7 * horizon)
    usable = ~np.isnan(grid).any(axis=1) & ~np.isnan(now) & (now != 0) & ~np.isnan(later)
    with np.errstate(invalid="ignore", divide="ignore"):
        outcome = (later - now) / now * 100
    data = np.column_stack([grid, outcome])[usable]
    _, per_store = np.unique(keys[usable] >> 32, return_counts=True)
    return data, per_store


def _key(store: np.ndarray, day: np.ndarray) -> np.ndarray:
    """One sortable number per (store, day): the store in the high bits."""
    return (np.asarray(store, dtype=np.int64) << 32) + np.asarray(day, dtype=np.int64)


def _lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """values[keys == wanted] for each wanted key (keys sorted), NaN where there is none."""
    if not len(keys):
        return np.full(len(wanted), np.nan)
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, values[at], np.nan)


def _rows_of(first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The row numbers of the picked stores, store after store: first[i] .. first[i]+count[i]."""
    shift = np.repeat(first - (np.cumsum(count) - count), count)
    return np.arange(count.sum()) + shift


def _columns(rows: Sequence[tuple], width: int) -> Columns:
    """Rows of (ids..., week, number) as numpy columns, weeks as day numbers, in C loops: a
    chain's read has millions of rows."""
    fields = [(f"id{i}", np.int64) for i in range(width - 2)] + [("week", object), ("value", float)]
    table = np.fromiter(rows, dtype=fields, count=len(rows))
    days = {w: as_date(w).toordinal() for w in set(table["week"])}
    return (
        *(table[f"id{i}"] for i in range(width - 2)),
        np.fromiter(map(days.__getitem__, table["week"]), np.int64, len(rows)),
        table["value"],
    )


_SCORES_AS_FLOATS = (
    "SELECT store_id, category_id, week, CAST(score AS DOUBLE PRECISION) FROM ({combined}) c"
)


def _score_columns(store_ids: Sequence[int], *, start: dt.date, end: dt.date) -> Columns:
    """`combined_scores` as (store, category, week, score) columns, in the same one query; the
    scores cast to float by the database, not parsed as decimals row by row."""
    if not store_ids:
        return _columns([], 4)
    sql, params = combined_sql(start=start, end=end, store_ids=store_ids)
    sql = _SCORES_AS_FLOATS.format(combined=sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _columns(cursor.fetchall(), 4)


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
