"""A page's scores, store x category x week, read in one query, and what the pages derive from
them: series over a week axis, weekly ROR, the latest scored week, and trends against the region
and the chain.

`score_cube` is that query. The query-per-purpose selectors (`scoring.selectors`) share its SQL
and its arithmetic, so a page built on the cube shows the numbers they give, to the last digit.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from django.conf import settings
from django.db import connection

from . import maths
from .models import Category
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
    WHERE {where}
    GROUP BY cs.store_id, st.region_id, cs.category_id, cs.week
"""

# ROR of each store-week of a `combined` set: the weighted mean over the categories present.
ROR_SQL = "SUM(c.score * cat.weight) * 1.0 / SUM(cat.weight)"


def _placeholders(ids: Iterable[int], params: dict, prefix: str = "s") -> str:
    """`%(s0)s, %(s1)s, ...` for the ids, added to `params`; `NULL` for none."""
    placeholders = []
    for index, value in enumerate(ids):
        params[f"{prefix}{index}"] = value
        placeholders.append(f"%({prefix}{index})s")
    return ", ".join(placeholders) or "NULL"


def combined_sql(
    *, start: dt.date, end: dt.date, store_ids: Sequence[int] | None
) -> tuple[str, dict]:
    params = {
        "unknown": settings.SCORING_MIN_RESPONSES,
        "start": connection.ops.adapt_datefield_value(start),
        "end": connection.ops.adapt_datefield_value(end),
    }
    where = "cs.week BETWEEN %(start)s AND %(end)s"
    if store_ids is not None:
        where += f" AND cs.store_id IN ({_placeholders(store_ids, params)})"
    return _COMBINED_SQL.format(where=where), params


def as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


@dataclass(frozen=True)
class RorPoint:
    store_id: int
    week: dt.date
    ror: float
    coverage: int  # how many active categories had a score that week


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


class _Cell(NamedTuple):  # a tuple: a region's page builds a quarter of a million of them
    score: float
    low_confidence: bool
    responses: int | None


def trend_history_weeks() -> int:
    """Weeks before a trend's week that its slope and noise look at."""
    return max(settings.SCORING_NOISE_WEEKS, 12)


