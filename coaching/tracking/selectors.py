"""Reads for tracking: score series over weeks, improvement since coaching began, engagement with
coaching, and coaching's estimated impact. Each is a fixed number of queries."""

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Max, Min, Q

from scoring import maths, offline
from scoring.cube import ScoreCube, score_cube
from scoring.models import Category
from scoring.offline import Computed
from scoring.selectors import combined_scores, latest_scored_week
from scoring.weeks import week_start, weeks_back

from ..goals.selectors import GoalProgress, progress_of
from ..models import CoachingTip, Goal, ModuleCompletion, WeeklyPlan
from . import risk
from .impact import Cell, CoachingEvent, ImpactReport, impact_report, report_rows

# The region page's history: the email's "at risk" reads the same weeks, so both agree.
RISK_HISTORY_WEEKS = 26


def week_axis(end: dt.date, count: int) -> list[dt.date]:
    return [weeks_back(end, n) for n in range(count - 1, -1, -1)]


def change(values: Sequence[float | None]) -> float | None:
    """Last value against the one before it, when both exist."""
    if len(values) < 2 or values[-1] is None or values[-2] is None:
        return None
    return round(values[-1] - values[-2], 1)


def mean_or_none(values):
    present = [v for v in values if v is not None]
    return round(maths.mean(present), 1) if present else None


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


def since_coaching(
    store_ids: Sequence[int],
    categories: Sequence[Category],
    began: dt.date | None,
    end: dt.date,
    *,
    cube: ScoreCube | None = None,
) -> list[SinceCoaching]:
    """Average score per category in the week before coaching began and now, over these
    stores: the plan's own week already carries some of its effect. With `cube` (these stores'
    scores, read for a page with the week before coaching began), no query."""
    if began is None:
        return []
    before = weeks_back(began, 1)
    if cube is None:
        rows = combined_scores(store_ids=store_ids, start=before, end=end)
    elif sorted(cube.store_ids) != sorted(store_ids):
        raise ValueError("the cube holds other stores")
    else:
        rows = cube.rows(before, end, only=(before, end)) if before <= end else []
    then, now = defaultdict(list), defaultdict(list)
    for _store, _region, category, week, score in rows:
        if week == before:
            then[category].append(score)
        if week == end:
            now[category].append(score)

    def average(values):
        return None if not values else round(maths.mean(values), 1)

    return [SinceCoaching(c, before, average(then[c.id]), average(now[c.id])) for c in categories]


def goals_behind(progress: Sequence[GoalProgress]) -> dict[int, int]:
    """Per store id, its goals off track or at risk."""
    behind: dict[int, int] = defaultdict(int)
    for p in progress:
        if p.status in ("off_track", "at_risk"):
            behind[p.goal.store_id] += 1
    return dict(behind)


def stores_at_risk(store_ids: Sequence[int]) -> list[risk.Risk]:
    """`risk.assess` over these stores at their latest scored week, read as the region page
    reads them (its cube, its goals' progress): three queries."""
    ids = list(store_ids)
    began = first_coaching_week(ids)
    also = None if began is None else weeks_back(began, 1)
    cube = score_cube(ids, weeks=RISK_HISTORY_WEEKS, also=also, benchmark=True)
    if cube.week is None:
        return []
    ror = cube.ror(week_axis(cube.week, RISK_HISTORY_WEEKS))
    goals = Goal.objects.filter(store_id__in=ids, status=Goal.Status.ACTIVE).only(
        "store_id", "category_id", "kind", "target_score", "due_date", "baseline_score"
    )
    progress = progress_of(list(goals), cube.trends(), cube.week)
    return risk.assess({s: ror[s] for s in ids}, goals_behind(progress))


def first_coaching_week(store_ids: Sequence[int]) -> dt.date | None:
    return WeeklyPlan.objects.filter(store_id__in=store_ids).aggregate(first=Min("week"))["first"]


