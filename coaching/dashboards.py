"""Reads behind the web pages: each page's data in a fixed number of queries.

Every function takes stores the caller may already see (views scope them with
`scoring.access`), loads scores, trends, goals and plans in bulk, and returns plain dataclasses
the templates render. Nothing here depends on the number of stores, weeks or tips.
"""

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from scoring import maths
from scoring.drivers import store_quadrant
from scoring.models import Category, Region, Store
from scoring.selectors import (
    CategoryTrend,
    RegionCategoryWeek,
    category_trends,
    combined_scores,
    improving_and_declining,
    latest_scored_week,
    region_distribution,
    strengths_and_opportunities,
    weekly_ror,
)
from scoring.weeks import week_start, weeks_back

from .impact import ImpactReport, report_rows
from .models import CoachingTip, Goal, WeeklyPlan
from .selectors import GoalProgress, coaching_impact, engagement_by_week, goal_progress

HISTORY_WEEKS = 26
SPARK_WEEKS = 12


def week_axis(end: dt.date, count: int) -> list[dt.date]:
    return [weeks_back(end, n) for n in range(count - 1, -1, -1)]


def series_by_store_and_category(
    store_ids: Sequence[int], weeks: list[dt.date]
) -> dict[tuple[int, int], list[float | None]]:
    """{(store id, category id): scores aligned to `weeks`, None where unscored}, one query."""
    index = {week: n for n, week in enumerate(weeks)}
    series: dict[tuple[int, int], list[float | None]] = defaultdict(lambda: [None] * len(weeks))
    for store, _region, category, week, score in combined_scores(
        store_ids=store_ids, start=weeks[0], end=weeks[-1]
    ):
        series[(store, category)][index[week]] = round(score, 1)
    return series


def ror_by_store(store_ids: Sequence[int], weeks: list[dt.date]) -> dict[int, list[float | None]]:
    index = {week: n for n, week in enumerate(weeks)}
    result: dict[int, list[float | None]] = defaultdict(lambda: [None] * len(weeks))
    for point in weekly_ror(start=weeks[0], end=weeks[-1], store_ids=store_ids):
        result[point.store_id][index[point.week]] = point.ror
    return result


def change(values: Sequence[float | None]) -> float | None:
    """Last value against the one before it, when both exist."""
    if len(values) < 2 or values[-1] is None or values[-2] is None:
        return None
    return round(values[-1] - values[-2], 1)


def progress_of(goals: Sequence[Goal], trends: dict[int, list[CategoryTrend]], week):
    by_cell = {(s, t.category.id): t for s, ts in trends.items() for t in ts}
    return [
        goal_progress(g, week=week, trend=by_cell[(g.store_id, g.category_id)])
        for g in goals
        if (g.store_id, g.category_id) in by_cell
    ]


def goal_progress_without_scores(goal: Goal) -> GoalProgress:
    baseline = None if goal.baseline_score is None else float(goal.baseline_score)
    return GoalProgress(goal, None, baseline, float(goal.target_score), None, "no_data")


def goals_with_progress(goals: QuerySet[Goal]) -> list[GoalProgress]:
    """Each goal's progress at its store's latest scored week; goals with no scores yet say so."""
    goals = list(goals.select_related("category", "store"))
    store_ids = sorted({g.store_id for g in goals})
    week = latest_scored_week(store_ids) if store_ids else None
    if week is None:
        return [goal_progress_without_scores(g) for g in goals]
    return progress_of(goals, category_trends(store_ids=store_ids, week=week), week)


# --- the manager's week -----------------------------------------------------------------------


@dataclass
class CategoryRow:
    trend: CategoryTrend
    spark: list[float | None]


@dataclass
class ManagerWeek:
    store: Store
    plan: WeeklyPlan | None
    tips: list[CoachingTip]
    week: dt.date | None  # the scored week shown
    ror: float | None
    ror_change: float | None
    ror_spark: list[float | None]
    categories: list[CategoryRow]
    goals: list[GoalProgress]

    @property
    def trends(self) -> list[CategoryTrend]:
        return [row.trend for row in self.categories]


def current_plan(manager, store: Store, today: dt.date) -> WeeklyPlan | None:
    return (
        WeeklyPlan.objects.filter(manager=manager, store=store, week__lte=today)
        .exclude(status__in=(WeeklyPlan.Status.PENDING, WeeklyPlan.Status.FAILED))
        .order_by("-week")
        .first()
    )


def tips_of(plan: WeeklyPlan | None) -> list[CoachingTip]:
    if plan is None:
        return []
    return list(plan.tips.select_related("category", "module").order_by("order"))


