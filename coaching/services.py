"""Writes for coaching: goals, feedback, and the weekly plans.

Plan generation is split so the slow part holds no database lock: the inputs of a whole batch are
loaded in bulk, each plan's LLM call runs in a thread pool (COACH_LLM_CONCURRENCY in flight), and
each finished plan is written in its own short transaction. Plans are unique per (manager, store,
week) and keyed by a fingerprint of their inputs, so re-running a week, or a redelivered task,
reuses what exists instead of writing twice.
"""

import datetime as dt
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connections, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from scoring.models import Category, Role, Store
from scoring.selectors import latest_scored_week, store_trends
from scoring.weeks import week_label

from . import focus as focus_rules
from .llm import PLAYBOOK, get_coach
from .llm.base import CallRecord, FocusItem, GoalText, ModuleRef, PlanRequest, TransientLLMError
from .llm.grounding import CoachedPlan, coach_plan
from .models import CoachingTip, Goal, LLMCall, WeeklyPlan
from .recommend import rank_modules
from .selectors import WeekContext, load_week_context

log = logging.getLogger(__name__)
MODULES_PER_CATEGORY = 3


@transaction.atomic
def create_goal(
    *,
    manager,
    store: Store,
    category: Category,
    target_score: float,
    due_date: dt.date,
    intent: str = "",
) -> Goal:
    """A new active goal; the baseline is the store's latest score in the category."""
    if not 0 <= float(target_score) <= 100:
        raise ValidationError("target score must be between 0 and 100")
    if due_date <= timezone.localdate():
        raise ValidationError("due date must be in the future")
    week = latest_scored_week([store.id])
    baseline = None
    if week is not None:
        trend = next(t for t in store_trends(store, week) if t.category.id == category.id)
        baseline = trend.score
    return Goal.objects.create(
        manager=manager,
        store=store,
        category=category,
        target_score=Decimal(str(target_score)).quantize(Decimal("0.1")),
        due_date=due_date,
        intent=intent.strip()[:500],
        baseline_score=None if baseline is None else Decimal(str(baseline)),
    )


@transaction.atomic
def edit_goal(goal: Goal, *, target_score: float, due_date: dt.date, intent: str = "") -> Goal:
    """What a goal aims at and by when; its store, category and baseline stay as set."""
    if not 0 <= float(target_score) <= 100:
        raise ValidationError("target score must be between 0 and 100")
    if due_date != goal.due_date and due_date <= timezone.localdate():
        raise ValidationError("due date must be in the future")
    goal.target_score = Decimal(str(target_score)).quantize(Decimal("0.1"))
    goal.due_date = due_date
    goal.intent = intent.strip()[:500]
    goal.save(update_fields=["target_score", "due_date", "intent"])
    return goal


def drop_goal(goal: Goal) -> Goal:
    """Dropped goals stay on record but leave coaching."""
    goal.status = Goal.Status.DROPPED
    goal.save(update_fields=["status"])
    return goal


def record_feedback(
    tip: CoachingTip,
    *,
    done: bool | None = None,
    helpful: bool | None = None,
    dismissed_reason: str | None = None,
    comment: str | None = None,
    followup_answer: str | None = None,
) -> CoachingTip:
    if done is not None:
        tip.done_at = timezone.now() if done else None
    if helpful is not None:
        tip.helpful = helpful
    if dismissed_reason is not None:
        tip.dismissed_reason = dismissed_reason.strip()[:200]
    if comment is not None:
        tip.comment = comment.strip()[:2000]
    if followup_answer is not None:
        if followup_answer not in CoachingTip.Followup.values:
            raise ValidationError(f"follow-up answer must be one of {CoachingTip.Followup.values}")
        if tip.done_at is None or timezone.now() < tip.done_at + dt.timedelta(weeks=4):
            raise ValidationError("the follow-up is asked four weeks after the tip was done")
        tip.followup_answer = followup_answer
        tip.followup_at = timezone.now()
    tip.save()
    return tip


def tips_due_for_followup(manager) -> "list[CoachingTip]":
    cutoff = timezone.now() - dt.timedelta(weeks=4)
    return list(
        CoachingTip.objects.filter(
            plan__manager=manager, done_at__lte=cutoff, followup_answer=""
        ).select_related("category", "plan")
    )


# --- weekly plans ---------------------------------------------------------------------------


@dataclass
class BatchResult:
    # created, updated, reused, fallback, failed, no_data (a store with no scores yet: no plan)
    counts: Counter = field(default_factory=Counter)
    emailed: int = 0

    def summary(self) -> str:
        c = self.counts
        return (
            f"{c['created']} created, {c['updated']} updated, {c['reused']} reused, "
            f"{c['fallback']} fell back to the playbook, {c['failed']} failed."
            + (f" {c['no_data']} skipped: no scores yet." if c["no_data"] else "")
            + f" {self.emailed} digests emailed."
        )


def manager_store_pairs(*, store_code: str | None = None) -> list[tuple[int, int]]:
    """Every (manager, store) a plan is due for."""
    from scoring.models import Profile

    pairs = Profile.objects.filter(role=Role.STORE_MANAGER, user__is_active=True).filter(
        Q(stores__code=store_code) if store_code else Q(stores__isnull=False)
    )
    return sorted(set(pairs.values_list("user_id", "stores__id")))


