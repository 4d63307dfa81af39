"""Reads: ROR, trends, benchmarks and the strengths/opportunities report.

Every function here runs a fixed number of queries whatever the number of stores or weeks asked
for; the heavy lifting (combining sources, ROR roll-up) happens in SQL, the rest in `maths`.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from . import maths
from .cube import (  # CategoryTrend and RorPoint live with the cube; callers import them here
    ROR_SQL,
    CategoryTrend,
    RorPoint,
    ScoreCube,
    _Cell,
    as_date,
    build_trends,
    combined_sql,
    trend_history_weeks,
)
from .models import Category, CategoryScore, Region, Store
from .weeks import weeks_back


def weekly_ror(
    *, start: dt.date, end: dt.date, store_ids: Sequence[int] | None = None
) -> list[RorPoint]:
    """ROR per store and week between two Mondays (inclusive), ordered by store then week.

    ROR = sum(weight * score) / sum(weight) over the categories present that week.
    """
    combined, params = combined_sql(start=start, end=end, store_ids=store_ids)
    sql = f"""
        WITH combined AS ({combined})
        SELECT c.store_id, c.week, {ROR_SQL}, COUNT(*)
        FROM combined c JOIN scoring_category cat ON cat.id = c.category_id
        GROUP BY c.store_id, c.week
        ORDER BY c.store_id, c.week
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            RorPoint(store_id, as_date(week), round(float(value), 1), coverage)
            for store_id, week, value, coverage in cursor.fetchall()
        ]


def category_trends(*, store_ids: Sequence[int], week: dt.date) -> dict[int, list[CategoryTrend]]:
    """Trends for each store's active categories at `week`, in three queries for any number of
    stores: categories, the stores' recent series, and the whole chain's scores that week."""
    categories = list(Category.objects.filter(active=True))
    minimum = settings.SCORING_MIN_RESPONSES

    def cells(sql_and_params) -> list[tuple]:
        sql, params = sql_and_params
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    series: dict[tuple[int, int], dict[dt.date, _Cell]] = defaultdict(dict)
    start = weeks_back(week, trend_history_weeks())
    for store_id, _region, category_id, day, score, weight, responses in cells(
        combined_sql(start=start, end=week, store_ids=store_ids)
    ):
        series[(store_id, category_id)][as_date(day)] = _Cell(
            float(score), float(weight) < minimum, responses
        )
    chain = [
        (region_id, category_id, float(score))
        for _store, region_id, category_id, _day, score, _w, _r in cells(
            combined_sql(start=week, end=week, store_ids=None)
        )
    ]
    regions = dict(Store.objects.filter(id__in=store_ids).values_list("id", "region_id"))
    return build_trends(categories, store_ids, week, series, chain, regions)


def confident_changes(*, store_ids: Sequence[int], week: dt.date) -> dict[tuple[int, int], float]:
    """Week-over-week change per (store id, category id) where this week's score is confident:
    the `change` of a confident `CategoryTrend`, in one query over two weeks instead of twelve, for
    comparing a store with every other store of its region."""
    previous = weeks_back(week, 1)
    sql, params = combined_sql(start=previous, end=week, store_ids=store_ids)
    minimum = settings.SCORING_MIN_RESPONSES
    now, before = {}, {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for store_id, _region, category_id, day, score, weight, _responses in cursor.fetchall():
            cells = now if as_date(day) == week else before
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
    sql, params = combined_sql(start=start, end=end, store_ids=store_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            (store_id, region_id, category_id, as_date(day), float(score))
            for store_id, region_id, category_id, day, score, _w, _r in cursor.fetchall()
        ]


def category_series(
    *, store_ids: Sequence[int], weeks: int, end: dt.date | None = None
) -> list[dict]:
    """Each store's combined score per category and week over the last `weeks` weeks to `end`
    (by default the stores' latest scored week), in one query: the improvement-over-time view."""
    if not store_ids:
        return []
    end = end or latest_scored_week(store_ids)
    if end is None:
        return []
    sql, params = combined_sql(start=weeks_back(end, weeks - 1), end=end, store_ids=store_ids)
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
                "week": as_date(day),
                "score": round(float(score), 1),
            }
            for store_id, _region, category_id, day, score, _weight, _responses in rows
        ),
        key=lambda r: (r["store"], r["category"], r["week"]),
    )


