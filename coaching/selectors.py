"""Reads for coaching: goal progress and everything a week's plans need, loaded in bulk."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Avg, Count, Max, Prefetch, Q, QuerySet

from scoring.access import role_of, stores_visible_to
from scoring.drivers import chain_drivers
from scoring.models import Category, CategoryScore, Role, Store
from scoring.selectors import CategoryTrend, category_trends, confident_changes, store_trends
from scoring.weeks import week_start, weeks_back

from .models import (
    CoachingTip,
    Goal,
    ModuleCompletion,
    ModuleVersion,
    TrainingModule,
    WeeklyPlan,
)
from .recommend import Candidate

AT_RISK_MARGIN = 5.0  # points short of target at the due date that still count as "at risk"


@dataclass(frozen=True)
class GoalProgress:
    goal: Goal
    current: float | None
    baseline: float | None
    target: float
    projected: float | None  # at the due date, from the 12-week slope
    status: str  # on_track | at_risk | off_track | no_data


def goal_progress(goal: Goal, *, week: dt.date, trend: CategoryTrend | None = None) -> GoalProgress:
    if trend is None:
        trend = next(t for t in store_trends(goal.store, week) if t.category.id == goal.category_id)
    target = float(goal.target_score)
    baseline = None if goal.baseline_score is None else float(goal.baseline_score)
    if trend.score is None:
        return GoalProgress(goal, None, baseline, target, None, "no_data")
    weeks_left = max(0, (goal.due_date - week).days // 7)
    projected = trend.score + (trend.slope or 0.0) * weeks_left
    projected = round(min(100.0, max(0.0, projected)), 1)
    if projected >= target:
        status = "on_track"
    elif projected >= target - AT_RISK_MARGIN:
        status = "at_risk"
    else:
        status = "off_track"
    return GoalProgress(goal, trend.score, baseline, target, projected, status)


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
            "category", "secondary_category"
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
    )


def impact_weights(week: dt.date) -> dict[str, float]:
    """Focus weights from the chain's sales drivers, once there are KPIs to learn them from.
    Computed once per data week and process (a chunk of a batch reuses it)."""
    analysis = chain_drivers(week)
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


# --- training modules ---------------------------------------------------------------------------


def modules_readable_by(user) -> QuerySet[TrainingModule]:
    """Authors see every module in any state; everyone else who may read sees published ones."""
    if not user.is_active:
        return TrainingModule.objects.none()
    if user.has_perm("coaching.change_trainingmodule"):
        return TrainingModule.objects.all()
    if user.has_perm("coaching.view_trainingmodule"):
        return TrainingModule.objects.filter(status=TrainingModule.Status.PUBLISHED)
    return TrainingModule.objects.none()


def readable_version(user, module: TrainingModule) -> ModuleVersion | None:
    """What this user reads: the latest published version; None when they may not read it."""
    if not modules_readable_by(user).filter(pk=module.pk).exists():
        return None
    return module.versions.order_by("-version").first()


def completions_visible_to(user) -> QuerySet[ModuleCompletion]:
    """Managers: their own. Leads: those made at their region's stores. Admins: all. Trainers
    see modules' completion counts, not who completed them."""
    completions = ModuleCompletion.objects.select_related("module", "version", "store")
    role = role_of(user)
    if role == Role.ADMIN:
        return completions
    if role == Role.REGIONAL_LEAD:
        return completions.filter(store__in=stores_visible_to(user))
    if role == Role.STORE_MANAGER:
        return completions.filter(manager=user)
    return completions.none()


def completions_by_store_and_category(user) -> list[dict]:
    """For a lead's review: completions and average quiz score per store and category."""
    return list(
        completions_visible_to(user)
        .values("store__code", "module__category__code")
        .annotate(completions=Count("id"), average_score=Avg("score"))
        .order_by("store__code", "module__category__code")
    )


# --- impact --------------------------------------------------------------------------------------


def coaching_impact(store_ids: Sequence[int], *, start: dt.date, end: dt.date, **options):
    """The impact report (`coaching.impact`) for these stores' coaching between two weeks, from
    their scores and their plans' focus categories, in four queries."""
    from scoring.selectors import combined_scores

    from .impact import Cell, CoachingEvent, impact_report

    codes = dict(Category.objects.values_list("id", "code"))
    history_start = weeks_back(start, 4)
    cells = [
        Cell(store, region, codes[category], week, score)
        for store, region, category, week, score in combined_scores(
            store_ids=store_ids, start=history_start, end=end
        )
    ]
    plans = WeeklyPlan.objects.filter(
        store_id__in=store_ids,
        week__range=(start, end),
        status__in=(WeeklyPlan.Status.READY, WeeklyPlan.Status.FALLBACK),
    ).prefetch_related(Prefetch("tips", queryset=CoachingTip.objects.select_related("category")))
    events = []
    for plan in plans:
        done = {t.category.code for t in plan.tips.all() if t.done_at is not None}
        events += [
            CoachingEvent(plan.store_id, item["category"], plan.week, item["category"] in done)
            for item in plan.focus
        ]
    return impact_report(cells, events, **options)


# --- tracking ------------------------------------------------------------------------------------


def engagement_by_week(store_ids: Sequence[int], *, start: dt.date, end: dt.date) -> list[dict]:
    """Per manager, store and week: plans read, tips done and found helpful, modules completed.
    Two queries whatever the number of managers or weeks."""
    rows = {}
    plans = (
        WeeklyPlan.objects.filter(store_id__in=store_ids, week__range=(start, end))
        .values("manager__username", "store__code", "week", "read_at")
        .annotate(
            tip_count=Count("tips"),
            done=Count("tips", filter=Q(tips__done_at__isnull=False)),
            helpful=Count("tips", filter=Q(tips__helpful=True)),
        )
    )
    for p in plans:
        key = (p["manager__username"], p["store__code"], p["week"])
        rows[key] = {
            "manager": key[0],
            "store": key[1],
            "week": key[2],
            "plan_read": p["read_at"] is not None,
            "tips": p["tip_count"],
            "tips_done": p["done"],
            "tips_helpful": p["helpful"],
            "modules_completed": 0,
        }
    completions = ModuleCompletion.objects.filter(
        store_id__in=store_ids,
        completed_at__date__gte=start,
        completed_at__date__lt=end + dt.timedelta(weeks=1),
    ).values_list("manager__username", "store__code", "completed_at")
    for manager, store, at in completions:
        key = (manager, store, week_start(at.date()))
        row = rows.setdefault(
            key,
            {
                "manager": manager,
                "store": store,
                "week": key[2],
                "plan_read": False,
                "tips": 0,
                "tips_done": 0,
                "tips_helpful": 0,
                "modules_completed": 0,
            },
        )
        row["modules_completed"] += 1
    return [rows[key] for key in sorted(rows, key=lambda k: (k[1], k[0], k[2]))]