def generate_week(
    week: dt.date, *, store_code: str | None = None, force: bool = False
) -> BatchResult:
    return generate_plans(manager_store_pairs(store_code=store_code), week, force=force)


def generate_plans(
    pairs: Sequence[tuple[int, int]], week: dt.date, *, force: bool = False, coach=None
) -> BatchResult:
    """Plans for these (manager, store) pairs; LLM calls run concurrently."""
    result = BatchResult()
    if not pairs:
        return result
    context = load_week_context(week, pairs)
    coach = coach or get_coach()
    from django.contrib.auth import get_user_model

    names = dict(
        get_user_model()
        .objects.filter(id__in={m for m, _ in pairs})
        .values_list("id", "first_name")
    )
    store_codes = dict(Store.objects.filter(id__in={s for _, s in pairs}).values_list("id", "code"))
    jobs = []
    for manager_id, store_id in pairs:
        if context.data_week is None or store_id not in context.trends:
            result.counts["no_data"] += 1
            log.warning("no scores before %s for store %s: no plan", week, store_id)
            continue
        request, focus = build_request(
            context, manager_id, store_id, names.get(manager_id) or "there", store_codes[store_id]
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

    def run(job):
        manager_id, store_id, request, focus, fingerprint = job
        return save_plan(
            manager_id, store_id, week, context, request, focus, fingerprint, coach, force
        )

    def run_in_thread(job):
        try:
            return run(job)
        finally:
            connections.close_all()  # this worker thread's own connections only

    workers = max(1, min(settings.COACH_LLM_CONCURRENCY, len(jobs)))
    if workers == 1 or coach is PLAYBOOK:
        outcomes = [run(job) for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="coach") as pool:
            outcomes = list(pool.map(run_in_thread, jobs))
    for outcome in outcomes:
        result.counts[outcome] += 1
    result.emailed = send_digests(week, pairs)
    return result


def build_request(
    context: WeekContext, manager_id: int, store_id: int, first_name: str, store_code: str
) -> tuple[PlanRequest, list[focus_rules.Focus]]:
    trends = context.trends[store_id]
    goals = context.goals.get((manager_id, store_id), [])
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
    )
    return request, chosen


def fingerprint_of(request: PlanRequest, coach) -> str:
    source = f"{coach.name}|{coach.model}|{coach.prompt_version}|{request.fingerprint_source()}"
    return hashlib.sha256(source.encode()).hexdigest()


def _coach_with_retries(request: PlanRequest, coach, calls: list[CallRecord]) -> CoachedPlan:
    """Transient failures are retried with backoff (Retry-After honoured), then the playbook."""
    attempts = max(1, settings.COACH_LLM_ATTEMPTS)
    for attempt in range(1, attempts + 1):
        try:
            return coach_plan(request, coach, PLAYBOOK, calls)
        except TransientLLMError as exc:
            if attempt == attempts:
                reason = f"LLM unavailable after {attempts} attempts: {exc}"
                return CoachedPlan(PLAYBOOK.weekly_plan(request, calls=calls), PLAYBOOK, reason)
            delay = exc.retry_after
            if delay is None:
                delay = settings.COACH_LLM_BACKOFF_SECONDS * 2 ** (attempt - 1)
            time.sleep(min(delay, 60.0))
    raise AssertionError("unreachable")


def save_plan(
    manager_id: int,
    store_id: int,
    week: dt.date,
    context: WeekContext,
    request: PlanRequest,
    chosen: list[focus_rules.Focus],
    fingerprint: str,
    coach,
    force: bool,
) -> str:
    """Coach one plan and store it; returns created | updated | reused | fallback | failed."""
    calls: list[CallRecord] = []
    try:
        coached = _coach_with_retries(request, coach, calls)
        error = ""
    except Exception as exc:  # the playbook itself failed: record it, never lose the plan row
        log.exception("coaching failed for manager %s store %s", manager_id, store_id)
        coached, error = None, f"{type(exc).__name__}: {exc}"

    with transaction.atomic():
        # Locks an existing row; get_or_create survives a concurrent delivery creating it first
        # (unique constraint) by reading the winner's row.
        plan, created = WeeklyPlan.objects.select_for_update().get_or_create(
            manager_id=manager_id, store_id=store_id, week=week
        )
        if (
            not created
            and not force
            and plan.fingerprint == fingerprint
            and plan.status in (WeeklyPlan.Status.READY, WeeklyPlan.Status.FALLBACK)
        ):
            log_calls(calls, plan=plan)
            return "reused"  # another delivery finished this plan while we were coaching
        if not created:
            plan.tips.all().delete()
        plan.data_week = context.data_week
        plan.fingerprint = fingerprint
        plan.focus = [
            {"category": f.trend.category.code, "priority": f.priority, "reason": f.reason}
            for f in chosen
        ]
        if coached is None:
            plan.status, plan.fallback_reason = WeeklyPlan.Status.FAILED, error
            plan.provider = plan.model = plan.prompt_version = ""
        else:
            used = coached.coach
            plan.status = (
                WeeklyPlan.Status.FALLBACK if coached.fallback_reason else WeeklyPlan.Status.READY
            )
            plan.fallback_reason = coached.fallback_reason
            plan.provider, plan.model, plan.prompt_version = (
                used.name,
                used.model,
                used.prompt_version,
            )
            _save_tips(plan, coached, request, context)
        plan.emailed_at = None
        plan.save()
        log_calls(calls, plan=plan)
    if plan.status == WeeklyPlan.Status.FAILED:
        return "failed"
    if plan.status == WeeklyPlan.Status.FALLBACK and coach is not PLAYBOOK:
        return "fallback"
    return "created" if created else "updated"


