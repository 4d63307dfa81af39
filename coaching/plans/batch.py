"""The weekly batch: plans for many (manager, store) pairs, the LLM calls run concurrently.

Plan generation is split so the slow part holds no database lock: the inputs of a whole batch are
loaded in bulk (`week_context`), each plan's LLM call runs in a thread pool
(COACH_LLM_CONCURRENCY in flight), and each finished plan is written in its own short transaction
(`services.save_plan`). Plans are unique per (manager, store, week) and keyed by a fingerprint of
their inputs, so re-running a week, or a redelivered task, reuses what exists instead of writing
twice.
"""

import datetime as dt
import hashlib
import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections

from scoring.models import Store
from scoring.pulse.themes import themes_of
from scoring.weeks import week_label

from ..llm import get_coach
from ..llm.base import FocusItem, GoalText, ModuleRef, PlanRequest
from ..models import WeeklyPlan
from ..modules.recommend import rank_modules
from . import focus as focus_rules
from .access import coached_pairs
from .digests import send_digests
from .services import claim_plans, save_plan
from .week_context import WeekContext, load_week_context

log = logging.getLogger(__name__)
MODULES_PER_CATEGORY = 3


@dataclass
class BatchResult:
    # created, updated, reused, fallback, failed, claimed (another run is coaching it), no_data
    # (a store with no scores yet: no plan)
    counts: Counter = field(default_factory=Counter)
    emailed: int = 0
    # (store code, manager's username, outcome, reason) of every plan that fell back, failed or was left
    # to another run: what an operator needs to see, not only how many.
    problems: list[tuple[str, str, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        c = self.counts
        return (
            f"{c['created']} created, {c['updated']} updated, {c['reused']} reused, "
            f"{c['fallback']} fell back to the playbook, {c['failed']} failed."
            + (f" {c['claimed']} left to another run." if c["claimed"] else "")
            + (f" {c['no_data']} skipped: no scores yet." if c["no_data"] else "")
            + f" {self.emailed} digests emailed."
        )

    def problem_lines(self) -> list[str]:
        """One line per plan that fell back, failed or was left to another run, with why."""
        said = {"fallback": "fell back to the playbook", "failed": "failed", "claimed": "skipped"}
        return [
            f"{store} ({manager}): {said.get(outcome, outcome)}: {reason}"
            for store, manager, outcome, reason in self.problems
        ]


def generate_week(
    week: dt.date, *, store_code: str | None = None, force: bool = False
) -> BatchResult:
    return generate_plans(coached_pairs(store_code=store_code), week, force=force)


def generate_plans(
    pairs: Sequence[tuple[int, int]],
    week: dt.date,
    *,
    force: bool = False,
    coach=None,
    claim_token: str | None = None,
) -> BatchResult:
    """Plans for these (manager, store) pairs; LLM calls run concurrently. `claim_token` names
    this run in the plans it reserves (a Celery task passes its id, so a redelivery can take its
    own claims back); by default each call is a run of its own."""
    result = BatchResult()
    if not pairs:
        return result
    context = load_week_context(week, pairs)
    coach = coach or get_coach()
    users = get_user_model().objects.filter(id__in={m for m, _ in pairs})
    names = dict(users.values_list("id", "first_name"))
    usernames = dict(users.values_list("id", "username"))
    codes = dict(Store.objects.filter(id__in={s for _, s in pairs}).values_list("id", "code"))
    jobs = []
    for manager_id, store_id in pairs:
        if context.data_week is None or store_id not in context.trends:
            result.counts["no_data"] += 1
            log.warning("no scores before %s for store %s: no plan", week, store_id)
            continue
        request, focus = build_request(
            context, manager_id, store_id, names.get(manager_id) or "there", codes[store_id]
        )
        fingerprint = fingerprint_of(request, coach)
        plan = context.existing.get((manager_id, store_id))
        if (
            plan is not None
            and not force
            and plan.fingerprint == fingerprint
            and plan.status in (WeeklyPlan.Status.READY, WeeklyPlan.Status.FALLBACK)
        ):
            result.counts["reused"] += 1
            continue
        jobs.append((manager_id, store_id, request, focus, fingerprint))

    skipped = claim_plans(
        week,
        {(m, s): fingerprint for m, s, _, _, fingerprint in jobs},
        token=claim_token or uuid.uuid4().hex,
        force=force,
    )

    def run(job):
        manager_id, store_id, request, focus, fingerprint = job
        if (manager_id, store_id) in skipped:
            return skipped[(manager_id, store_id)]
        return save_plan(
            manager_id, store_id, week, context, request, focus, fingerprint, coach, force
        )

    def run_in_thread(job):
        try:
            return run(job)
        finally:
            connections.close_all()  # this worker thread's own connections only

    workers = max(1, min(settings.COACH_LLM_CONCURRENCY, len(jobs)))
    if workers == 1 or coach.offline:  # no network to wait on: threads would only add overhead
        outcomes = [run(job) for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="coach") as pool:
            outcomes = list(pool.map(run_in_thread, jobs))
    for (manager_id, store_id, *_), outcome in zip(jobs, outcomes, strict=True):
        result.counts[outcome.outcome] += 1
        if outcome.reason:
            problem = (codes[store_id], usernames[manager_id], outcome.outcome, outcome.reason)
            result.problems.append(problem)
    result.emailed = send_digests(week, pairs)
    return result


def build_request(
    context: WeekContext, manager_id: int, store_id: int, first_name: str, store_code: str
) -> tuple[PlanRequest, list[focus_rules.Focus]]:
    trends = context.trends[store_id]
    # The soonest goals, as many as a manager may have (goals made before the cap existed too):
    # the prompt stays a few KB whatever is in the table.
    goals = context.goals.get((manager_id, store_id), [])[: settings.GOALS_PER_MANAGER]
    targets = {
        g.category.code: focus_rules.GoalTarget(
            g.category.code, float(g.target_score), g.due_date.strftime("%d %b %Y")
        )
        for g in goals
    }
    chosen = focus_rules.rank_categories(
        trends,
        goals=targets,
        recently_coached=context.recent_focus.get((manager_id, store_id), set()),
        region_drops=context.largest_drops_elsewhere(store_id),
        impact=context.impact_weights,
    )
    goal_text = {
        code: " ".join(g.intent for g in goals if g.category.code == code) for code in targets
    }
    done = context.completed.get(manager_id, set())
    picks = {
        f.trend.category.code: rank_modules(
            context.candidates,
            category=f.trend.category.code,
            goal_text=goal_text.get(f.trend.category.code, ""),
            category_words=f"{f.trend.category.name} {f.trend.category.description}",
            completed=done,
            limit=MODULES_PER_CATEGORY,
        )
        for f in chosen
    }
    request = PlanRequest(
        manager_first_name=first_name,
        store_code=store_code,
        week=week_label(context.week),
        data_week=week_label(context.data_week),
        focus=tuple(
            FocusItem(
                category=f.trend.category.code,
                name=f.trend.category.name,
                score=f.trend.score,
                change=f.trend.change,
                region_median=f.trend.region_median,
                chain_top_quartile=f.trend.chain_top_quartile,
                slope=f.trend.slope,
                situation=f.situation,
                reason=f.reason,
                goal_target=f.goal.target if f.goal else None,
                goal_due=f.goal.due if f.goal else None,
            )
            for f in chosen
        ),
        goals=tuple(
            GoalText(g.category.code, float(g.target_score), g.due_date.isoformat(), g.intent)
            for g in goals
        ),
        modules=tuple(
            ModuleRef(m.slug, m.title, m.summary, code, m.slug in done)
            for code in sorted(picks)
            for m in picks[code]
        ),
        recent_practices=tuple(sorted(context.recent_practices.get((manager_id, store_id), ()))),
        customer_comments=tuple(context.comments.get(store_id, ())),
        comment_themes=tuple(
            f"{theme} ({count})" for theme, count in themes_of(context.comments.get(store_id, ()))
        ),
    )
    return request, chosen


def fingerprint_of(request: PlanRequest, coach) -> str:
    source = f"{coach.name}|{coach.model}|{coach.prompt_version}|{request.fingerprint_source()}"
    return hashlib.sha256(source.encode()).hexdigest()
