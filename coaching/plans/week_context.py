"""Everything the plans of one batch need, loaded in bulk: a fixed number of queries whatever
the number of managers, stores or modules."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Count, Max, Min

from scoring.drivers import chain_drivers
from scoring.models import Category, CategoryScore, Store
from scoring.pulse.selectors import customer_comments
from scoring.selectors import CategoryTrend, category_trends, confident_changes
from scoring.weeks import weeks_back

from ..models import Goal, ModuleCompletion, TrainingModule, WeeklyPlan
from ..modules.recommend import Candidate


def data_week_for(week: dt.date, store_ids: Sequence[int]) -> dt.date | None:
    """The newest scored week before the coaching week."""
    return (
        CategoryScore.objects.filter(store_id__in=store_ids, week__lt=week)
        .aggregate(latest=Max("week"))
        .get("latest")
    )


@dataclass
class WeekContext:
    """Everything the plans of one batch need, in a fixed number of queries."""

    week: dt.date
    data_week: dt.date | None
    trends: dict[int, list[CategoryTrend]]
    region_of: dict[int, int]
    goals: dict[tuple[int, int], list[Goal]]
    modules: list[TrainingModule]
    existing: dict[tuple[int, int], WeeklyPlan]
    recent_focus: dict[tuple[int, int], set[str]]  # coached with no newer data since
    recent_practices: dict[tuple[int, int], set[str]]
    # Per region and category, the two largest confident drops as (points, store id): enough to
    # find the largest drop among a store's neighbours without scanning the region per plan.
    region_drops: dict[int, dict[str, list[tuple[float, int]]]]
    candidates: list[Candidate]  # the published modules, for `rank_modules`
    completed: dict[int, set[str]]  # slugs of the modules each manager has completed
    impact_weights: dict[str, float]  # from the key driver analysis; empty: all equal
    # The data week's latest customer comments per store, from the pulse (already scrubbed).
    comments: dict[int, list[str]] = field(default_factory=dict)
    # Modules ranked for a (category, goal words, completed slugs): most managers share one.
    module_picks: dict[tuple, list] = field(default_factory=dict)
    # Per store and category code, the scored weeks a trend's slope looks at (at most
    # SLOPE_WEEKS): a reason says "over N weeks" only of weeks there is data for.
    weeks_of_data: dict[int, dict[str, int]] = field(default_factory=dict)

    @cached_property
    def modules_by_slug(self) -> dict[str, TrainingModule]:
        return {m.slug: m for m in self.modules}

    def largest_drops_elsewhere(self, store_id: int) -> dict[str, float]:
        """The largest drop per category among the other stores of this store's region."""
        largest = {}
        for code, top in self.region_drops.get(self.region_of[store_id], {}).items():
            points = next((points for points, other in top if other != store_id), None)
            if points is not None:
                largest[code] = points
        return largest


def load_week_context(week: dt.date, pairs: Sequence[tuple[int, int]]) -> WeekContext:
    """`pairs` are (manager id, store id). Week-over-week changes cover every store of the regions
    involved, so a reason can compare a drop with the rest of the region."""
    store_ids = sorted({store for _, store in pairs})
    manager_ids = sorted({manager for manager, _ in pairs})
    data_week = data_week_for(week, store_ids)
    region_of = dict(
        Store.objects.filter(
            region__in=Store.objects.filter(id__in=store_ids).values("region")
        ).values_list("id", "region_id")
    )
    trends = category_trends(store_ids=store_ids, week=data_week) if data_week else {}

    goals = defaultdict(list)
    for goal in Goal.objects.filter(
        manager_id__in=manager_ids, store_id__in=store_ids, status=Goal.Status.ACTIVE
    ).select_related("category"):
        goals[(goal.manager_id, goal.store_id)].append(goal)

    existing = {}
    recent_focus = defaultdict(set)
    recent_practices = defaultdict(set)
    plans = WeeklyPlan.objects.filter(
        manager_id__in=manager_ids,
        store_id__in=store_ids,
        week__gte=weeks_back(week, 4),
        week__lte=week,
    ).prefetch_related("tips")
    for plan in plans:
        key = (plan.manager_id, plan.store_id)
        if plan.week == week:
            existing[key] = plan
            continue
        recent_practices[key].update(t.practice_key for t in plan.tips.all() if t.practice_key)
        if plan.week >= weeks_back(week, 2) and plan.data_week == data_week:
            recent_focus[key].update(item["category"] for item in plan.focus)
    modules = list(
        TrainingModule.objects.filter(status=TrainingModule.Status.PUBLISHED).select_related(
            "category", "secondary_category", "translation_of"
        )
    )
    completed = defaultdict(set)
    for manager_id, slug in ModuleCompletion.objects.filter(manager_id__in=manager_ids).values_list(
        "manager_id", "module__slug"
    ):
        completed[manager_id].add(slug)
    return WeekContext(
        week,
        data_week,
        trends,
        region_of,
        goals,
        modules,
        existing,
        recent_focus,
        recent_practices,
        _region_drops(region_of, data_week) if data_week else {},
        [candidate_of(m) for m in modules],
        completed,
        impact_weights(data_week) if data_week else {},
        customer_comments(store_ids, data_week) if data_week else {},
        weeks_of_data=scored_weeks(store_ids, data_week) if data_week else {},
    )


SLOPE_WEEKS = 12  # the weeks `CategoryTrend.slope` is fitted over, the trend's week included


def scored_weeks(store_ids: Sequence[int], week: dt.date) -> dict[int, dict[str, int]]:
    """How many of the SLOPE_WEEKS weeks to `week` each store has a score for, per category, in
    one query: a store that joined three weeks ago has slid over three weeks, not twelve. Left
    out where those weeks have gaps: "over N weeks" would then say neither the weeks of data
    nor the time they span."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        CategoryScore.objects.filter(
            store_id__in=store_ids,
            week__gte=weeks_back(week, SLOPE_WEEKS - 1),
            week__lte=week,
        )
        .values_list("store_id", "category__code")
        .annotate(weeks=Count("week", distinct=True), first=Min("week"))
    )
    for store_id, code, weeks, first in rows:
        if weeks_back(week, weeks - 1) == first:
            counts[store_id][code] = weeks
    return counts


def impact_weights(week: dt.date) -> dict[str, float]:
    """Focus weights from the chain's sales drivers, once there are KPIs to learn them from.
    Computed once per data week and process (a chunk of a batch reuses it)."""
    analysis = chain_drivers(week, wait=True)  # the batch runs off the request path
    return {} if analysis is None else analysis.weights()


def candidate_of(module: TrainingModule) -> Candidate:
    secondary = module.secondary_category
    return Candidate(
        module.slug,
        module.title,
        module.summary,
        module.body,
        module.category.code,
        secondary.code if secondary else None,
        module.language,
        module.translation_of.slug if module.translation_of_id else "",
    )


def _region_drops(region_of: dict[int, int], week: dt.date):
    codes = dict(Category.objects.values_list("id", "code"))
    drops: dict[int, dict[str, list[tuple[float, int]]]] = defaultdict(dict)
    changes = confident_changes(store_ids=list(region_of), week=week)
    for (store_id, category_id), change in changes.items():
        if change >= 0:
            continue
        top = drops[region_of[store_id]].setdefault(codes[category_id], [])
        top.append((-change, store_id))
        top.sort(reverse=True)
        del top[2:]
    return drops