def manager_week(manager, store: Store, plan: WeeklyPlan | None) -> ManagerWeek:
    week = latest_scored_week([store.id])
    if week is None:
        return ManagerWeek(store, plan, tips_of(plan), None, None, None, [], [], [])
    weeks = week_axis(week, SPARK_WEEKS)
    trends = category_trends(store_ids=[store.id], week=week)
    series = series_by_store_and_category([store.id], weeks)
    ror = ror_by_store([store.id], weeks)[store.id]
    goals = Goal.objects.filter(manager=manager, store=store, status=Goal.Status.ACTIVE)
    return ManagerWeek(
        store=store,
        plan=plan,
        tips=tips_of(plan),
        week=week,
        ror=ror[-1],
        ror_change=change(ror),
        ror_spark=ror,
        categories=[CategoryRow(t, series[(store.id, t.category.id)]) for t in trends[store.id]],
        goals=progress_of(list(goals.select_related("category", "store")), trends, week),
    )


# --- one store, over time -----------------------------------------------------------------------


@dataclass
class SinceCoaching:
    category: Category
    before: dt.date  # the week before the first plan
    then: float | None
    now: float | None

    @property
    def change(self) -> float | None:
        if self.then is None or self.now is None:
            return None
        return round(self.now - self.then, 1)


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

    @property
    def impact_rows(self) -> list:
        return impact_rows(self.impact, self.categories)


def since_coaching(
    store_ids: Sequence[int],
    categories: Sequence[Category],
    began: dt.date | None,
    end: dt.date,
) -> list[SinceCoaching]:
    """Average score per category in the week before coaching began and now, over these
    stores: the plan's own week already carries some of its effect."""
    if began is None:
        return []
    before = weeks_back(began, 1)
    then, now = defaultdict(list), defaultdict(list)
    for _store, _region, category, week, score in combined_scores(
        store_ids=store_ids, start=before, end=end
    ):
        if week == before:
            then[category].append(score)
        if week == end:
            now[category].append(score)

    def average(values):
        return None if not values else round(maths.mean(values), 1)

    return [SinceCoaching(c, before, average(then[c.id]), average(now[c.id])) for c in categories]


def first_coaching_week(store_ids: Sequence[int]) -> dt.date | None:
    return WeeklyPlan.objects.filter(store_id__in=store_ids).aggregate(first=Min("week"))["first"]


def store_page(store: Store, visible: QuerySet[Store]) -> StorePage:
    week = latest_scored_week([store.id])
    if week is None:
        return StorePage(store, None)
    weeks = week_axis(week, HISTORY_WEEKS)
    trends = category_trends(store_ids=[store.id], week=week)
    categories = [t.category for t in trends[store.id]]
    names = {c.code: c.name for c in categories}
    pool = list(visible.filter(region_id=store.region_id).values_list("id", flat=True))
    series = series_by_store_and_category([store.id], weeks)
    goals = Goal.objects.filter(store=store, status=Goal.Status.ACTIVE)
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
        since_coaching=since_coaching(
            [store.id], categories, first_coaching_week([store.id]), week
        ),
        categories=categories,
        impact=region_impact(pool),
        impact_stores=len(pool),
    )


# --- a region, for its lead ---------------------------------------------------------------------


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

    @property
    def impact_rows(self) -> list:
        return impact_rows(self.impact, self.categories)


ENGAGEMENT_WEEKS = 8  # plans come weekly, a tip's follow-through takes weeks
AT_RISK = 5


def region_dashboard(region: Region, stores: QuerySet[Store]) -> RegionDashboard:
    stores = list(stores.filter(region=region).order_by("code"))
    ids = [s.id for s in stores]
    week = latest_scored_week(ids) if ids else None
    if week is None:
        return RegionDashboard(region, None)
    weeks = week_axis(week, HISTORY_WEEKS)
    trends = category_trends(store_ids=ids, week=week)
    categories = [t.category for t in trends[ids[0]]]
    ror = ror_by_store(ids, weeks)
    goals = Goal.objects.filter(store_id__in=ids, status=Goal.Status.ACTIVE)
    progress = progress_of(list(goals.select_related("category", "store")), trends, week)
    goals_by_store: dict[int, Counter] = defaultdict(Counter)
    for p in progress:
        goals_by_store[p.goal.store_id][p.status] += 1
    this_week = week_start(timezone.localdate())
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
                engagement.get(store.code, _no_engagement()),
                goals_by_store[store.id],
                risk=round(-drift + 2 * off, 2),
            )
        )
    began = first_coaching_week(ids)
    return RegionDashboard(
        region=region,
        week=week,
        categories=categories,
        rows=rows,
        weeks=weeks,
        average_ror=[_mean_or_none([ror[s][n] for s in ids]) for n in range(len(weeks))],
        goal_status=Counter(p.status for p in progress),
        at_risk=sorted((r for r in rows if r.risk > 0), key=lambda r: -r.risk)[:AT_RISK],
        movement=improving_and_declining(store_ids=ids, end=week),
        since_coaching=since_coaching(ids, categories, began, week),
        impact=region_impact(ids, week=week, began=began),
        distribution=category_spread(ids, categories, weeks),
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
    store_ids: Sequence[int], categories: Sequence[Category], weeks: list[dt.date]
) -> list[CategorySpread]:
    index = {w: n for n, w in enumerate(weeks)}
    rows = region_distribution(store_ids=store_ids, start=weeks[0], end=weeks[-1], chain=True)
    averages = {c.code: [None] * len(weeks) for c in categories}
    latest: dict[str, RegionCategoryWeek] = {}
    for row in rows:
        if row.category in averages:
            averages[row.category][index[row.week]] = row.average
            if row.week == weeks[-1]:
                latest[row.category] = row
    return [CategorySpread(c, averages[c.code], latest.get(c.code)) for c in categories]


