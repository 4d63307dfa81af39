"""Did coaching move the numbers? A difference-in-differences estimate, pure and deterministic.

For each coaching event (a store's category that was a focus in week w) the category's change from
before coaching (mean of weeks w-2, w-1) to after (mean of weeks w .. w+horizon-1) is compared with
the same change, over the same weeks, of its controls: the same store's categories not coached in
that window, and the same category at the region's stores not coached in it. The counterfactual is
the mean of those two control means, so a store-wide swing (a new manager, a refit) and a regional
one (weather, a competitor) both cancel. The event's effect is its change minus the counterfactual.

The estimate is the mean event effect, with a percentile interval from a bootstrap that resamples
whole stores (events of one store are not independent). Below `min_events` events or `min_stores`
stores it says so instead of guessing. Method, assumptions and limits: docs/impact.md.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import fmean

import numpy as np

PRE_WEEKS = 2


@dataclass(frozen=True)
class Cell:
    store: int
    region: int
    category: str
    week: dt.date
    score: float


@dataclass(frozen=True)
class CoachingEvent:
    store: int
    category: str
    week: dt.date  # the coaching week: the plan's Monday
    tips_done: bool


@dataclass(frozen=True)
class Estimate:
    effect: float | None  # points; None when there is not enough data
    low: float | None
    high: float | None
    confidence: float
    events: int
    stores: int
    note: str = ""

    @property
    def enough(self) -> bool:
        return self.effect is not None


@dataclass(frozen=True)
class EventEffect:
    event: CoachingEvent
    change: float  # the coached category, after minus before
    counterfactual: float  # what the controls did over the same weeks
    effect: float


def event_effects(
    cells: Iterable[Cell], events: Iterable[CoachingEvent], *, horizon: int = 4
) -> list[EventEffect]:
    """One effect per event that has its own before/after data and at least one control.

    Events are taken a coaching week at a time, each week's changes and controls as arrays over
    every store and category at once: a chain's region has tens of thousands of events and a
    thousand stores, too many to compare one by one."""
    grid = _grid(cells)
    events = list(events)
    store = np.array([grid.stores.get(e.store, -1) for e in events], dtype=np.intp)
    category = np.array([grid.categories.get(e.category, -1) for e in events], dtype=np.intp)
    day = np.array([e.week.toordinal() for e in events], dtype=np.int64)
    known = (store >= 0) & (category >= 0)  # else the event has no scores, so no change
    own = np.full(len(events), np.nan)
    counterfactual = np.full(len(events), np.nan)
    for week in sorted({e.week for e in events}):
        at = np.flatnonzero(known & (day == week.toordinal()))
        if not at.size:
            continue
        before = [week - dt.timedelta(weeks=i) for i in range(PRE_WEEKS, 0, -1)]
        after = [week + dt.timedelta(weeks=i) for i in range(horizon)]
        change = _changes(grid, before, after, horizon)
        # A control is untouched: not coached anywhere from before[0] to after[-1].
        coached = known & (day >= before[0].toordinal()) & (day <= after[-1].toordinal())
        usable = ~np.isnan(change)
        usable[store[coached], category[coached]] = False
        own[at] = change[store[at], category[at]]
        counterfactual[at] = _counterfactual(grid, change, usable, store[at], category[at])
    kept = np.flatnonzero(~np.isnan(own) & ~np.isnan(counterfactual))
    return [
        EventEffect(
            events[i], float(own[i]), float(counterfactual[i]), float(own[i] - counterfactual[i])
        )
        for i in kept
    ]


@dataclass(frozen=True)
class _Grid:
    stores: dict[int, int]  # store id -> row
    categories: dict[str, int]  # code -> column
    weeks: dict[dt.date, int]  # week -> layer
    scores: np.ndarray  # store x category x week, NaN where unscored
    region: np.ndarray  # each store's region, numbered from 0
    regions: int


def _grid(cells: Iterable[Cell]) -> _Grid:
    stores: dict[int, int] = {}
    categories: dict[str, int] = {}
    weeks: dict[dt.date, int] = {}
    region_of: dict[int, int] = {}
    where, values = [], []
    for cell in cells:
        where.append(
            (
                stores.setdefault(cell.store, len(stores)),
                categories.setdefault(cell.category, len(categories)),
                weeks.setdefault(cell.week, len(weeks)),
            )
        )
        values.append(cell.score)
        region_of[cell.store] = cell.region  # a store's last cell names its region
    shape = (len(stores), len(categories), len(weeks))
    scores = np.full(shape, np.nan)
    if values:
        flat = np.ravel_multi_index(np.array(where).T, shape)
        _, last = np.unique(flat[::-1], return_index=True)  # a repeated cell: the last one
        chosen = len(flat) - 1 - last
        scores.flat[flat[chosen]] = np.array(values)[chosen]
    numbered = {r: i for i, r in enumerate(dict.fromkeys(region_of.values()))}
    region = np.array([numbered[region_of[s]] for s in stores], dtype=np.intp)
    return _Grid(stores, categories, weeks, scores, region, len(numbered))


def _changes(grid: _Grid, before: list[dt.date], after: list[dt.date], horizon: int) -> np.ndarray:
    """Each store-category's mean after minus mean before; NaN without a week before or with
    fewer than half the weeks after."""

    def mean(weeks: list[dt.date]) -> tuple[np.ndarray, np.ndarray]:
        values = grid.scores[:, :, [grid.weeks[w] for w in weeks if w in grid.weeks]]
        count = np.count_nonzero(~np.isnan(values), axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nansum(values, axis=2) / count, count

    pre, pre_count = mean(before)
    post, post_count = mean(after)
    return np.where((pre_count > 0) & (post_count >= (horizon + 1) // 2), post - pre, np.nan)


def _counterfactual(
    grid: _Grid, change: np.ndarray, usable: np.ndarray, store: np.ndarray, category: np.ndarray
) -> np.ndarray:
    """Per event, the mean of its two control means (the same store's other categories, the
    region's other stores in its category), or the one that exists; NaN with neither."""
    kept = np.where(usable, change, 0.0)
    own, own_usable = kept[store, category], usable[store, category]
    store_sum = kept.sum(axis=1)[store] - own
    store_n = np.count_nonzero(usable, axis=1)[store] - own_usable
    region_sum = np.zeros((grid.regions, kept.shape[1]))
    region_n = np.zeros((grid.regions, kept.shape[1]), dtype=np.int64)
    np.add.at(region_sum, grid.region, kept)
    np.add.at(region_n, grid.region, usable)
    region = grid.region[store]
    region_sum = region_sum[region, category] - own
    region_n = region_n[region, category] - own_usable
    with np.errstate(invalid="ignore", divide="ignore"):
        by_store, by_region = store_sum / store_n, region_sum / region_n
    both = (by_store + by_region) / 2
    return np.where(store_n == 0, by_region, np.where(region_n == 0, by_store, both))


def estimate(
    effects: list[EventEffect],
    *,
    min_events: int = 8,
    min_stores: int = 4,
    confidence: float = 0.9,
    reps: int = 1000,
    seed: int = 0,
) -> Estimate:
    """Mean effect with a store-cluster bootstrap interval, or an honest "not enough data"."""
    by_store: dict[int, list[float]] = defaultdict(list)
    for e in effects:
        by_store[e.event.store].append(e.effect)
    events, stores = len(effects), len(by_store)
    if events < min_events or stores < min_stores:
        return Estimate(
            None,
            None,
            None,
            confidence,
            events,
            stores,
            f"not enough data: {events} coaching events in {stores} stores "
            f"(needs {min_events} events in {min_stores} stores)",
        )
    # A resample's mean is its stores' effect sums over their event counts: one matrix, no loop.
    sums = np.array([sum(values) for values in by_store.values()])
    counts = np.array([len(values) for values in by_store.values()])
    picks = np.random.default_rng(seed).integers(0, stores, size=(reps, stores))
    means = np.sort(sums[picks].sum(axis=1) / counts[picks].sum(axis=1))
    tail = (1 - confidence) / 2
    low = float(means[int(tail * (reps - 1))])
    high = float(means[int((1 - tail) * (reps - 1))])
    effect = fmean(e.effect for e in effects)
    return Estimate(round(effect, 2), round(low, 2), round(high, 2), confidence, events, stores)


@dataclass(frozen=True)
class ImpactReport:
    overall: Estimate
    by_category: dict[str, Estimate]
    tips_done: Estimate
    tips_not_done: Estimate


def impact_report(
    cells: Iterable[Cell], events: Iterable[CoachingEvent], *, horizon: int = 4, **options
) -> ImpactReport:
    effects = event_effects(cells, events, horizon=horizon)
    categories = sorted({e.event.category for e in effects})
    return ImpactReport(
        overall=estimate(effects, **options),
        by_category={
            c: estimate([e for e in effects if e.event.category == c], **options)
            for c in categories
        },
        tips_done=estimate([e for e in effects if e.event.tips_done], **options),
        tips_not_done=estimate([e for e in effects if not e.event.tips_done], **options),
    )


IMPACT_CSV_HEADER = ["group", "effect", "low", "high", "confidence", "events", "stores", "note"]


def report_rows(
    report: ImpactReport, names: dict[str, str] | None = None
) -> list[tuple[str, Estimate]]:
    """The report as labelled rows: overall, tips done / not done, then each category."""
    rows = [("all coached categories", report.overall)]
    rows += [("tips done", report.tips_done), ("tips not done", report.tips_not_done)]
    if names is None:
        rows += [(f"category {code}", e) for code, e in report.by_category.items()]
    else:
        rows += [(names.get(code, code), e) for code, e in report.by_category.items()]
    return rows


def csv_row(label: str, e: Estimate) -> list:
    return [label, e.effect, e.low, e.high, e.confidence, e.events, e.stores, e.note]
