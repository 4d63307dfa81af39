"""Reads: ROR, trends, benchmarks and the strengths/opportunities report.

Every function here runs a fixed number of queries whatever the number of stores or weeks asked
for; the heavy lifting (combining sources, ROR roll-up) happens in SQL, the rest in `maths`.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from . import maths
from .models import Category, CategoryScore, Region, Store
from .weeks import weeks_back

# Sources combined per (store, category, week) by a response-weighted mean; a source that did not
# report its sample size weighs as the low-confidence minimum. Only active categories count.
_COMBINED_SQL = """
    SELECT cs.store_id, st.region_id, cs.category_id, cs.week,
           SUM(cs.score * COALESCE(cs.responses, %(unknown)s)) * 1.0
             / SUM(COALESCE(cs.responses, %(unknown)s)) AS score,
           SUM(COALESCE(cs.responses, %(unknown)s)) AS weight,
           SUM(cs.responses) AS responses
    FROM scoring_categoryscore cs
    JOIN scoring_store st ON st.id = cs.store_id
    JOIN scoring_category cat ON cat.id = cs.category_id AND cat.active
    WHERE cs.week BETWEEN %(start)s AND %(end)s {store_filter}
    GROUP BY cs.store_id, st.region_id, cs.category_id, cs.week
"""


def _combined(*, start: dt.date, end: dt.date, store_ids: Sequence[int] | None) -> tuple[str, dict]:
    params = {
        "unknown": settings.SCORING_MIN_RESPONSES,
        "start": connection.ops.adapt_datefield_value(start),
        "end": connection.ops.adapt_datefield_value(end),
    }
    store_filter = ""
    if store_ids is not None:
        placeholders = []
        for index, store_id in enumerate(store_ids):
            params[f"s{index}"] = store_id
            placeholders.append(f"%(s{index})s")
        store_filter = f"AND cs.store_id IN ({', '.join(placeholders) or 'NULL'})"
    return _COMBINED_SQL.format(store_filter=store_filter), params


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


@dataclass(frozen=True)
class RorPoint:
    store_id: int
    week: dt.date
    ror: float
    coverage: int  # how many active categories had a score that week


def weekly_ror(
    *, start: dt.date, end: dt.date, store_ids: Sequence[int] | None = None
) -> list[RorPoint]:
    """ROR per store and week between two Mondays (inclusive), ordered by store then week.

    ROR = sum(weight * score) / sum(weight) over the categories present that week.
    """
    combined, params = _combined(start=start, end=end, store_ids=store_ids)
    sql = f"""
        WITH combined AS ({combined})
        SELECT c.store_id, c.week, SUM(c.score * cat.weight) * 1.0 / SUM(cat.weight), COUNT(*)
        FROM combined c JOIN scoring_category cat ON cat.id = c.category_id
        GROUP BY c.store_id, c.week
        ORDER BY c.store_id, c.week
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            RorPoint(store_id, _as_date(week), round(float(value), 1), coverage)
            for store_id, week, value, coverage in cursor.fetchall()
        ]


@dataclass(frozen=True)
class CategoryTrend:
    category: Category
    week: dt.date
    score: float | None
    responses: int | None
    low_confidence: bool
    change: float | None  # week over week, points
    moving_average: float | None  # last 4 weeks
    slope: float | None  # points per week over the last 12 weeks
    noise: float | None  # sd of this store's usual week-to-week change
    significant: bool  # change beyond the noise, on confident data only
    region_percentile: float | None
    chain_percentile: float | None
    region_median: float | None
    chain_median: float | None
    chain_top_quartile: float | None


@dataclass(frozen=True)
class _Cell:
    score: float
    low_confidence: bool
    responses: int | None


