"""Writes for weekly plans: storing a coached plan with its tips, a manager's feedback on a tip,
and the moment a plan was first read. The batch that calls `save_plan` is in `batch.py`."""

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..call_log import call_rows
from ..llm import policy
from ..llm.base import CallRecord, PlanRequest
from ..llm.policy import Answer
from ..llm.schemas import PlanOut
from ..models import CoachingTip, LLMCall, WeeklyPlan
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
            raise ValidationError(
                # Translators: the answers' codes ('worked', 'partly', 'did_not') stay as they are.
                _("follow-up answer must be one of %(answers)s")
                % {"answers": CoachingTip.Followup.values}
            )
        if tip.done_at is None or timezone.now() < tip.done_at + dt.timedelta(weeks=4):
            raise ValidationError(_("the follow-up is asked four weeks after the tip was done"))
        tip.followup_answer = followup_answer
        tip.followup_at = timezone.now()
    tip.save()
    return tip


# Why a manager dismisses a tip: these codes are stored as they are (the page words them in the
# reader's language); "other" stores the manager's own words instead.
DISMISS_REASONS = ("not_relevant", "already_doing", "no_time", "other")


def dismiss_tip(tip: CoachingTip, *, reason: str, other: str = "") -> CoachingTip:
    """Dismiss a tip with one of DISMISS_REASONS, or with the manager's words for "other"."""
    if reason == "other":
        text = other.strip()
        if not text:
            raise ValidationError(_("Say why you dismiss the tip, or pick one of the reasons."))
    elif reason in DISMISS_REASONS:
        text = reason
    else:
        raise ValidationError(_("Pick a reason to dismiss the tip."))
    return record_feedback(tip, dismissed_reason=text)


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


@dataclass(frozen=True)
class Job:
    """One plan to coach: its inputs, built from the batch's week context."""

    manager_id: int
    store_id: int
    request: PlanRequest
    chosen: list[Focus]
    fingerprint: str
    context: WeekContext

    @property
    def pair(self) -> tuple[int, int]:
        return (self.manager_id, self.store_id)


@dataclass
class Coached:
    """What coaching one job gave: the answer (None: even the playbook failed, `error` says how)
    and every call made for it."""

    job: Job
    answer: Answer[PlanOut] | None
    error: str
    calls: list[CallRecord]


def coach_job(job: Job, coach, retries: policy.Retries, first=None) -> Coached:
    """Coach one plan: no database, so it runs in any thread. Retries, the one repair and the
    playbook fallback are all in the LLM policy. `first` stands in for the coach's first answer
    (one the Batch API gave)."""
    calls: list[CallRecord] = []
    try:
        answer = policy.coach_plan(job.request, first or coach, calls, retries=retries)
        error = ""
    except Exception as exc:  # the playbook itself failed: record it, never lose the plan row
        log.exception("coaching failed for manager %s store %s", job.manager_id, job.store_id)
        answer, error = None, f"{type(exc).__name__}: {exc}"
    return Coached(job, answer, error, calls)


def save_plans(week: dt.date, coached: Sequence[Coached], force: bool) -> list[PlanOutcome]:
    """Store coached plans with their tips and calls, releasing their claims: one transaction
    and a fixed number of queries for them all. The claims made every row; one deleted since is
    made again."""
    if not coached:
        return []
    pairs = {c.job.pair for c in coached}
    with transaction.atomic():
        WeeklyPlan.objects.bulk_create(
            [WeeklyPlan(manager_id=m, store_id=s, week=week) for m, s in pairs],
            ignore_conflicts=True,
        )
        rows = WeeklyPlan.objects.select_for_update().filter(
            week=week, manager_id__in={m for m, _ in pairs}, store_id__in={s for _, s in pairs}
        )
        plans = {(p.manager_id, p.store_id): p for p in rows if (p.manager_id, p.store_id) in pairs}
        verdicts = {c.job.pair: _verdict(plans[c.job.pair], c, force) for c in coached}
        # The tips of plans replaced (not those reused or kept after a failure) make way.
        answered = _keep_answered_tips(
            [
                plans[pair].id
                for pair, v in verdicts.items()
                if v is None and plans[pair].fingerprint
            ]
        )
        outcomes, tips, calls, kept_tips = [], [], [], []
        for done in coached:
            plan = plans[done.job.pair]
            outcome = verdicts[done.job.pair] or _apply(
                plan, done, answered.get(plan.id, []), tips, kept_tips
            )
            plan.claimed_at, plan.claim_token = None, ""
            outcomes.append(outcome)
            calls += call_rows(done.calls, plan=plan)
        _update_plans(list(plans.values()))
        CoachingTip.objects.bulk_create(tips)
        if kept_tips:
            CoachingTip.objects.bulk_update(kept_tips, ["order"])
        LLMCall.objects.bulk_create(calls)
    return outcomes


