"""The lead's and admin's pages as data: one store over time, a region's dashboard, and the chain
overview. Each page is a fixed number of queries whatever the number of stores, weeks or tips;
views hand in the stores the user may see (`scoring.access`) and render the dataclasses here."""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from scoring import maths
from scoring.cube import ScoreCube, score_cube
from scoring.drivers import store_quadrant
from scoring.models import Category, Region, Store
from scoring.offline import Computed
from scoring.selectors import (
    CHAIN,
    CategoryTrend,
    RegionCategoryWeek,
    distribution,
    improving_and_declining,
    strengths_and_opportunities,
)
from scoring.weeks import week_start, weeks_back

from ..goals.selectors import GoalProgress, progress_of
from ..models import Goal
from .impact import ImpactReport
from .selectors import (
    SinceCoaching,
    change,
    engagement_totals,
    first_coaching_week,
    impact_rows,
    mean_or_none,
    no_engagement,
    region_impact,
    since_coaching,
    week_axis,
)

HISTORY_WEEKS = 26
ENGAGEMENT_WEEKS = 8  # plans come weekly, a tip's follow-through takes weeks
AT_RISK = 5


@dataclass
class StorePage:
    store: Store
    week: dt.date | None
    weeks: list[dt.date] = field(default_factory=list)
    series: dict[int, list[float | None]] = field(default_factory=dict)  # category id -> scores
    goals: list[GoalProgress] = field(default_factory=list)
    report: object = None
    quadrant: list[dict] = field(default_factory=list)
    since_coaching: list[SinceCoaching] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    impact: ImpactReport | None = None
    impact_stores: int = 0  # the estimate pools the region's stores the viewer may see
    impact_result: Computed | None = None  # when it was computed, whether a newer one is coming

    @property
    def impact_rows(self) -> list:
        return impact_rows(self.impact, self.categories)


def store_page(store: Store, visible: QuerySet[Store]) -> StorePage:
    """One read of the scores (`score_cube`) feeds the trends, series, the change since
    coaching began and the week the impact report is for."""
    pool = list(visible.filter(region_id=store.region_id).values_list("id", flat=True))
    began = first_coaching_week([store.id])
    cube = _page_cube([store.id], began, latest_of=pool)
    week = cube.week
    if week is None:
        return StorePage(store, None)
    weeks = week_axis(week, HISTORY_WEEKS)
    trends = cube.trends()
    categories = [t.category for t in trends[store.id]]
    names = {c.code: c.name for c in categories}
    series = cube.series(weeks)
    goals = Goal.objects.filter(store=store, status=Goal.Status.ACTIVE)
    pool_week = cube.latest_week(pool)
    impact = region_impact(pool, week=pool_week) if pool_week else None
    return StorePage(
        store=store,
        week=week,
        weeks=weeks,
        series={c.id: series[(store.id, c.id)] for c in categories},
        goals=progress_of(list(goals.select_related("category", "store", "manager")), trends, week),
        report=strengths_and_opportunities(store, week, trends=trends[store.id]),
        quadrant=[
            {**q, "name": names.get(q["category"], q["category"])}
            for q in store_quadrant(week, trends[store.id])
        ],
        since_coaching=since_coaching([store.id], categories, began, week, cube=cube),
        categories=categories,
        impact=impact.value if impact else None,
        impact_stores=len(pool),
        impact_result=impact,
    )


def _page_cube(ids: Sequence[int], began: dt.date | None, **options) -> ScoreCube:
    """The page's scores: its history, trends' benchmark, and the week before coaching began."""
    also = None if began is None else weeks_back(began, 1)
    return score_cube(ids, weeks=HISTORY_WEEKS, also=also, benchmark=True, **options)


@dataclass
class HeatRow:
    store: Store
    ror: float | None
    ror_change: float | None
    cells: list[CategoryTrend]
    engagement: dict
    goals: Counter
    risk: float


@dataclass
class RegionDashboard:
    region: Region
    week: dt.date | None
    categories: list[Category] = field(default_factory=list)
    rows: list[HeatRow] = field(default_factory=list)
    weeks: list[dt.date] = field(default_factory=list)
    average_ror: list[float | None] = field(default_factory=list)
    goal_status: Counter = field(default_factory=Counter)
    at_risk: list[HeatRow] = field(default_factory=list)
    movement: dict = field(default_factory=dict)
    since_coaching: list[SinceCoaching] = field(default_factory=list)
    impact: ImpactReport | None = None
    distribution: list["CategorySpread"] = field(default_factory=list)
    impact_result: Computed | None = None

    @property
    def impact_rows(self) -> list:
        return impact_rows(self.impact, self.categories)