def category_trends(*, store_ids: Sequence[int], week: dt.date) -> dict[int, list[CategoryTrend]]:
    """Trends for each store's active categories at `week`, in three queries for any number of
    stores: categories, the stores' recent series, and the whole chain's scores that week."""
    categories = list(Category.objects.filter(active=True))
    history_weeks = max(settings.SCORING_NOISE_WEEKS, 12)
    minimum = settings.SCORING_MIN_RESPONSES

    def cells(sql_and_params) -> list[tuple]:
        sql, params = sql_and_params
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    series: dict[tuple[int, int], dict[dt.date, _Cell]] = defaultdict(dict)
    own = _combined(start=weeks_back(week, history_weeks), end=week, store_ids=store_ids)
    for store_id, _region, category_id, day, score, weight, responses in cells(own):
        series[(store_id, category_id)][_as_date(day)] = _Cell(
            float(score), float(weight) < minimum, responses
        )

    chain_scores: dict[int, list[float]] = defaultdict(list)
    region_scores: dict[tuple[int, int], list[float]] = defaultdict(list)
    for _store, region_id, category_id, _day, score, _w, _r in cells(
        _combined(start=week, end=week, store_ids=None)
    ):
        chain_scores[category_id].append(float(score))
        region_scores[(region_id, category_id)].append(float(score))
    empty = maths.Benchmark([])
    chain = {key: maths.Benchmark(values) for key, values in chain_scores.items()}
    region = {key: maths.Benchmark(values) for key, values in region_scores.items()}
    regions = dict(Store.objects.filter(id__in=store_ids).values_list("id", "region_id"))
    weeks = [weeks_back(week, i) for i in range(history_weeks + 1)]

    return {
        store_id: [
            _trend(
                category,
                weeks,
                series.get((store_id, category.id), {}),
                chain.get(category.id, empty),
                region.get((regions[store_id], category.id), empty),
            )
            for category in categories
        ]
        for store_id in store_ids
        if store_id in regions
    }


