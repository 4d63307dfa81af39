"""Writes for weekly plans: storing a coached plan with its tips, a manager's feedback on a tip,
and the moment a plan was first read. The batch that calls `save_plan` is in `batch.py`."""

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import llm
from ..call_log import log_calls
from ..llm import policy
from ..llm.base import CallRecord, PlanRequest
from ..llm.policy import Answer
from ..llm.schemas import PlanOut
from ..models import CoachingTip, WeeklyPlan
from .focus import Focus
from .week_context import WeekContext

log = logging.getLogger(__name__)


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


def touch_read(plan: WeeklyPlan) -> None:
    if plan.read_at is None:
        WeeklyPlan.objects.filter(id=plan.id, read_at__isnull=True).update(read_at=timezone.now())


COACHED = (WeeklyPlan.Status.READY, WeeklyPlan.Status.FALLBACK)


@dataclass(frozen=True)
class PlanOutcome:
    """What became of one plan: created | updated | reused | fallback | failed | claimed, and why
    it fell back, failed or was left to another run ('' otherwise)."""

    outcome: str
    reason: str = ""


def claim_plans(
    week: dt.date, fingerprints: dict[tuple[int, int], str], *, token: str, force: bool
) -> dict[tuple[int, int], PlanOutcome]:
    """Reserve these (manager, store) plans for the run holding `token` before anyone pays for an
    LLM call. Returns the pairs NOT claimed, with why: another run holds them (its claim counts
    for COACH_CLAIM_SECONDS, then its run is taken for dead), or, unless forced, another run
    finished them with these very inputs meanwhile. The same token claims again (a redelivered
    Celery task). Four queries for the whole batch."""
    WeeklyPlan.objects.bulk_create(
        [WeeklyPlan(manager_id=m, store_id=s, week=week) for m, s in fingerprints],
        ignore_conflicts=True,
    )
    rows = WeeklyPlan.objects.filter(
        week=week,
        manager_id__in={m for m, _ in fingerprints},
        store_id__in={s for _, s in fingerprints},
    ).values_list("id", "manager_id", "store_id")
    ids = {pk: (m, s) for pk, m, s in rows if (m, s) in fingerprints}
    now = timezone.now()
    lapsed = now - dt.timedelta(seconds=settings.COACH_CLAIM_SECONDS)
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=lapsed) | Q(claim_token=token)
    WeeklyPlan.objects.filter(free, id__in=ids).update(claimed_at=now, claim_token=token)
    skipped, mine_done = {}, []
    held = WeeklyPlan.objects.filter(id__in=ids).values_list(
        "id", "claim_token", "fingerprint", "status"
    )
    for pk, holder, fingerprint, status in held:
        pair = ids[pk]
        if holder != token:
            skipped[pair] = PlanOutcome("claimed", "another run is coaching this plan")
        elif not force and fingerprint == fingerprints[pair] and status in COACHED:
            skipped[pair] = PlanOutcome("reused")
            mine_done.append(pk)
    if mine_done:
        WeeklyPlan.objects.filter(id__in=mine_done).update(claimed_at=None, claim_token="")
    return skipped