def build_trends(
    categories: Sequence[Category],
    store_ids: Sequence[int],
    week: dt.date,
    cells: dict[tuple[int, int], dict[dt.date, _Cell]],
    benchmark: Iterable[tuple[int, int, float]],
    regions: dict[int, int],
) -> dict[int, list[CategoryTrend]]:
    """Each store's trends at `week` from its cells and the chain's (region id, category id,
    score) that week; stores missing from `regions` (no such store) are left out."""
    chain_scores: dict[int, list[float]] = defaultdict(list)
    region_scores: dict[tuple[int, int], list[float]] = defaultdict(list)
    for region_id, category_id, score in benchmark:
        chain_scores[category_id].append(score)
        region_scores[(region_id, category_id)].append(score)
    empty = maths.Benchmark([])
    chain = {key: maths.Benchmark(values) for key, values in chain_scores.items()}
    region = {key: maths.Benchmark(values) for key, values in region_scores.items()}
    weeks = [weeks_back(week, i) for i in range(trend_history_weeks() + 1)]
    return {
        store_id: [
            _trend(
                category,
                weeks,
                cells.get((store_id, category.id), {}),
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


@dataclass
class ScoreCube:
    """The combined scores of `store_ids` over the `weeks` up to their latest scored week `week`
    (and over `also`, one more week when given), their weekly ROR, and, when asked for, the
    chain's scores at `week` that trends are benchmarked against."""

    store_ids: list[int]
    week: dt.date | None  # the stores' latest scored week, as `latest_scored_week`
    weeks: list[dt.date]  # oldest first
    also: dt.date | None = None
    # (store id, category id, week, score, weight, responses) by store, category and week
    scored: list[tuple[int, int, dt.date, float, object, int | None]] = field(default_factory=list)
    ror_points: list[RorPoint] = field(default_factory=list)
    benchmark: list[tuple[int, int, float]] | None = None  # (region id, category id, score)
    regions: dict[int, int] = field(default_factory=dict)  # store id -> region id
    latest_of: list[int] = field(default_factory=list)
    latest_of_week: dt.date | None = None

    def latest_week(self, store_ids: Iterable[int] | None = None) -> dt.date | None:
        """The latest scored week of the cube's stores, or of the `latest_of` stores."""
        ids = None if store_ids is None else sorted(store_ids)
        if ids is None or ids == sorted(self.store_ids):
            return self.week
        if ids == sorted(self.latest_of):
            return self.latest_of_week
        raise ValueError("the cube was read without these stores' latest week")

    @cached_property
    def cells(self) -> dict[tuple[int, int], dict[dt.date, _Cell]]:
        """{(store id, category id): {week: cell}}, what trends read."""
        minimum = settings.SCORING_MIN_RESPONSES
        cells: dict[tuple[int, int], dict[dt.date, _Cell]] = defaultdict(dict)
        for store_id, category_id, week, score, weight, responses in self.scored:
            cells[(store_id, category_id)][week] = _Cell(score, float(weight) < minimum, responses)
        return dict(cells)

    def _check(self, weeks: Iterable[dt.date]) -> None:
        held = set(self.weeks) | {self.also}
        if missing := [w for w in weeks if w not in held]:
            raise ValueError(f"the cube holds no scores for {missing}")

    def _check_from(self, start: dt.date) -> None:
        if not self.weeks or start < self.weeks[0]:
            raise ValueError(f"the cube holds no scores from {start}")

    def rows(
        self, start: dt.date, end: dt.date, *, only: Iterable[dt.date] | None = None
    ) -> list[tuple[int, int, int, dt.date, float]]:
        """(store id, region id, category id, week, score) as `combined_scores` between two
        weeks, ordered by store, category and week; with `only`, at those weeks alone."""
        only = None if only is None else set(only)
        if only is not None:
            self._check(only)
        else:
            self._check_from(start)
        return [
            (store_id, self.regions[store_id], category_id, week, score)
            for store_id, category_id, week, score, _weight, _responses in self.scored
            if start <= week <= end and (only is None or week in only)
        ]

    def series(self, weeks: list[dt.date]) -> dict[tuple[int, int], list[float | None]]:
        """{(store id, category id): scores aligned to `weeks`, None where unscored}."""
        self._check(weeks)
        series: dict[tuple[int, int], list[float | None]] = defaultdict(lambda: [None] * len(weeks))
        for key, by_week in self.cells.items():
            for n, week in enumerate(weeks):
                if week in by_week:
                    series[key][n] = round(by_week[week].score, 1)
        return series

    def ror(self, weeks: list[dt.date]) -> dict[int, list[float | None]]:
        """{store id: ROR aligned to `weeks`, None where unscored}."""
        self._check(weeks)
        index = {week: n for n, week in enumerate(weeks)}
        result: dict[int, list[float | None]] = defaultdict(lambda: [None] * len(weeks))
        for point in self.ror_points:
            if point.week in index:
                result[point.store_id][index[point.week]] = point.ror
        return result

    def trends(
        self, categories: Sequence[Category] | None = None
    ) -> dict[int, list[CategoryTrend]]:
        """As `category_trends(store_ids=..., week=cube.week)`."""
        if self.benchmark is None:
            raise ValueError("the cube was read without the chain's benchmark")
        self._check(weeks_back(self.week, i) for i in range(trend_history_weeks() + 1))
        if categories is None:
            categories = list(Category.objects.filter(active=True))
        return build_trends(
            categories, self.store_ids, self.week, self.cells, self.benchmark, self.regions
        )

    def ror_between(self, start: dt.date, end: dt.date) -> list[RorPoint]:
        """As `weekly_ror(start=..., end=...)` for the cube's stores."""
        self._check_from(start)
        return [p for p in self.ror_points if start <= p.week <= end]


def _weeks_before(expr: str, count: int) -> str:
    days = 7 * int(count)
    if connection.vendor == "sqlite":  # dates are ISO text there
        return f"date({expr}, '-{days} days')"
    return f"({expr} - {days})"  # PostgreSQL: a date minus an integer is a date


def _latest_sql(ids: str) -> str:
    """`latest_scored_week` of the stores whose placeholders are `ids`, as a subquery."""
    return f"""(SELECT cs.week FROM scoring_categoryscore cs WHERE cs.store_id IN ({ids})
                ORDER BY cs.week DESC LIMIT 1)"""


def _cube_sql(
    store_ids: list[int], latest_of: list[int], weeks: int, also: dt.date | None, benchmark: bool
) -> tuple[str, dict]:
    params = {"unknown": settings.SCORING_MIN_RESPONSES}
    page = _placeholders(store_ids, params)
    latest = "(SELECT week FROM latest)"
    window = f"cs.week BETWEEN {_weeks_before(latest, weeks - 1)} AND {latest}"
    if also is not None:
        params["also"] = connection.ops.adapt_datefield_value(also)
        window = f"({window} OR cs.week = %(also)s)"
    cells = _COMBINED_SQL.format(where=f"{window} AND cs.store_id IN ({page})")
    # Only placeholders and fixed fragments are formatted in; every value is a parameter.
    extra = ""
    if latest_of:
        others = _latest_sql(_placeholders(latest_of, params, "t"))
        extra += f"UNION ALL SELECT 'latest_of', NULL, NULL, NULL, {others}, NULL, NULL, NULL"
    if benchmark:
        chain = _COMBINED_SQL.format(where=f"cs.week = {latest}")
        extra += f" UNION ALL SELECT 'bench', b.* FROM ({chain}) b"
    sql = f"""
        WITH latest AS {_latest_sql(page)},
        cells AS ({cells})
        SELECT 'cell', store_id, region_id, category_id, week, score, weight, responses FROM cells
        UNION ALL
        SELECT 'ror', c.store_id, NULL, COUNT(*), c.week, {ROR_SQL}, NULL, NULL
        FROM cells c JOIN scoring_category cat ON cat.id = c.category_id
        GROUP BY c.store_id, c.week
        UNION ALL
        SELECT 'store', st.id, st.region_id, NULL, {latest}, NULL, NULL, NULL
        FROM scoring_store st WHERE st.id IN ({page})
        {extra}
    """
    return sql, params


def score_cube(
    store_ids: Sequence[int],
    *,
    weeks: int,
    also: dt.date | None = None,
    benchmark: bool = False,
    latest_of: Sequence[int] = (),
) -> ScoreCube:
    """The stores' scores over `weeks` weeks to their latest scored week, in one query.

    `also` adds one more week (the week before coaching began, say); `benchmark` adds the chain's
    scores at the latest week, for trends, and stretches the weeks to what trends look back on;
    `latest_of` adds the latest scored week of other stores (`ScoreCube.latest_week`).
    """
    if benchmark:
        weeks = max(weeks, trend_history_weeks() + 1)
    store_ids = list(store_ids)
    if not store_ids:
        return ScoreCube([], None, [], also, benchmark=[] if benchmark else None)
    sql, params = _cube_sql(store_ids, list(latest_of), weeks, also, benchmark)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    cube = ScoreCube(store_ids, None, [], also, benchmark=[] if benchmark else None)
    cube.latest_of = list(latest_of)
    dates: dict = {}  # each week's value converted once
    for kind, store_id, region_id, category_id, week, score, weight, responses in rows:
        if kind == "cell":
            day = dates.get(week) or dates.setdefault(week, as_date(week))
            cube.scored.append((store_id, category_id, day, float(score), weight, responses))
        elif kind == "ror":
            point = RorPoint(store_id, as_date(week), round(float(score), 1), category_id)
            cube.ror_points.append(point)
        elif kind == "bench":
            cube.benchmark.append((region_id, category_id, float(score)))
        elif kind == "store":
            cube.regions[store_id] = region_id
            cube.week = None if week is None else as_date(week)
        else:
            cube.latest_of_week = None if week is None else as_date(week)
    cube.scored.sort(key=lambda row: row[:3])
    cube.ror_points.sort(key=lambda p: (p.store_id, p.week))
    if cube.week is not None:
        cube.weeks = [weeks_back(cube.week, n) for n in range(weeks - 1, -1, -1)]
    return cube
