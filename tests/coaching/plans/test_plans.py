"""Weekly plans with the offline playbook coach: the embedded default."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends import locmem
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coaching.demo import load_demo_modules
from coaching.goals.selectors import goal_progress
from coaching.goals.services import create_goal
from coaching.llm.grounding import check
from coaching.models import CoachingTip, Goal, LLMCall, TrainingModule, WeeklyPlan
from coaching.plans import batch, digests
from coaching.plans import selectors as plan_selectors
from coaching.plans.batch import generate_plans
from coaching.plans.schedule import stores_due
from coaching.plans.services import record_feedback
from coaching.plans.week_context import load_week_context
from scoring.models import Category, CategoryScore, Role
from scoring.weeks import weeks_back
from tests.factories import MONDAY, RegionFactory, StoreFactory, score, user_with_role

pytestmark = pytest.mark.django_db
PLAN_WEEK = MONDAY + dt.timedelta(weeks=1)


def history(store, *, base=70.0, drop=None):
    for code in Category.objects.values_list("code", flat=True):
        for i in range(13):
            value = base + (i % 3) * 0.5 - (len(code) % 5)
            if drop and code == drop and i == 0:
                value -= 15
            score(store, code, weeks_back(MONDAY, i), value)


@pytest.fixture
def chain():
    load_demo_modules()
    region = RegionFactory()
    stores = [StoreFactory(region=region) for _ in range(3)]
    for number, store in enumerate(stores):
        history(store, base=65.0 + number * 5, drop="customer_advocacy" if number == 0 else None)
    managers = [
        user_with_role(Role.STORE_MANAGER, stores=[store]) for store in stores
    ]  # fmt: skip
    for manager in managers:
        manager.email = f"{manager.username}@example.com"
        manager.save()
    return stores, managers


def pairs(stores, managers):
    return [(m.id, s.id) for m, s in zip(managers, stores, strict=True)]


def test_playbook_plan_targets_the_focus_with_steps_modules_and_grounded_numbers(chain):
    stores, managers = chain

    result = generate_plans(pairs(stores, managers), PLAN_WEEK)

    assert result.counts["created"] == 3
    plan = WeeklyPlan.objects.get(store=stores[0])
    assert plan.status == WeeklyPlan.Status.READY
    assert plan.provider == "playbook"
    assert plan.data_week == MONDAY
    tips = list(plan.tips.select_related("category", "module"))
    assert 1 <= len(tips) <= 3
    assert tips[0].category.code == "customer_advocacy"  # the collapsed category leads
    assert tips[0].why.startswith("Customer advocacy fell 15.")
    for tip in tips:
        assert 2 <= len(tip.steps) <= 4
        assert tip.module is not None
        assert tip.category in (tip.module.category, tip.module.secondary_category)
        assert tip.practice_key
    assert LLMCall.objects.filter(plan=plan, provider="playbook", outcome="ok").count() == 1


def test_playbook_plans_pass_the_same_grounding_as_llm_answers(chain):
    stores, managers = chain
    context = load_week_context(PLAN_WEEK, pairs(stores, managers))
    from coaching.llm import PLAYBOOK

    for manager, store in zip(managers, stores, strict=True):
        request, _ = batch.build_request(context, manager.id, store.id, "Sam", store.code)
        assert check(PLAYBOOK.weekly_plan(request, calls=[]).out, request) == []


def test_rerunning_the_week_reuses_plans_and_force_replaces_tips(chain):
    stores, managers = chain
    generate_plans(pairs(stores, managers), PLAN_WEEK)
    tip_ids = set(CoachingTip.objects.values_list("id", flat=True))

    again = generate_plans(pairs(stores, managers), PLAN_WEEK)
    assert again.counts["reused"] == 3
    assert set(CoachingTip.objects.values_list("id", flat=True)) == tip_ids

    forced = generate_plans(pairs(stores, managers), PLAN_WEEK, force=True)
    assert forced.counts["updated"] == 3
    assert WeeklyPlan.objects.count() == 3
    assert CoachingTip.objects.count() == len(tip_ids)
    assert not tip_ids & set(CoachingTip.objects.values_list("id", flat=True))


def test_new_data_changes_the_fingerprint_and_updates_the_plan(chain):
    stores, managers = chain
    generate_plans(pairs(stores, managers), PLAN_WEEK)
    score(stores[1], "team_retention", MONDAY, 20.0, responses=200, source="metric")

    result = generate_plans(pairs(stores, managers), PLAN_WEEK)

    # The neighbour's plan coaches team retention too (its strengths are not coached), and the
    # region median it quotes moved with the new score: both plans are updated, one reused.
    assert (result.counts["reused"], result.counts["updated"]) == (1, 2)
    plan = WeeklyPlan.objects.get(store=stores[1])
    assert "team_retention" in [item["category"] for item in plan.focus]


def test_playbook_varies_practices_week_to_week(chain):
    stores, managers = chain
    first = [(m.id, s.id) for m, s in zip(managers[:1], stores[:1], strict=True)]
    keys = []
    for offset in range(3):
        week = PLAN_WEEK + dt.timedelta(weeks=offset)
        generate_plans(first, week)
        plan = WeeklyPlan.objects.get(week=week)
        keys.append({(t.category_id, t.practice_key) for t in plan.tips.all()})
    shared = [cat for cat, _ in keys[0]]
    for category in shared:
        used = [key for week_keys in keys for cat, key in week_keys if cat == category]
        assert len(used) == len(set(used)), "a practice came back within three weeks"


def test_digest_email_is_sent_once_per_plan(chain):
    stores, managers = chain
    mail.outbox.clear()

    result = generate_plans(pairs(stores, managers)[:1], PLAN_WEEK)

    assert result.emailed == 1
    [message] = mail.outbox
    assert message.to == [managers[0].email]
    assert message.subject.startswith("Your coaching, week of 23 Nov")  # PLAN_WEEK, said plainly
    plan = WeeklyPlan.objects.get(store=stores[0])
    assert all(tip.title in message.body for tip in plan.tips.all())
    assert plan.emailed_at is not None
    assert digests.send_digests(PLAN_WEEK, pairs(stores, managers)[:1]) == 0
    assert generate_plans(pairs(stores, managers)[:1], PLAN_WEEK, force=True).emailed == 0
    assert len(mail.outbox) == 1, "a week's digest goes out once, even for a replaced plan"


class BrokenMailServer(locmem.EmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server down")


def test_a_mail_failure_keeps_the_plans_and_the_next_run_sends_the_digests(chain, settings):
    stores, managers = chain
    mail.outbox.clear()
    settings.EMAIL_BACKEND = f"{__name__}.BrokenMailServer"

    down = generate_plans(pairs(stores, managers), PLAN_WEEK)

    assert (down.counts["created"], down.emailed) == (3, 0)
    assert WeeklyPlan.objects.filter(emailed_at__isnull=True).count() == 3
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    up = generate_plans(pairs(stores, managers), PLAN_WEEK)
    assert (up.counts["reused"], up.emailed) == (3, 3)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in managers)
    assert not WeeklyPlan.objects.filter(emailed_at__isnull=True).exists()


def test_batch_query_count_does_not_grow_with_managers(chain, django_assert_max_num_queries):
    stores, managers = chain

    with CaptureQueriesContext(connection) as one:
        generate_plans(pairs(stores, managers)[:1], PLAN_WEEK)
    WeeklyPlan.objects.all().delete()
    with CaptureQueriesContext(connection) as three:
        generate_plans(pairs(stores, managers), PLAN_WEEK)
    per_plan = (len(three) - len(one)) / 2
    assert per_plan == 0, f"{per_plan} queries per extra plan: plans are saved in bulk"
    context_queries = len(one) - per_plan
    # The context (27th: pulse comments), the claims (four for the whole batch), the plans saved
    # in bulk (six for a wave of them: rows, lock, update, tips, calls) and the digests.
    # One more for the weeks of data behind each slope ("over N weeks").
    assert context_queries <= 34, "a fixed number of queries per batch"


def test_generate_coaching_command_counts_and_rejects_bad_input(chain):
    out = io.StringIO()
    call_command("generate_coaching", "--week", "2026-W48", stdout=out)
    assert "3 created, 0 updated, 0 reused" in out.getvalue()
    out = io.StringIO()
    call_command("generate_coaching", "--week", "2026-11-25", stdout=out)
    assert "0 created, 0 updated, 3 reused" in out.getvalue()
    with pytest.raises(CommandError, match="unknown store"):
        call_command("generate_coaching", "--store", "NOPE")
    with pytest.raises(CommandError, match="not an ISO week"):
        call_command("generate_coaching", "--week", "soon")


def test_goal_baseline_progress_and_projection(chain, monkeypatch):
    stores, managers = chain
    monkeypatch.setattr(timezone, "localdate", lambda: MONDAY)
    goal = create_goal(
        manager=managers[1],
        store=stores[1],
        category=Category.objects.get(code="brand_loyalty"),
        target_score=90,
        due_date=MONDAY + dt.timedelta(weeks=8),
        intent="  Regulars back every week  ",
    )
    assert goal.baseline_score is not None
    assert goal.intent == "Regulars back every week"
    progress = goal_progress(goal, week=MONDAY)
    assert progress.current == float(goal.baseline_score)
    assert progress.status == "off_track"  # ~20 points short with a flat trend
    easy = Goal.objects.create(
        manager=managers[1],
        store=stores[1],
        category=goal.category,
        target_score=Decimal(str(progress.current - 1)),
        due_date=goal.due_date,
    )
    assert goal_progress(easy, week=MONDAY).status == "on_track"
    with pytest.raises(ValidationError):
        create_goal(
            manager=managers[1],
            store=stores[1],
            category=goal.category,
            target_score=120,
            due_date=goal.due_date,
        )


def test_tip_feedback_and_the_four_week_follow_up(chain):
    stores, managers = chain
    generate_plans(pairs(stores, managers)[:1], PLAN_WEEK)
    tip = CoachingTip.objects.first()
    record_feedback(tip, done=True, helpful=True, comment="Huddle worked")
    tip.refresh_from_db()
    assert tip.done_at and tip.helpful and tip.comment == "Huddle worked"
    assert plan_selectors.tips_due_for_followup(managers[0]) == []
    with pytest.raises(ValidationError, match="four weeks"):
        record_feedback(tip, followup_answer="worked")
    tip.done_at = timezone.now() - dt.timedelta(weeks=5)
    tip.save()
    assert plan_selectors.tips_due_for_followup(managers[0]) == [tip]
    record_feedback(tip, followup_answer="worked")
    tip.refresh_from_db()
    assert tip.followup_answer == "worked" and tip.followup_at is not None


def test_stores_are_due_at_six_on_monday_in_their_own_time_zone():
    london = StoreFactory(timezone="Europe/London")
    sydney = StoreFactory(timezone="Australia/Sydney")
    monday_six_london = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
    assert stores_due(monday_six_london) == {dt.date(2026, 11, 23): [london.id]}
    # 06:00 Monday in Sydney (UTC+11 in November) is 19:00 UTC on Sunday
    sunday_evening_utc = dt.datetime(2026, 11, 22, 19, 0, tzinfo=dt.UTC)
    assert stores_due(sunday_evening_utc) == {dt.date(2026, 11, 23): [sydney.id]}


def test_provider_defaults_to_openai_only_when_an_endpoint_or_key_is_set(settings):
    from coaching.llm import get_coach, provider_name

    settings.COACH_LLM_PROVIDER = ""
    settings.OPENAI_BASE_URL = settings.OPENAI_API_KEY = ""
    assert provider_name() == "playbook"
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    assert provider_name() == "openai"
    assert get_coach().name == "openai"
    settings.COACH_LLM_PROVIDER = "playbook"
    assert get_coach().name == "playbook"
    settings.COACH_LLM_PROVIDER = "magic"
    with pytest.raises(ValueError, match="COACH_LLM_PROVIDER"):
        get_coach()


def test_a_store_without_scores_gets_no_plan_and_is_reported(chain):
    stores, _ = chain
    empty = StoreFactory(region=stores[0].region)
    manager = user_with_role(Role.STORE_MANAGER, stores=[empty])
    result = generate_plans([(manager.id, empty.id)], PLAN_WEEK)
    assert result.counts["no_data"] == 1
    assert "1 skipped: no scores yet." in result.summary()
    assert not WeeklyPlan.objects.filter(store=empty).exists()


def test_the_largest_drop_in_the_region_is_judged_against_its_own_region_only():
    from tests.coaching.llm.helpers import DECLINING, seed, seed_coached_store

    home, away = RegionFactory(), RegionFactory()
    store, neighbour = StoreFactory(region=home), StoreFactory(region=home)
    far_away = StoreFactory(region=away)
    manager = user_with_role(Role.STORE_MANAGER, stores=[store])
    seed_coached_store(store)  # advocacy falls 13.1 points to 61.4
    seed(far_away, lambda code, i: 50.0 if code == DECLINING and i == 0 else 80.0)
    seed(neighbour, lambda code, i: 80.0)

    def advocacy_reason() -> str:
        generate_plans([(manager.id, store.id)], PLAN_WEEK, force=True)
        [reason] = [
            item["reason"]
            for item in WeeklyPlan.objects.get(store=store).focus
            if item["category"] == DECLINING
        ]
        return reason

    assert advocacy_reason().endswith(", the largest drop in the region.")
    WeeklyPlan.objects.all().delete()
    neighbour_advocacy = CategoryScore.objects.filter(
        store=neighbour, category__code=DECLINING, week=MONDAY
    )
    neighbour_advocacy.update(score=Decimal("60.0"))  # 20 points down: a larger drop next door
    assert "largest drop" not in advocacy_reason()


def test_coaching_recommends_modules_by_goal_and_moves_completed_ones_down(chain):
    from coaching.modules import services as authoring

    stores, managers = chain
    manager, store = managers[0], stores[0]
    advocacy = Category.objects.get(code="customer_advocacy")
    Goal.objects.create(
        manager=manager,
        store=store,
        category=advocacy,
        target_score=80,
        due_date=PLAN_WEEK + dt.timedelta(weeks=8),
        intent="Call back every unhappy customer and turn detractors around",
    )

    def advocacy_modules() -> list[tuple[str, bool]]:
        context = load_week_context(PLAN_WEEK, [(manager.id, store.id)])
        request, _ = batch.build_request(context, manager.id, store.id, "Sam", store.code)
        return [(m.slug, m.completed) for m in request.modules if m.category == advocacy.code]

    first, *others = advocacy_modules()
    assert first == ("following-up-with-detractors", False)  # the goal's words
    module = TrainingModule.objects.get(slug="following-up-with-detractors")
    authoring.complete_module(manager, module, [q["answer"] for q in module.quiz])
    *others_now, last = advocacy_modules()
    assert last == ("following-up-with-detractors", True)
    assert others_now == others


def test_the_playbook_cites_the_recommended_module_closest_to_its_practice():
    from coaching.llm.base import ModuleRef
    from coaching.llm.playbook import Practice, _module_for

    practice = Practice(
        key="stay-talks",
        title="Hold stay conversations with the people you can least afford to lose",
        suits=("declining",),
        effort="20 minutes each",
        steps=("List the people whose loss would hurt most.", "Ask what keeps them here."),
        measure="Resignations among key people.",
    )
    onboarding = ModuleRef(
        "onboarding", "Onboarding new starters so they stay", "First weeks", "team_retention"
    )
    stay = ModuleRef(
        "stay", "Stay conversations with your best people", "Ask what keeps them", "team_retention"
    )

    assert _module_for(practice, [onboarding, stay]) == stay
    unrelated = ModuleRef("other", "Rota fairness", "Swaps", "team_retention")
    assert _module_for(practice, [unrelated, onboarding]) == onboarding  # more shared words
    assert _module_for(practice, []) is None
    taken = ModuleRef(stay.slug, stay.title, stay.summary, stay.category, completed=True)
    assert _module_for(practice, [taken, onboarding]) == onboarding  # not taken yet


def test_the_data_week_customer_comments_reach_the_coach_and_its_tips(chain):
    from scoring.pulse import access as pulse_access
    from scoring.pulse import services as pulse

    stores, managers = chain
    question = pulse_access.questions_for("customer").first()
    for text in ("The queue was so slow at lunch", "Long wait at the till, slow queue"):
        pulse.submit_pulse(
            store=stores[0],
            audience="customer",
            answers={question.id: 4},
            comment=text,
            channel="link",
            week=MONDAY,  # the data week of PLAN_WEEK's coaching
        )
    context = load_week_context(PLAN_WEEK, pairs(stores, managers))
    request, _ = batch.build_request(context, managers[0].id, stores[0].id, "Sam", stores[0].code)
    assert set(request.customer_comments) == {
        "The queue was so slow at lunch",
        "Long wait at the till, slow queue",
    }
    assert request.comment_themes[0] == "waiting and queues (2)"
    other, _ = batch.build_request(context, managers[1].id, stores[1].id, "Sam", stores[1].code)
    assert other.customer_comments == ()  # another store's comments stay with it

    generate_plans(pairs(stores, managers)[:1], PLAN_WEEK)
    advocacy = CoachingTip.objects.get(plan__store=stores[0], category__code="customer_advocacy")
    said = " ".join([advocacy.why, *advocacy.steps])
    assert "comments this week mention waiting and queues most" in said or (
        "they mention waiting and queues most" in said
    )
