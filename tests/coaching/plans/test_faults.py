"""Nothing lost under faults: a regenerated plan keeps the manager's answers and is not emailed
again, a database error in the digests is retried, and a missed Monday run is caught up."""

import datetime as dt
import zoneinfo

import pytest
from django.core import mail
from django.db import OperationalError, connection
from django.utils import timezone

from coaching import tasks
from coaching.models import CoachingTip, WeeklyPlan
from coaching.plans import batch
from coaching.plans.batch import generate_plans
from coaching.plans.services import claim_plans, record_feedback
from tests.coaching.plans import test_plans
from tests.coaching.plans.test_plans import PLAN_WEEK, pairs
from tests.factories import MONDAY, score

pytestmark = pytest.mark.django_db
chain = test_plans.chain  # the three-store chain those tests coach


def answers(tip: CoachingTip) -> tuple:
    return (tip.id, tip.done_at, tip.helpful, tip.comment, tip.dismissed_reason)


def categories(plan: WeeklyPlan) -> list[int]:
    return [t.category_id for t in plan.tips.all()]


def test_a_forced_regeneration_keeps_answered_tips_and_replaces_the_rest(chain):
    stores, managers = chain
    generate_plans(pairs(stores, managers), PLAN_WEEK)
    plan = WeeklyPlan.objects.get(store=stores[0])
    first, second, *rest = plan.tips.all()
    assert rest, "the plan has a third, unanswered tip"
    record_feedback(first, done=True, helpful=True)
    record_feedback(second, comment="Tried it on Tuesday", dismissed_reason="not for us")
    kept = {answers(t) for t in CoachingTip.objects.filter(id__in=[first.id, second.id])}

    result = generate_plans(pairs(stores, managers), PLAN_WEEK, force=True)

    assert result.counts["updated"] == 3
    tips = list(plan.tips.all())
    assert kept <= {answers(t) for t in tips}, "the manager's answers survive"
    assert not {t.id for t in rest} & {t.id for t in tips}, "unanswered tips are replaced"
    assert len(set(categories(plan))) == len(tips), "one tip per category"
    assert [t.order for t in tips] == list(range(1, len(tips) + 1))


def test_answered_tips_out_of_focus_stay_alongside_the_new_plan(chain):
    stores, managers = chain
    generate_plans(pairs(stores, managers), PLAN_WEEK)
    plan = WeeklyPlan.objects.get(store=stores[1])
    before = list(plan.tips.all())
    for tip in before:
        record_feedback(tip, helpful=False)
    # New data: team retention collapses and takes a place in the focus.
    score(stores[1], "team_retention", MONDAY, 20.0, responses=200, source="metric")

    # The neighbour's plan, coaching team retention too, quotes the region median that moved.
    assert generate_plans(pairs(stores, managers), PLAN_WEEK).counts["updated"] == 2

    plan.refresh_from_db()
    assert "team_retention" in [item["category"] for item in plan.focus]
    tips = list(plan.tips.select_related("category"))
    assert {t.id for t in before} <= {t.id for t in tips}
    assert "team_retention" in {t.category.code for t in tips}
    assert len(set(categories(plan))) == len(tips)
    assert all(t.helpful is False for t in tips if t.id in {b.id for b in before})


def test_a_regenerated_plan_is_not_emailed_again(chain):
    stores, managers = chain
    mail.outbox.clear()
    generate_plans(pairs(stores, managers), PLAN_WEEK)
    emailed = dict(WeeklyPlan.objects.values_list("id", "emailed_at"))
    assert len(mail.outbox) == 3

    forced = generate_plans(pairs(stores, managers), PLAN_WEEK, force=True)

    assert (forced.counts["updated"], forced.emailed) == (3, 0)
    assert len(mail.outbox) == 3, "a week's digest goes out once"
    assert dict(WeeklyPlan.objects.values_list("id", "emailed_at")) == emailed