def _save_tips(plan: WeeklyPlan, coached: CoachedPlan, request, context: WeekContext) -> None:
    categories = {t.category.code: t.category for t in context.trends[plan.store_id]}
    modules = {m.slug: m for m in context.modules}
    practices = PLAYBOOK.practice_keys(request) if coached.coach is PLAYBOOK else {}
    CoachingTip.objects.bulk_create(
        [
            CoachingTip(
                plan=plan,
                category=categories[tip.category],
                order=order,
                title=tip.title.strip()[:120],
                why=tip.why.strip(),
                steps=[step.strip() for step in tip.steps],
                module=modules.get(tip.module_slug or ""),
                practice_key=practices.get(tip.category, ""),
            )
            for order, tip in enumerate(coached.plan.tips, start=1)
        ]
    )


def log_calls(
    calls: list[CallRecord], *, plan=None, module=None, purpose: str = "weekly_plan"
) -> None:
    price_in = Decimal(str(settings.COACH_PRICE_INPUT_PER_MTOK)) / 1_000_000
    price_out = Decimal(str(settings.COACH_PRICE_OUTPUT_PER_MTOK)) / 1_000_000
    LLMCall.objects.bulk_create(
        [
            LLMCall(
                plan=plan,
                module=module,
                purpose=purpose,
                provider=c.provider,
                model=c.model,
                prompt_version=c.prompt_version,
                attempt=c.attempt,
                tokens_in=c.tokens_in,
                tokens_out=c.tokens_out,
                latency_ms=c.latency_ms,
                cost_usd=(c.tokens_in * price_in + c.tokens_out * price_out).quantize(
                    Decimal("0.000001")
                ),
                outcome=c.outcome,
                error=c.error,
            )
            for c in calls
        ]
    )


def send_digests(week: dt.date, pairs: Sequence[tuple[int, int]]) -> int:
    """Email each manager their plan for the week once, in bulk after the batch.

    Unsent digests (a mail server that was down, a batch that died) go out with the next run for
    the week. A digest is claimed before it is sent, so two deliveries of one task never both send
    it; a send that fails is released for the next run and logged, never failing the batch.
    """
    wanted = set(pairs)
    with transaction.atomic():
        candidates = (
            WeeklyPlan.objects.select_for_update(skip_locked=True)
            .filter(
                week=week,
                emailed_at__isnull=True,
                status__in=(WeeklyPlan.Status.READY, WeeklyPlan.Status.FALLBACK),
                manager_id__in={manager for manager, _ in wanted},
                store_id__in={store for _, store in wanted},
            )
            .exclude(manager__email="")
            .values_list("id", "manager_id", "store_id")
        )
        claimed = [plan_id for plan_id, m, s in candidates if (m, s) in wanted]
        WeeklyPlan.objects.filter(id__in=claimed).update(emailed_at=timezone.now())
    if not claimed:
        return 0
    plans = (
        WeeklyPlan.objects.filter(id__in=claimed)
        .select_related("manager", "store")
        .prefetch_related(
            Prefetch("tips", queryset=CoachingTip.objects.select_related("category", "module"))
        )
    )
    failed = []
    for plan in plans:
        try:
            send_mail(
                f"Your coaching for week {week_label(plan.week)}",
                digest_text(plan),
                None,
                [plan.manager.email],
            )
        except Exception:  # the plan is stored; its digest waits for the next run
            log.exception("digest for plan %s not sent", plan.id)
            failed.append(plan.id)
    if failed:
        WeeklyPlan.objects.filter(id__in=failed).update(emailed_at=None)
    return len(claimed) - len(failed)


def digest_text(plan: WeeklyPlan) -> str:
    lines = [f"Hi {plan.manager.first_name or 'there'},", ""]
    lines.append(f"Your coaching for {plan.store.name}, week {week_label(plan.week)}:")
    for tip in plan.tips.all():
        lines += ["", f"{tip.order}. {tip.title} ({tip.category.name})", f"   {tip.why}"]
        lines += [f"   - {step}" for step in tip.steps]
        if tip.module:
            lines.append(f"   Training: {tip.module.title}")
    lines += ["", f"Open your plan: {settings.SITE_URL}/"]
    return "\n".join(lines)


def touch_read(plan: WeeklyPlan) -> None:
    if plan.read_at is None:
        WeeklyPlan.objects.filter(id=plan.id, read_at__isnull=True).update(read_at=timezone.now())