def _trend(
    category: Category,
    weeks: list[dt.date],
    cells: dict[dt.date, _Cell],
    chain: maths.Benchmark,
    region: maths.Benchmark,
) -> CategoryTrend:
    """`weeks` runs back from the trend's week: weeks[i] is i weeks before it."""
    week = weeks[0]
    now = cells.get(week)
    before = cells.get(weeks[1])
    change = round(now.score - before.score, 1) if now and before else None

    recent = [cells[w].score for w in weeks[:4] if w in cells]
    points = [(-i, cells[w].score) for i, w in enumerate(weeks[:12]) if w in cells]
    # Usual week-to-week movement, measured before this week so a big move can't hide itself.
    changes = []
    for i in range(1, len(weeks) - 1):
        later, earlier = cells.get(weeks[i]), cells.get(weeks[i + 1])
        if later and earlier and not (later.low_confidence or earlier.low_confidence):
            changes.append(later.score - earlier.score)
    noise_sd = maths.noise(changes)
    confident = bool(now and before and not now.low_confidence and not before.low_confidence)
    significant = confident and maths.is_significant(
        change,
        noise_sd,
        sigmas=settings.SCORING_NOISE_SIGMAS,
        floor=settings.SCORING_NOISE_FLOOR,
    )

    def one_place(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return CategoryTrend(
        category=category,
        week=week,
        score=one_place(now.score) if now else None,
        responses=now.responses if now else None,
        low_confidence=bool(now and now.low_confidence),
        change=change,
        moving_average=one_place(maths.mean(recent)),
        slope=None if (s := maths.slope(points)) is None else round(s, 2),
        noise=None if noise_sd is None else round(noise_sd, 2),
        significant=significant,
        region_percentile=one_place(region.rank(now.score)) if now else None,
        chain_percentile=one_place(chain.rank(now.score)) if now else None,
        region_median=one_place(region.median),
        chain_median=one_place(chain.median),
        chain_top_quartile=one_place(chain.top_quartile),
    )


def confident_changes(*, store_ids: Sequence[int], week: dt.date) -> dict[tuple[int, int], float]:
    """Week-over-week change per (store id, category id) where this week's score is confident:
    the `change` of a confident `CategoryTrend`, in one query over two weeks instead of twelve, for
    comparing a store with every other store of its region."""
    previous = weeks_back(week, 1)
    sql, params = _combined(start=previous, end=week, store_ids=store_ids)
    minimum = settings.SCORING_MIN_RESPONSES
    now, before = {}, {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for store_id, _region, category_id, day, score, weight, _responses in cursor.fetchall():
            cells = now if _as_date(day) == week else before
            cells[(store_id, category_id)] = (float(score), float(weight) < minimum)
    return {
        key: round(score - before[key][0], 1)
        for key, (score, low_confidence) in now.items()
        if not low_confidence and key in before
    }


def combined_scores(
    *, store_ids: Sequence[int], start: dt.date, end: dt.date
) -> list[tuple[int, int, int, dt.date, float]]:
    """(store id, region id, category id, week, score) for every scored cell, in one query."""
    if not store_ids:
        return []
    sql, params = _combined(start=start, end=end, store_ids=store_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            (store_id, region_id, category_id, _as_date(day), float(score))
            for store_id, region_id, category_id, day, score, _w, _r in cursor.fetchall()
        ]


def category_series(*, store_ids: Sequence[int], weeks: int) -> list[dict]:
    """Each store's combined score per category and week over the last `weeks` weeks, in one
    query: the improvement-over-time view."""
    if not store_ids:
        return []
    end = latest_scored_week(store_ids)
    if end is None:
        return []
    sql, params = _combined(start=weeks_back(end, weeks - 1), end=end, store_ids=store_ids)
    stores = dict(Store.objects.filter(id__in=store_ids).values_list("id", "code"))
    categories = dict(Category.objects.values_list("id", "code"))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return sorted(
        (
            {
                "store": stores[store_id],
                "category": categories[category_id],
                "week": _as_date(day),
                "score": round(float(score), 1),
            }
            for store_id, _region, category_id, day, score, _weight, _responses in rows
        ),
        key=lambda r: (r["store"], r["category"], r["week"]),
    )


def store_trends(store: Store, week: dt.date) -> list[CategoryTrend]:
    return category_trends(store_ids=[store.id], week=week)[store.id]


@dataclass(frozen=True)
class StoreReport:
    """The seed product's "report of strengths and areas of opportunity" for one store-week."""

    store: Store
    week: dt.date
    strengths: list[CategoryTrend]
    opportunities: list[CategoryTrend]
    largest_drops: list[CategoryTrend]


def strengths_and_opportunities(
    store: Store, week: dt.date, *, size: int = 3, trends: Sequence[CategoryTrend] | None = None
) -> StoreReport:
    """Top and bottom categories by score, and the largest confident drops.

    Low-confidence scores are listed after confident ones, so a thin sample never crowds out a
    well-measured strength or weakness.
    """
    if trends is None:
        trends = store_trends(store, week)
    scored = [t for t in trends if t.score is not None]
    strengths = sorted(scored, key=lambda t: (t.low_confidence, -t.score))[:size]
    opportunities = sorted(scored, key=lambda t: (t.low_confidence, t.score))[:size]
    drops = sorted(
        (t for t in scored if t.change is not None and t.change < 0 and not t.low_confidence),
        key=lambda t: t.change,
    )[:size]
    return StoreReport(store, week, strengths, opportunities, drops)


def latest_scored_week(store_ids: Sequence[int] | None = None) -> dt.date | None:
    scores = CategoryScore.objects.all()
    if store_ids is not None:
        scores = scores.filter(store_id__in=store_ids)
    return scores.order_by("-week").values_list("week", flat=True).first()


@dataclass(frozen=True)
class RegionCategoryWeek:
    region: str
    category: str
    week: dt.date
    stores: int
    average: float
    lower_quartile: float
    median: float
    upper_quartile: float


CHAIN = "chain"


def region_distribution(
    *, store_ids: Sequence[int], start: dt.date, end: dt.date, chain: bool = False
) -> list[RegionCategoryWeek]:
    """Per region (or, with `chain`, across all the stores as region "chain"), category and
    week: the average and the spread of the stores' scores."""
    regions = {0: CHAIN} if chain else dict(Region.objects.values_list("id", "code"))
    categories = dict(Category.objects.values_list("id", "code"))
    groups: dict[tuple[int, int, dt.date], list[float]] = defaultdict(list)
    for _store, region, category, week, score in combined_scores(
        store_ids=store_ids, start=start, end=end
    ):
        groups[(0 if chain else region, category, week)].append(score)
    rows = []
    for (region, category, week), scores in groups.items():
        ordered = maths.Benchmark(scores)
        rows.append(
            RegionCategoryWeek(
                regions[region],
                categories[category],
                week,
                len(scores),
                round(maths.mean(scores), 1),
                round(maths.quantile(ordered.ordered, 0.25), 1),
                round(ordered.median, 1),
                round(maths.quantile(ordered.ordered, 0.75), 1),
            )
        )
    return sorted(rows, key=lambda r: (r.region, r.category, r.week))


IMPROVING_MARGIN = 1.0  # points between the last four weeks and the four before


def improving_and_declining(*, store_ids: Sequence[int], end: dt.date) -> dict[str, list[int]]:
    """Stores whose ROR over the last four weeks is above (below) the four weeks before by more
    than IMPROVING_MARGIN points; the rest are steady."""
    points = weekly_ror(start=weeks_back(end, 7), end=end, store_ids=store_ids)
    recent, before = defaultdict(list), defaultdict(list)
    for p in points:
        (recent if p.week > weeks_back(end, 4) else before)[p.store_id].append(p.ror)
    result = {"improving": [], "declining": [], "steady": []}
    for store_id in sorted(set(recent) & set(before)):
        delta = maths.mean(recent[store_id]) - maths.mean(before[store_id])
        if delta > IMPROVING_MARGIN:
            result["improving"].append(store_id)
        elif delta < -IMPROVING_MARGIN:
            result["declining"].append(store_id)
        else:
            result["steady"].append(store_id)
    return result