IMPACT_CACHE_SECONDS = 15 * 60


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
    week = latest_scored_week(ids) if ids else None
    if week is None:
        return ChainOverview(None, [RegionRow(r, 0, None, None) for r in regions])
    weeks = week_axis(week, HISTORY_WEEKS)
    ror = ror_by_store(ids, weeks)
    rows = []
    for region in regions:
        mine = [s for s, r in region_of.items() if r == region.id]
        series = [_mean_or_none([ror[s][n] for s in mine]) for n in range(len(weeks))]
        rows.append(RegionRow(region, len(mine), series[-1], change(series)))
    categories = list(Category.objects.filter(active=True))
    return ChainOverview(week, rows, category_spread(ids, categories, weeks))


def region_impact(
    store_ids: Sequence[int], *, week: dt.date | None = None, began: dt.date | None = None
) -> ImpactReport | None:
    """Coaching's estimated effect at these stores since their first plan.

    The bootstrap is most of a dashboard's time, so the report is cached; the key moves when a
    plan or tip changes, and new scores come with a new week (re-imported old weeks show within
    IMPACT_CACHE_SECONDS)."""
    if not store_ids:
        return None
    week = week or latest_scored_week(store_ids)
    began = began or first_coaching_week(store_ids)
    if week is None or began is None:
        return None
    key = _impact_key(store_ids, began, week)
    report = cache.get(key)
    if report is None:
        report = coaching_impact(store_ids, start=began, end=week)
        cache.set(key, report, IMPACT_CACHE_SECONDS)
    return report


def _impact_key(store_ids: Sequence[int], began: dt.date, week: dt.date) -> str:
    tips = CoachingTip.objects.filter(plan__store_id__in=store_ids).aggregate(
        tips=Count("id"), done=Count("done_at"), last=Max("done_at")
    )
    stores = hashlib.sha256(",".join(map(str, sorted(store_ids))).encode()).hexdigest()[:24]
    last = tips["last"].timestamp() if tips["last"] else 0
    return f"coaching:impact:{stores}:{began}:{week}:{tips['tips']}:{tips['done']}:{last}"


def impact_rows(report: ImpactReport | None, categories: Sequence[Category]) -> list:
    """The report's rows, categories by their names."""
    if report is None:
        return []
    names = {c.code: c.name for c in categories}
    return report_rows(report, names)


def _mean_or_none(values):
    present = [v for v in values if v is not None]
    return round(maths.mean(present), 1) if present else None


def _no_engagement() -> dict:
    return {"plans": 0, "read": 0, "tips": 0, "done": 0, "helpful": 0, "modules": 0}


def engagement_totals(store_ids: Sequence[int], *, start: dt.date, end: dt.date) -> dict:
    """Per store code over the weeks: plans and plans read, tips and tips done, modules."""
    totals: dict[str, dict] = defaultdict(_no_engagement)
    for row in engagement_by_week(store_ids, start=start, end=end):
        t = totals[row["store"]]
        t["plans"] += row["tips"] > 0
        t["read"] += row["plan_read"]
        t["tips"] += row["tips"]
        t["done"] += row["tips_done"]
        t["helpful"] += row["tips_helpful"]
        t["modules"] += row["modules_completed"]
    return dict(totals)


def plan_archive(manager, stores: QuerySet[Store]) -> QuerySet[WeeklyPlan]:
    return (
        WeeklyPlan.objects.filter(manager=manager, store__in=stores)
        .exclude(status=WeeklyPlan.Status.PENDING)
        .select_related("store")
        .annotate(
            tip_count=Count("tips"), done_count=Count("tips", filter=Q(tips__done_at__isnull=False))
        )
        .order_by("-week")
    )
