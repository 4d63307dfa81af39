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
    """One effect per event that has its own before/after data and at least one control."""
    scores: dict[tuple[int, str], dict[dt.date, float]] = defaultdict(dict)
    region_of: dict[int, int] = {}
    categories_of: dict[int, set[str]] = defaultdict(set)
    for cell in cells:
        scores[(cell.store, cell.category)][cell.week] = cell.score
        region_of[cell.store] = cell.region
        categories_of[cell.store].add(cell.category)
    events = list(events)
    coached_weeks: dict[tuple[int, str], set[dt.date]] = defaultdict(set)
    for event in events:
        coached_weeks[(event.store, event.category)].add(event.week)
    stores_of: dict[int, set[int]] = defaultdict(set)
    for store, region in region_of.items():
        stores_of[region].add(store)

    def window(week: dt.date) -> tuple[list[dt.date], list[dt.date]]:
        before = [week - dt.timedelta(weeks=i) for i in range(PRE_WEEKS, 0, -1)]
        after = [week + dt.timedelta(weeks=i) for i in range(horizon)]
        return before, after

    def change(key, before, after) -> float | None:
        series = scores.get(key, {})
        pre = [series[w] for w in before if w in series]
        post = [series[w] for w in after if w in series]
        if not pre or len(post) < (horizon + 1) // 2:
            return None
        return fmean(post) - fmean(pre)

    def untouched(key, before, after) -> bool:
        weeks = coached_weeks.get(key, ())
        return not any(before[0] <= w <= after[-1] for w in weeks)

    effects = []
    for event in events:
        before, after = window(event.week)
        own = change((event.store, event.category), before, after)
        if own is None:
            continue
        same_store = [
            c
            for category in categories_of[event.store] - {event.category}
            if untouched((event.store, category), before, after)
            and (c := change((event.store, category), before, after)) is not None
        ]
        same_region = [
            c
            for other in stores_of[region_of[event.store]] - {event.store}
            if untouched((other, event.category), before, after)
            and (c := change((other, event.category), before, after)) is not None
        ]
        controls = [fmean(group) for group in (same_store, same_region) if group]
        if not controls:
            continue
        counterfactual = fmean(controls)
        effects.append(EventEffect(event, own, counterfactual, own - counterfactual))
    return effects


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
