"""The lead's pages as data: one store over time and a region's dashboard (the chain overview is
in `chain`). Each page is a fixed number of queries whatever the number of stores, weeks or tips,
and what it derives from the scores is kept until they change (`scoring.snapshots`); views hand
in the stores the user may see (`scoring.access`) and render the dataclasses here."""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils import timezone

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
from scoring.snapshots import Snapshot, kept_for_scores
from scoring.weeks import week_start, weeks_back

from ..goals.selectors import GoalProgress, progress_of
from ..models import Goal
from . import risk
from .impact import ImpactReport
from .selectors import (
    SinceCoaching,
    change,
    engagement_totals,
    first_coaching_week,
    goals_behind,
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
    as_of: Snapshot | None = None  # when the score figures were computed

    @property
    def impact_rows(self) -> list:
        return impact_rows(self.impact, self.categories)


@dataclass
class StoreScores:
    """What a store's scores say, kept per version of the scores (`scoring.snapshots`)."""

    week: dt.date | None
    pool_week: dt.date | None = None
    trends: dict[int, list[CategoryTrend]] = field(default_factory=dict)
    series: dict[int, list[float | None]] = field(default_factory=dict)
    report: object = None
    quadrant: list[dict] = field(default_factory=list)
    since_coaching: list[SinceCoaching] = field(default_factory=list)


def store_scores(store: Store, pool: list[int], began: dt.date | None) -> StoreScores:
    """One read of the scores (`score_cube`) feeds the trends, series, the change since
    coaching began and the week the region's impact report is for."""
    cube = _page_cube([store.id], began, latest_of=pool)
    week = cube.week
    if week is None:
        return StoreScores(None)
    trends = cube.trends()
    categories = [t.category for t in trends[store.id]]
    names = {c.code: c.name for c in categories}
    series = cube.series(week_axis(week, HISTORY_WEEKS))
    return StoreScores(
        week=week,
        pool_week=cube.latest_week(pool),
        trends=trends,
        series={c.id: series[(store.id, c.id)] for c in categories},
        report=strengths_and_opportunities(store, week, trends=trends[store.id]),
        quadrant=[
            {**q, "name": names.get(q["category"], q["category"])}
            for q in store_quadrant(week, trends[store.id])
        ],
        since_coaching=since_coaching([store.id], categories, began, week, cube=cube),
    )


def store_page(store: Store, visible: QuerySet[Store]) -> StorePage:
    pool = list(visible.filter(region_id=store.region_id).values_list("id", flat=True))
    began = first_coaching_week([store.id])
    snapshot = kept_for_scores(
        "store", [store.id, pool, began], lambda: store_scores(store, pool, began)
    )
    scores = snapshot.value
    week = scores.week
    if week is None:
        return StorePage(store, None)
    goals = Goal.objects.filter(store=store, status=Goal.Status.ACTIVE)
    impact = region_impact(pool, week=scores.pool_week) if scores.pool_week else None
    return StorePage(
        store=store,
        week=week,
        weeks=week_axis(week, HISTORY_WEEKS),
        series=scores.series,
        goals=progress_of(
            list(goals.select_related("category", "store", "manager")), scores.trends, week
        ),
        report=scores.report,
        quadrant=scores.quadrant,
        since_coaching=scores.since_coaching,
        categories=[t.category for t in scores.trends[store.id]],
        impact=impact.value if impact else None,
        impact_stores=len(pool),
        impact_result=impact,
        as_of=snapshot,
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
    engagement: dict | None
    goals: Counter
    risk: float  # the rank of `risk.assess`, 0 when not at risk
    reasons: list[risk.Reason] = field(default_factory=list)


GOAL_FIELDS = ("store_id", "category_id", "kind", "target_score", "due_date", "baseline_score")
REGION_PAGE_SIZE = 50  # stores per page of the heatmap: a person reads rows, not a thousand
REGION_SORTS = {
    "risk": lambda r: (-r.risk, r.store.code),
    "ror": lambda r: (r.ror is None, r.ror if r.ror is not None else 0.0, r.store.code),
    "change": lambda r: (r.ror_change is None, r.ror_change or 0.0, r.store.code),
    "store": lambda r: r.store.code,
}


@dataclass
class RegionScores:
    """What a region's scores say, whatever the goals and tips: kept per version of the scores
    (`scoring.snapshots`), so a view after the first reads no history."""

    week: dt.date | None
    weeks: list[dt.date] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    trends: dict[int, list[CategoryTrend]] = field(default_factory=dict)
    ror: dict[int, list[float | None]] = field(default_factory=dict)
    movement: dict = field(default_factory=dict)
    since_coaching: list[SinceCoaching] = field(default_factory=list)
    distribution: list["CategorySpread"] = field(default_factory=list)


def region_scores(ids: list[int], began: dt.date | None) -> RegionScores:
    """One read of the stores' scores (`score_cube`): trends, ROR, movement, the change since
    coaching began and the categories' spread all come from it."""
    cube = _page_cube(ids, began)
    week = cube.week
    if week is None:
        return RegionScores(None)
    weeks = week_axis(week, HISTORY_WEEKS)
    trends = cube.trends()
    categories = [t.category for t in trends[ids[0]]]
    ror = cube.ror(weeks)
    return RegionScores(
        week=week,
        weeks=weeks,
        categories=categories,
        trends=trends,
        ror={s: ror[s] for s in ids},
        movement=improving_and_declining(store_ids=ids, end=week, cube=cube),
        since_coaching=since_coaching(ids, categories, began, week, cube=cube),
        distribution=category_spread(cube, categories, weeks),
    )


@dataclass
class RegionDashboard:
    region: Region
    week: dt.date | None
    categories: list[Category] = field(default_factory=list)
    rows: list[HeatRow] = field(default_factory=list)  # this page of the sorted, searched stores
    weeks: list[dt.date] = field(default_factory=list)
    average_ror: list[float | None] = field(default_factory=list)
    goal_status: Counter = field(default_factory=Counter)
    at_risk: list[HeatRow] = field(default_factory=list)
    movement: dict = field(default_factory=dict)
    since_coaching: list[SinceCoaching] = field(default_factory=list)
    impact: ImpactReport | None = None
    distribution: list["CategorySpread"] = field(default_factory=list)
    impact_result: Computed | None = None
    listing: Page | None = None  # the heatmap's page of stores, for the pager
    sort: str = "risk"
    query: str = ""
    store_count: int = 0
    as_of: Snapshot | None = None  # when the score figures were computed

    @property
    def impact_rows(self) -> list:
        return impact_rows(self.impact, self.categories)


def region_snapshot(ids: list[int], began: dt.date | None, *, wait: bool = False) -> Snapshot:
    """`region_scores`, kept until the scores change (`scoring.snapshots`)."""
    return kept_for_scores("region", [ids, began], lambda: region_scores(ids, began), wait=wait)


def region_dashboard(
    region: Region, stores: QuerySet[Store], *, sort: str = "risk", query: str = "", page=1
) -> RegionDashboard:
    """Every store counts in the aggregates and "most at risk"; the heatmap and engagement
    tables show one page of the stores, sorted and searched."""
    stores = list(stores.filter(region=region).order_by("code").only("code", "name", "region"))
    ids = [s.id for s in stores]
    if not ids:
        return RegionDashboard(region, None)
    began = first_coaching_week(ids)
    snapshot = region_snapshot(ids, began)
    scores = snapshot.value
    week = scores.week
    if week is None:
        return RegionDashboard(region, None)
    # Only counted per store and status here: the fields progress needs, no related rows.
    goals = Goal.objects.filter(store_id__in=ids, status=Goal.Status.ACTIVE).only(*GOAL_FIELDS)
    progress = progress_of(list(goals), scores.trends, week)
    rows = _heat_rows(stores, scores, progress)
    listing = _listing(rows, sort=sort, query=query, page=page)
    this_week = week_start(timezone.localdate())
    engagement = engagement_totals(
        [r.store.id for r in listing],
        start=weeks_back(this_week, ENGAGEMENT_WEEKS - 1),
        end=this_week,
    )
    for row in listing:
        row.engagement = engagement.get(row.store.code, no_engagement())
    impact = region_impact(ids, week=week, began=began)
    ror = scores.ror
    return RegionDashboard(
        region=region,
        week=week,
        categories=scores.categories,
        rows=list(listing),
        weeks=scores.weeks,
        average_ror=[mean_or_none([ror[s][n] for s in ids]) for n in range(len(scores.weeks))],
        goal_status=Counter(p.status for p in progress),
        at_risk=sorted((r for r in rows if r.risk > 0), key=REGION_SORTS["risk"])[:AT_RISK],
        movement=scores.movement,
        since_coaching=scores.since_coaching,
        impact=impact.value if impact else None,
        distribution=scores.distribution,
        impact_result=impact,
        listing=listing,
        sort=sort if sort in REGION_SORTS else "risk",
        query=query,
        store_count=len(stores),
        as_of=snapshot,
    )


def _heat_rows(
    stores: list[Store], scores: RegionScores, progress: list[GoalProgress]
) -> list[HeatRow]:
    goals_by_store: dict[int, Counter] = defaultdict(Counter)
    for p in progress:
        goals_by_store[p.goal.store_id][p.status] += 1
    risks = {r.store_id: r for r in risk.assess(scores.ror, goals_behind(progress))}
    rows = []
    for store in stores:
        ror = scores.ror[store.id]
        found = risks.get(store.id)
        rows.append(
            HeatRow(
                store,
                ror[-1],
                change(ror),
                scores.trends[store.id],
                None,
                goals_by_store[store.id],
                risk=found.score if found else 0.0,
                reasons=found.reasons if found else [],
            )
        )
    return rows


def _listing(rows: list[HeatRow], *, sort: str, query: str, page) -> Page:
    """The stores whose code or name holds `query`, in `sort` order, one page of them."""
    wanted = query.strip().casefold()
    if wanted:
        rows = [
            r
            for r in rows
            if wanted in r.store.code.casefold() or wanted in r.store.name.casefold()
        ]
    rows = sorted(rows, key=REGION_SORTS.get(sort, REGION_SORTS["risk"]))
    return Paginator(rows, REGION_PAGE_SIZE).get_page(page)


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