def region_dashboard(region: Region, stores: QuerySet[Store]) -> RegionDashboard:
    """The stores' scores are read once (`score_cube`): trends, ROR, movement, the change since
    coaching began and the categories' spread all come from that read."""
    stores = list(stores.filter(region=region).order_by("code"))
    ids = [s.id for s in stores]
    if not ids:
        return RegionDashboard(region, None)
    began = first_coaching_week(ids)
    cube = _page_cube(ids, began)
    week = cube.week
    if week is None:
        return RegionDashboard(region, None)
    weeks = week_axis(week, HISTORY_WEEKS)
    trends = cube.trends()
    categories = [t.category for t in trends[ids[0]]]
    ror = cube.ror(weeks)
    goals = Goal.objects.filter(store_id__in=ids, status=Goal.Status.ACTIVE)
    progress = progress_of(list(goals.select_related("category", "store")), trends, week)
    goals_by_store: dict[int, Counter] = defaultdict(Counter)
    for p in progress:
        goals_by_store[p.goal.store_id][p.status] += 1
    this_week = week_start(timezone.localdate())
    impact = region_impact(ids, week=week, began=began)
    engagement = engagement_totals(
        ids, start=weeks_back(this_week, ENGAGEMENT_WEEKS - 1), end=this_week
    )
    rows = []
    for store in stores:
        recent = [v for v in ror[store.id][-4:] if v is not None]
        before = [v for v in ror[store.id][-8:-4] if v is not None]
        drift = maths.mean(recent) - maths.mean(before) if recent and before else 0.0
        off = goals_by_store[store.id]["off_track"] + goals_by_store[store.id]["at_risk"]
        rows.append(
            HeatRow(
                store,
                ror[store.id][-1],
                change(ror[store.id]),
                trends[store.id],
                engagement.get(store.code, no_engagement()),
                goals_by_store[store.id],
                risk=round(-drift + 2 * off, 2),
            )
        )
    return RegionDashboard(
        region=region,
        week=week,
        categories=categories,
        rows=rows,
        weeks=weeks,
        average_ror=[mean_or_none([ror[s][n] for s in ids]) for n in range(len(weeks))],
        goal_status=Counter(p.status for p in progress),
        at_risk=sorted((r for r in rows if r.risk > 0), key=lambda r: -r.risk)[:AT_RISK],
        movement=improving_and_declining(store_ids=ids, end=week, cube=cube),
        since_coaching=since_coaching(ids, categories, began, week, cube=cube),
        impact=impact.value if impact else None,
        distribution=category_spread(cube, categories, weeks),
        impact_result=impact,
    )


@dataclass
class CategorySpread:
    """A category across the region's stores: the average over time and today's spread."""

    category: Category
    averages: list[float | None]
    latest: RegionCategoryWeek | None

    @property
    def change(self) -> float | None:
        present = [a for a in self.averages if a is not None]
        return round(present[-1] - present[0], 1) if len(present) > 1 else None


def category_spread(
    cube: ScoreCube, categories: Sequence[Category], weeks: list[dt.date]
) -> list[CategorySpread]:
    """As `region_distribution(..., chain=True)` over these categories, from the page's cube."""
    index = {w: n for n, w in enumerate(weeks)}
    codes = {c.id: c.code for c in categories}
    cells = [row for row in cube.rows(weeks[0], weeks[-1]) if row[2] in codes]
    averages = {c.code: [None] * len(weeks) for c in categories}
    latest: dict[str, RegionCategoryWeek] = {}
    for row in distribution(cells, {0: CHAIN}, codes, chain=True):
        averages[row.category][index[row.week]] = row.average
        if row.week == weeks[-1]:
            latest[row.category] = row
    return [CategorySpread(c, averages[c.code], latest.get(c.code)) for c in categories]


@dataclass
class RegionRow:
    region: Region
    stores: int
    ror: float | None
    ror_change: float | None


@dataclass
class ChainOverview:
    week: dt.date | None
    regions: list[RegionRow] = field(default_factory=list)
    distribution: list[CategorySpread] = field(default_factory=list)


def chain_overview(regions: Sequence[Region], stores: QuerySet[Store]) -> ChainOverview:
    """The regions side by side and the categories across all of them, for an admin."""
    region_of = dict(stores.values_list("id", "region_id"))
    ids = list(region_of)
    cube = score_cube(ids, weeks=HISTORY_WEEKS)
    week = cube.week
    if week is None:
        return ChainOverview(None, [RegionRow(r, 0, None, None) for r in regions])
    weeks = week_axis(week, HISTORY_WEEKS)
    ror = cube.ror(weeks)
    rows = []
    for region in regions:
        mine = [s for s, r in region_of.items() if r == region.id]
        series = [mean_or_none([ror[s][n] for s in mine]) for n in range(len(weeks))]
        rows.append(RegionRow(region, len(mine), series[-1], change(series)))
    categories = list(Category.objects.filter(active=True))
    return ChainOverview(week, rows, category_spread(cube, categories, weeks))