def coaching_impact(store_ids: Sequence[int], *, start: dt.date, end: dt.date, **options):
    """The impact report (`coaching.impact`) for these stores' coaching between two weeks, from
    their scores and their plans' focus categories, in four queries."""
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
    )
    # Values, not model instances: a chain's region has tens of thousands of plans and tips.
    done = defaultdict(set)
    for plan_id, code in CoachingTip.objects.filter(
        plan__in=plans.values("id"), done_at__isnull=False
    ).values_list("plan_id", "category__code"):
        done[plan_id].add(code)
    events = [
        CoachingEvent(store, item["category"], week, item["category"] in done[plan_id])
        for plan_id, store, week, focus in plans.values_list("id", "store_id", "week", "focus")
        for item in focus
    ]
    return impact_report(cells, events, **options)


def region_impact(
    store_ids: Sequence[int], *, week: dt.date | None = None, began: dt.date | None = None
) -> Computed[ImpactReport] | None:
    """Coaching's estimated effect at these stores since their first plan; None without scores
    or coaching.

    The bootstrap is most of a dashboard's time, so the report is computed off the request path
    (`scoring.offline`) and kept per store set, data week and state of the tips: a page serves
    it, or the newest one while the new one computes."""
    if not store_ids:
        return None
    week = week or latest_scored_week(store_ids)
    began = began or first_coaching_week(store_ids)
    if week is None or began is None:
        return None
    return impact_between(store_ids, start=began, end=week)


def impact_between(
    store_ids: Sequence[int], *, start: dt.date, end: dt.date
) -> Computed[ImpactReport]:
    """`coaching_impact` off the request path: served, or computed by a task meanwhile."""
    ids = sorted(store_ids)
    return offline.served(
        _impact_key(ids, start, end),
        latest=_latest_impact_key(ids),
        task="coaching.tasks.compute_impact",
        args=[ids, start.isoformat(), end.isoformat()],
        compute=lambda: coaching_impact(ids, start=start, end=end),
    )


def impact_between_is_fresh(store_ids: Sequence[int], *, start: dt.date, end: dt.date) -> bool:
    return offline.kept(_impact_key(sorted(store_ids), start, end)) is not None


def refresh_impact(store_ids: Sequence[int], *, start: dt.date, end: dt.date) -> None:
    ids = sorted(store_ids)
    report = coaching_impact(ids, start=start, end=end)
    offline.keep(_impact_key(ids, start, end), latest=_latest_impact_key(ids), value=report)


def _stores_hash(store_ids: Sequence[int]) -> str:
    return hashlib.sha256(",".join(map(str, sorted(store_ids))).encode()).hexdigest()[:24]


def _latest_impact_key(store_ids: Sequence[int]) -> str:
    return f"coaching:impact:latest:{_stores_hash(store_ids)}"


def _impact_key(store_ids: Sequence[int], began: dt.date, week: dt.date) -> str:
    tips = CoachingTip.objects.filter(plan__store_id__in=store_ids).aggregate(
        tips=Count("id"), done=Count("done_at"), last=Max("done_at")
    )
    stores = _stores_hash(store_ids)
    last = tips["last"].timestamp() if tips["last"] else 0
    return f"coaching:impact:v2:{stores}:{began}:{week}:{tips['tips']}:{tips['done']}:{last}"


def impact_rows(report: ImpactReport | None, categories: Sequence[Category]) -> list:
    """The report's rows, categories by their names."""
    if report is None:
        return []
    names = {c.code: c.name for c in categories}
    return report_rows(report, names)


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


def no_engagement() -> dict:
    return {"plans": 0, "read": 0, "tips": 0, "done": 0, "helpful": 0, "modules": 0}


def engagement_totals(store_ids: Sequence[int], *, start: dt.date, end: dt.date) -> dict:
    """Per store code over the weeks: plans and plans read, tips and tips done, modules."""
    totals: dict[str, dict] = defaultdict(no_engagement)
    for row in engagement_by_week(store_ids, start=start, end=end):
        t = totals[row["store"]]
        t["plans"] += row["tips"] > 0
        t["read"] += row["plan_read"]
        t["tips"] += row["tips"]
        t["done"] += row["tips_done"]
        t["helpful"] += row["tips_helpful"]
        t["modules"] += row["modules_completed"]
    return dict(totals)