@pytest.mark.postgres
def test_a_database_error_in_the_digests_retries_the_task_and_every_digest_goes_out_once(
    chain, monkeypatch
):
    stores, managers = chain
    mail.outbox.clear()
    real, attempts = batch.send_digests, []

    def restarting_database(execute, sql, params, many, context):
        raise OperationalError("terminating connection due to administrator command")

    def send_digests(week, wanted):
        attempts.append(week)
        if len(attempts) == 1:  # the first query of the first attempt meets a restarting server
            with connection.execute_wrapper(restarting_database):
                return real(week, wanted)
        return real(week, wanted)

    monkeypatch.setattr(batch, "send_digests", send_digests)
    task = tasks.generate_plans.apply(
        args=[[list(p) for p in pairs(stores, managers)], PLAN_WEEK.isoformat(), False],
        throw=False,  # as in a worker: eager propagation would raise the Retry itself
    )

    assert task.successful(), task.traceback
    assert len(attempts) == 2, "the task ran again"
    assert task.get() == {"reused": 3}, "the retry reuses the plans the first attempt saved"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in managers)
    assert not WeeklyPlan.objects.filter(emailed_at__isnull=True).exists()


def local(store, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), zoneinfo.ZoneInfo(store.timezone))


def test_a_missed_monday_run_is_caught_up_once_and_not_again(chain, monkeypatch):
    stores, managers = chain
    queued = []

    def enqueue_week(week, wanted, *, force=False):
        queued.append((week, sorted(wanted)))
        return 1 if wanted else 0

    monkeypatch.setattr(tasks, "enqueue_week", enqueue_week)
    mine = [p for p in pairs(stores, managers) if p[1] == stores[0].id]

    # Sunday evening: the week has not begun, nothing is due or late.
    tasks.queue_coaching(local(stores[0], PLAN_WEEK - dt.timedelta(days=1), 20))
    assert all(week != PLAN_WEEK or not wanted for week, wanted in queued)

    # The 06:00 tick never ran (beat down): at 09:00 the store's managers are queued.
    queued.clear()
    tasks.queue_coaching(local(stores[0], PLAN_WEEK, 9))
    late = [p for week, wanted in queued if week == PLAN_WEEK for p in wanted]
    assert set(mine) <= set(late)

    # While a run holds the plan (a live claim), and once it is planned: not queued again.
    claim_plans(PLAN_WEEK, dict.fromkeys(mine, "x"), token="running", force=False)
    queued.clear()
    tasks.queue_coaching(local(stores[0], PLAN_WEEK, 10))
    assert not {p for _, wanted in queued for p in wanted} & set(mine)
    WeeklyPlan.objects.update(claimed_at=timezone.now() - dt.timedelta(days=1))
    generate_plans(pairs(stores, managers), PLAN_WEEK)
    queued.clear()
    tasks.queue_coaching(local(stores[0], PLAN_WEEK, 11))
    assert not [p for _, wanted in queued for p in wanted]

    # A pair whose plan failed is owed one still; past COACH_CATCHUP_HOURS nobody is queued.
    WeeklyPlan.objects.filter(store=stores[0]).update(status=WeeklyPlan.Status.FAILED)
    queued.clear()
    tasks.queue_coaching(local(stores[0], PLAN_WEEK, 12))
    assert [p for _, wanted in queued for p in wanted] == mine
    queued.clear()
    tasks.queue_coaching(local(stores[0], PLAN_WEEK + dt.timedelta(days=3), 12))
    assert not [p for _, wanted in queued for p in wanted]


def test_a_regeneration_that_fails_outright_leaves_the_previous_plan(chain, monkeypatch):
    from coaching.llm import PLAYBOOK

    stores, managers = chain
    generate_plans(pairs(stores, managers)[:1], PLAN_WEEK)
    plan = WeeklyPlan.objects.get(store=stores[0])
    before = (plan.status, plan.fingerprint, [t.id for t in plan.tips.all()])

    def broken(request, *, calls, repair=None):
        raise RuntimeError("playbook broken")

    monkeypatch.setattr(PLAYBOOK, "weekly_plan", broken)
    result = generate_plans(pairs(stores, managers)[:1], PLAN_WEEK, force=True)

    assert dict(result.counts) == {"failed": 1}
    assert "the previous plan stays" in result.problem_lines()[0]
    plan.refresh_from_db()
    assert (plan.status, plan.fingerprint, [t.id for t in plan.tips.all()]) == before
    assert plan.claimed_at is None