def store_trends(store: Store, week: dt.date) -> list[CategoryTrend]:
    return category_trends(store_ids=[store.id], week=week)[store.id]


REPORT_SIZE = 3  # categories in each list of the store report


@dataclass(frozen=True)
class StoreReport:
    """The seed product's "report of strengths and areas of opportunity" for one store-week."""

    store: Store
    week: dt.date
    strengths: list[CategoryTrend]
    opportunities: list[CategoryTrend]
    largest_drops: list[CategoryTrend]


def below_benchmark(trend: CategoryTrend) -> bool:
    """The report's benchmark is the chain median: the same middle store for every store, so a
    weak region cannot make a weak score look fine (the store page shows it next to each
    opportunity)."""
    return (
        trend.score is not None
        and trend.chain_median is not None
        and trend.score < trend.chain_median
    )


def report_strengths(
    trends: Iterable[CategoryTrend], *, size: int = REPORT_SIZE
) -> list[CategoryTrend]:
    """The store's best-scored categories at or above the benchmark, confident ones first. The
    one definition of a strength: focus selection (`coaching.plans.focus`) reads it too, so the
    store page never calls "protect" what the weekly tips call "fix"."""
    return sorted(
        (t for t in trends if t.score is not None and not below_benchmark(t)),
        key=lambda t: (t.low_confidence, -t.score),
    )[:size]


def strengths_and_opportunities(
    store: Store,
    week: dt.date,
    *,
    size: int = REPORT_SIZE,
    trends: Sequence[CategoryTrend] | None = None,
) -> StoreReport:
    """Strengths (`report_strengths`); opportunities, only categories below the benchmark, the
    largest shortfall first; and the largest drops, only those beyond the store's usual
    week-to-week movement (`CategoryTrend.significant`, confident data only), so an ordinary
    wobble is never reported as news.

    Low-confidence scores are listed after confident ones, so a thin sample never crowds out a
    well-measured strength or weakness.
    """
    if trends is None:
        trends = store_trends(store, week)
    opportunities = sorted(
        (t for t in trends if below_benchmark(t)),
        key=lambda t: (t.low_confidence, t.score - t.chain_median),
    )[:size]
    drops = sorted(
        (t for t in trends if t.significant and t.change is not None and t.change < 0),
        key=lambda t: t.change,
    )[:size]
    return StoreReport(store, week, report_strengths(trends, size=size), opportunities, drops)


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
    rows = combined_scores(store_ids=store_ids, start=start, end=end)
    return distribution(rows, regions, categories, chain=chain)


def distribution(
    rows: Iterable[tuple[int, int, int, dt.date, float]],
    regions: dict[int, str],
    categories: dict[int, str],
    *,
    chain: bool = False,
) -> list[RegionCategoryWeek]:
    """`region_distribution` of (store, region, category, week, score) rows, as
    `combined_scores` gives them: `regions` and `categories` map ids to codes (region 0 is the
    chain)."""
    groups: dict[tuple[int, int, dt.date], list[float]] = defaultdict(list)
    for _store, region, category, week, score in rows:
        groups[(0 if chain else region, category, week)].append(score)
    result = []
    for (region, category, week), scores in groups.items():
        ordered = maths.Benchmark(scores)
        result.append(
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
    return sorted(result, key=lambda r: (r.region, r.category, r.week))


IMPROVING_MARGIN = 1.0  # points between the last four weeks and the four before


def improving_and_declining(
    *, store_ids: Sequence[int], end: dt.date, cube: ScoreCube | None = None
) -> dict[str, list[int]]:
    """Stores whose ROR over the last four weeks is above (below) the four weeks before by more
    than IMPROVING_MARGIN points; the rest are steady. With `cube` (these stores' scores, read
    for a page), the ROR comes from it rather than from a query."""
    start = weeks_back(end, 7)
    if cube is None:
        points = weekly_ror(start=start, end=end, store_ids=store_ids)
    elif sorted(cube.store_ids) != sorted(store_ids):
        raise ValueError("the cube holds other stores")
    else:
        points = cube.ror_between(start, end)
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