PLAN_FIELDS = [
    "data_week",
    "fingerprint",
    "focus",
    "status",
    "fallback_reason",
    "provider",
    "model",
    "prompt_version",
    "claimed_at",
    "claim_token",
    "updated_at",
]


def _update_plans(plans: list[WeeklyPlan]) -> None:
    """Write PLAN_FIELDS of these plans: one UPDATE by primary key run for each (executemany).
    Django's bulk_update builds a CASE per field and row, which cost more than the LLM call
    around it; each value is prepared by its own field, as save() would."""
    fields = [WeeklyPlan._meta.get_field(name) for name in PLAN_FIELDS]
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    # Names from the model's own metadata, every value a parameter.
    sql = f"UPDATE {quote(WeeklyPlan._meta.db_table)} SET {sets} WHERE {quote('id')} = %s"  # noqa: S608
    rows = [
        [field.get_db_prep_save(getattr(plan, field.attname), connection) for field in fields]
        + [plan.pk]
        for plan in plans
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _verdict(plan: WeeklyPlan, done: Coached, force: bool) -> PlanOutcome | None:
    """What becomes of a locked plan row that this answer does not replace; None: replace it."""
    same = plan.fingerprint and plan.fingerprint == done.job.fingerprint
    if same and not force and plan.status in COACHED:
        return PlanOutcome("reused")  # another delivery finished it while we were coaching
    if done.answer is None and plan.status in COACHED:
        # Regenerating failed outright: the plan the manager has stays as it is, with its old
        # fingerprint (and tips), so the next run tries again.
        return PlanOutcome("failed", f"{done.error}; the previous plan stays")
    return None


def _apply(
    plan: WeeklyPlan,
    done: Coached,
    answered: list[CoachingTip],
    tips: list[CoachingTip],
    kept_tips: list[CoachingTip],
) -> PlanOutcome:
    """The coached answer replaces the locked plan row's content; new tips go to `tips`,
    answered ones kept (with their new order) to `kept_tips`."""
    job, answer = done.job, done.answer
    fresh = not plan.fingerprint  # a row its claim made holds no plan yet
    plan.updated_at = timezone.now()
    plan.data_week = job.context.data_week
    plan.fingerprint = job.fingerprint
    plan.focus = [
        {"category": f.trend.category.code, "priority": f.priority, "reason": f.reason}
        for f in job.chosen
    ]
    if answer is None:
        plan.status, plan.fallback_reason = WeeklyPlan.Status.FAILED, done.error
        plan.provider = plan.model = plan.prompt_version = ""
        return PlanOutcome("failed", plan.fallback_reason)
    used = answer.coach
    plan.status = WeeklyPlan.Status.FALLBACK if answer.fell_back else WeeklyPlan.Status.READY
    plan.fallback_reason = answer.fallback_reason
    plan.provider, plan.model, plan.prompt_version = used.name, used.model, used.prompt_version
    new, kept = _tips(plan, answer, job.context, answered)
    tips += new
    kept_tips += kept
    # emailed_at stays: a week's digest goes out once, a regenerated plan is read on the web.
    if plan.status == WeeklyPlan.Status.FALLBACK:
        return PlanOutcome("fallback", plan.fallback_reason)
    return PlanOutcome("created" if fresh else "updated")


ANSWERED = (
    Q(done_at__isnull=False)
    | Q(helpful__isnull=False)
    | ~Q(comment="")
    | ~Q(dismissed_reason="")
    | ~Q(followup_answer="")
)


def _keep_answered_tips(plan_ids: list[int]) -> dict[int, list[CoachingTip]]:
    """Regeneration replaces only the tips the manager has not answered: a tip marked done,
    helpful or not, commented, dismissed or followed up stays with the plan. Deletes the others
    of these plans; returns those kept, per plan, in order."""
    if not plan_ids:
        return {}
    CoachingTip.objects.filter(plan_id__in=plan_ids).exclude(ANSWERED).delete()
    kept: dict[int, list[CoachingTip]] = {}
    for tip in CoachingTip.objects.filter(plan_id__in=plan_ids).order_by("plan_id", "order", "id"):
        kept.setdefault(tip.plan_id, []).append(tip)
    return kept


def _tips(
    plan: WeeklyPlan,
    answer: Answer[PlanOut],
    context: WeekContext,
    answered: Sequence[CoachingTip] = (),
) -> tuple[list[CoachingTip], list[CoachingTip]]:
    """The answer's tips, each with the playbook practice it uses (none for an LLM's tip). An
    answered tip of a category the answer coaches again takes that new tip's place (one tip per
    category); answered tips of categories no longer in focus follow the new ones. Returns the
    new tips and the answered ones, all numbered in order."""
    categories = {t.category.code: t.category for t in context.trends[plan.store_id]}
    modules = context.modules_by_slug
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
    return new, list(answered)