def save_plan(
    manager_id: int,
    store_id: int,
    week: dt.date,
    context: WeekContext,
    request: PlanRequest,
    chosen: list[Focus],
    fingerprint: str,
    coach,
    force: bool,
) -> PlanOutcome:
    """Coach one plan and store it, releasing its claim."""
    calls: list[CallRecord] = []
    try:  # retries, the one repair and the playbook fallback: all in the LLM policy
        answer = policy.coach_plan(request, coach, calls, retries=llm.retries())
        error = ""
    except Exception as exc:  # the playbook itself failed: record it, never lose the plan row
        log.exception("coaching failed for manager %s store %s", manager_id, store_id)
        answer, error = None, f"{type(exc).__name__}: {exc}"

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
            plan.claimed_at, plan.claim_token = None, ""
            plan.save(update_fields=["claimed_at", "claim_token"])
            return PlanOutcome("reused")  # another delivery finished it while we were coaching
        fresh = created or not plan.fingerprint  # a row its claim made holds no plan yet
        if answer is None and plan.status in COACHED:
            # Regenerating failed outright: the plan the manager has stays as it is, with its
            # old fingerprint, so the next run tries again.
            log_calls(calls, plan=plan)
            plan.claimed_at, plan.claim_token = None, ""
            plan.save(update_fields=["claimed_at", "claim_token"])
            return PlanOutcome("failed", f"{error}; the previous plan stays")
        answered = [] if fresh else _keep_answered_tips(plan)
        plan.data_week = context.data_week
        plan.fingerprint = fingerprint
        plan.focus = [
            {"category": f.trend.category.code, "priority": f.priority, "reason": f.reason}
            for f in chosen
        ]
        if answer is None:
            plan.status, plan.fallback_reason = WeeklyPlan.Status.FAILED, error
            plan.provider = plan.model = plan.prompt_version = ""
        else:
            used = answer.coach
            plan.status = (
                WeeklyPlan.Status.FALLBACK if answer.fell_back else WeeklyPlan.Status.READY
            )
            plan.fallback_reason = answer.fallback_reason
            plan.provider, plan.model, plan.prompt_version = (
                used.name,
                used.model,
                used.prompt_version,
            )
            _save_tips(plan, answer, context, answered)
        # emailed_at stays: a week's digest goes out once, a regenerated plan is read on the web.
        plan.claimed_at = None
        plan.claim_token = ""
        plan.save()
        log_calls(calls, plan=plan)
    if plan.status == WeeklyPlan.Status.FAILED:
        return PlanOutcome("failed", plan.fallback_reason)
    if plan.status == WeeklyPlan.Status.FALLBACK:  # only ever set when the answer fell back
        return PlanOutcome("fallback", plan.fallback_reason)
    return PlanOutcome("created" if fresh else "updated")


ANSWERED = (
    Q(done_at__isnull=False)
    | Q(helpful__isnull=False)
    | ~Q(comment="")
    | ~Q(dismissed_reason="")
    | ~Q(followup_answer="")
)


def _keep_answered_tips(plan: WeeklyPlan) -> list[CoachingTip]:
    """Regeneration replaces only the tips the manager has not answered: a tip marked done,
    helpful or not, commented, dismissed or followed up stays with the plan. Returns those kept."""
    plan.tips.exclude(ANSWERED).delete()
    return list(plan.tips.order_by("order", "id"))


def _save_tips(
    plan: WeeklyPlan,
    answer: Answer[PlanOut],
    context: WeekContext,
    answered: Sequence[CoachingTip] = (),
) -> None:
    """The answer's tips, each with the playbook practice it uses (none for an LLM's tip). An
    answered tip of a category the answer coaches again takes that new tip's place (one tip per
    category); answered tips of categories no longer in focus follow the new ones."""
    categories = {t.category.code: t.category for t in context.trends[plan.store_id]}
    modules = {m.slug: m for m in context.modules}
    kept: dict[int, list[CoachingTip]] = {}
    for tip in answered:
        kept.setdefault(tip.category_id, []).append(tip)
    new, ordered = [], []
    for tip in answer.out.tips:
        category = categories[tip.category]
        if category.id in kept:
            ordered += kept.pop(category.id)
            continue
        made = CoachingTip(
            plan=plan,
            category=category,
            title=tip.title.strip()[:120],
            why=tip.why.strip(),
            steps=[step.strip() for step in tip.steps],
            module=modules.get(tip.module_slug or ""),
            practice_key=answer.practices.get(tip.category, ""),
        )
        new.append(made)
        ordered.append(made)
    ordered += [tip for tips in kept.values() for tip in tips]
    for order, tip in enumerate(ordered, start=1):
        tip.order = order
    CoachingTip.objects.bulk_create(new)
    if answered:
        CoachingTip.objects.bulk_update(answered, ["order"])
