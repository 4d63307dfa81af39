"""Coherent coaching (issue 12): the weekly focus, the store report and the training agree.

- A category the store report calls a strength is a focus only when the manager's goal or a drop
  beyond the store's noise says so, and the reason says which.
- The reason names every factor that decided it, in plain words.
- The manager's own goal outranks a trivial gap.
- "Over N weeks" only of weeks there are scores for.
- The training linked to a tip is of the tip's category, whoever the coach.
"""

import dataclasses
import io
import re

import pytest
from django.core.management import call_command

from coaching.demo import create_demo_goals, create_demo_history, load_demo_modules
from coaching.llm.playbook import PLAYBOOK, PlaybookCoach
from coaching.llm.schemas import TipOut
from coaching.models import CoachingTip, Goal, WeeklyPlan
from coaching.modules.recommend import module_of_category
from coaching.plans import batch
from coaching.plans.batch import generate_plans
from coaching.plans.focus import GoalTarget, rank_categories
from coaching.plans.week_context import load_week_context, scored_weeks
from scoring.models import Category, Role
from scoring.selectors import (
    CategoryTrend,
    category_trends,
    report_strengths,
    strengths_and_opportunities,
)
from scoring.weeks import weeks_back
from tests.coaching.plans import test_plans
from tests.coaching.plans.test_focus import WEEK
from tests.coaching.plans.test_focus import trend as focus_trend
from tests.coaching.plans.test_plans import PLAN_WEEK, pairs
from tests.factories import MONDAY, RegionFactory, StoreFactory, score, user_with_role

pytestmark = pytest.mark.django_db
chain = test_plans.chain  # the three-store chain the plan tests coach


def trend(code, score, *, region=70.0, chain=70.0, **given) -> CategoryTrend:
    """`test_focus.trend`, with the region's and the chain's medians apart."""
    return dataclasses.replace(
        focus_trend(code, score, median=chain, **given), region_median=region
    )


def codes(items) -> list[str]:
    return [getattr(i, "trend", i).category.code for i in items]


def leeds(**brand_loyalty) -> list:
    """Leeds: brand loyalty is 1.2 points under the region median but above the chain median,
    one of the store's best categories, and it drives sales most in this chain."""
    return [
        trend("brand_loyalty", 74.8, region=76.0, chain=72.0, top=82.0, **brand_loyalty),
        trend("customer_satisfaction", 78.0, region=75.0, chain=74.0, top=81.0),
        trend("community_engagement", 77.0, region=74.0, chain=73.0, top=80.0),
        trend("customer_advocacy", 64.0, region=68.0, chain=69.0, top=75.0),
        trend("team_retention", 60.0, region=66.0, chain=67.0, top=74.0),
        trend("team_engagement", 66.0, region=69.0, chain=70.0, top=76.0),
        trend("manager_empowerment", 65.0, region=67.0, chain=66.5, top=72.0),
        trend("promotions_roi", 68.0, region=70.0, chain=69.0, top=75.0),
    ]


SALES = {"brand_loyalty": 2.0, "customer_satisfaction": 1.2, "team_retention": 0.6}


# --- a strength is not a focus without a goal or a drop ----------------------------------------


def test_a_strength_just_under_the_region_median_is_not_a_focus_without_a_goal_or_drop():
    trends = leeds()
    report = strengths_and_opportunities(StoreFactory(), WEEK, trends=trends)
    assert "brand_loyalty" in codes(report.strengths)

    focus = rank_categories(trends, goals={}, impact=SALES)

    assert "brand_loyalty" not in codes(focus)
    assert not set(codes(focus)) & set(codes(report.strengths))


def test_the_managers_goal_makes_a_strength_a_focus_and_the_reason_says_so():
    goal = GoalTarget("brand_loyalty", 80.0, "20 Dec 2026")

    focus = rank_categories(leeds(), goals={"brand_loyalty": goal}, impact=SALES)

    [loyalty] = [f for f in focus if f.trend.category.code == "brand_loyalty"]
    assert loyalty.reason.startswith(
        "Your goal is 80.0 by 20 Dec 2026; Brand loyalty is at 74.8 (5.2 points to go). "
        "It is one of this store's strengths; your goal is why it is in focus."
    )


def test_a_drop_beyond_the_noise_makes_a_strength_a_focus_and_the_reason_says_so():
    trends = leeds(change=-6.0, significant=True)

    focus = rank_categories(trends, goals={})

    [loyalty] = [f for f in focus if f.trend.category.code == "brand_loyalty"]
    assert "fell 6.0 points last week" in loyalty.reason
    assert "It is one of this store's strengths; the drop is why it is in focus." in loyalty.reason


def test_a_store_whose_other_categories_need_nothing_is_not_told_to_work_on_a_strength():
    trends = [trend(c.code, 90.0 + i, top=85.0) for i, c in enumerate(Category.objects.all())]
    strengths = codes(report_strengths(trends))

    [only] = rank_categories(trends, goals={})

    assert only.situation == "steady"
    assert only.trend.category.code not in strengths


# --- the reason names what decided -------------------------------------------------------------


def test_the_sales_driver_weight_is_named_when_it_decided_the_place_in_plain_words():
    trends = [
        trend("team_retention", 62.0),  # the larger gap
        trend("customer_satisfaction", 64.0),
        trend("team_engagement", 85.0),
    ]
    assert codes(rank_categories(trends, goals={}))[:2] == [
        "team_retention",
        "customer_satisfaction",
    ]

    focus = rank_categories(trends, goals={}, impact={"customer_satisfaction": 2.0})

    assert codes(focus)[:2] == ["customer_satisfaction", "team_retention"]
    assert focus[0].reason == (
        "Customer satisfaction is 64.0, 6.0 points below the region median at 70.0 and 16.0 "
        "points below the chain's top quarter at 80.0. It drives sales most in this chain, "
        "which moves it up this week's list."
    )
    assert "sales" not in focus[1].reason  # its place owes nothing to a weight
    assert not any(
        word in f.reason for f in focus for word in ("weight", "impact", "driver", "x 2")
    )


def test_a_weight_that_changed_nothing_is_not_named():
    trends = [trend("team_retention", 55.0), trend("customer_satisfaction", 64.0)]
    focus = rank_categories(trends, goals={}, impact={"team_retention": 1.5})
    assert codes(focus) == ["team_retention", "customer_satisfaction"]
    assert "sales" not in focus[0].reason


def test_a_slide_that_decided_is_named_alongside_the_gap():
    trends = [trend("promotions_roi", 66.0, slope=-1.5)]

    [focus] = rank_categories(trends, goals={}, weeks_of_data={"promotions_roi": 12})

    assert focus.reason == (
        "Promotions ROI has been sliding 1.5 points a week over 12 weeks and stands at 66.0. "
        "Promotions ROI is 66.0, 4.0 points below the region median at 70.0 and 14.0 points "
        "below the chain's top quarter at 80.0."
    )


# --- the manager's goal outranks a trivial gap -------------------------------------------------


def test_the_managers_goal_outranks_a_trivial_gap_even_one_weighted_up_by_sales():
    trends = [
        # 1.5 points under the region median: within this store's usual weekly movement.
        trend("team_engagement", 68.5, top=85.0),
        trend("manager_empowerment", 66.0),
    ]
    goal = GoalTarget("manager_empowerment", 70.0, "20 Dec 2026")

    focus = rank_categories(
        trends,
        goals={"manager_empowerment": goal},
        recently_coached={"manager_empowerment"},
        impact={"team_engagement": 2.0, "manager_empowerment": 0.5},
    )

    assert codes(focus) == ["manager_empowerment", "team_engagement"]
    assert focus[0].priority < focus[1].priority, "the order is the rule's, not the arithmetic's"


def test_a_gap_beyond_the_stores_noise_is_not_trivial():
    trends = [trend("team_engagement", 60.0, top=85.0), trend("manager_empowerment", 66.0)]
    goal = GoalTarget("manager_empowerment", 70.0, "20 Dec 2026")
    focus = rank_categories(
        trends,
        goals={"manager_empowerment": goal},
        recently_coached={"manager_empowerment"},
        impact={"team_engagement": 2.0, "manager_empowerment": 0.5},
    )
    assert codes(focus) == ["team_engagement", "manager_empowerment"]


# --- "over N weeks" only of weeks there is data for --------------------------------------------


def test_a_slide_claims_only_the_weeks_there_are_scores_for():
    trends = [trend("promotions_roi", 66.0, slope=-1.5)]
    [three] = rank_categories(trends, goals={}, weeks_of_data={"promotions_roi": 3})
    [unknown] = rank_categories(trends, goals={})
    assert "over 3 weeks" in three.reason and "12" not in three.reason
    assert "sliding 1.5 points a week and stands at 66.0" in unknown.reason
    assert "over" not in unknown.reason


def test_a_store_with_three_weeks_of_scores_is_told_about_three_weeks():
    region = RegionFactory()
    store, *others = StoreFactory.create_batch(3, region=region)
    manager = user_with_role(Role.STORE_MANAGER, stores=[store])
    for i in range(3):  # three weeks of data, brand loyalty sliding three points a week
        week = weeks_back(MONDAY, i)
        for code in Category.objects.values_list("code", flat=True):
            score(store, code, week, 74.0 + 3 * i if code == "brand_loyalty" else 70.0)
            for other in others:
                score(other, code, week, 85.0 if code == "brand_loyalty" else 70.0)
    context = load_week_context(PLAN_WEEK, [(manager.id, store.id)])
    assert context.weeks_of_data[store.id]["brand_loyalty"] == 3

    request, _ = batch.build_request(context, manager.id, store.id, "Sam", store.code)

    [loyalty] = [f for f in request.focus if f.category == "brand_loyalty"]
    assert "has been sliding 3.0 points a week over 3 weeks" in loyalty.reason
    assert "12 weeks" not in loyalty.reason


def test_weeks_with_a_gap_make_no_claim_of_n_weeks():
    store = StoreFactory()
    for i in (0, 1, 4):  # three scored weeks spanning five
        score(store, "team_retention", weeks_back(MONDAY, i), 70.0)
    for i in (0, 1, 2):
        score(store, "brand_loyalty", weeks_back(MONDAY, i), 70.0)
    assert scored_weeks([store.id], MONDAY)[store.id] == {"brand_loyalty": 3}


# --- a tip's training is of the tip's category --------------------------------------------------


def test_a_module_of_another_category_is_replaced_by_the_tips_own_best_or_none():
    offered = [("a-first", "brand_loyalty"), ("a-second", "brand_loyalty"), ("b", "team_retention")]

    def tip(category, module):
        return TipOut(category=category, title="t", why="w", steps=[], module_slug=module)

    assert module_of_category(tip("brand_loyalty", "b"), offered) == "a-first"
    assert module_of_category(tip("brand_loyalty", "a-second"), offered) == "a-second"
    assert module_of_category(tip("customer_advocacy", "b"), offered) is None
    assert module_of_category(tip("brand_loyalty", None), offered) is None


class ModuleSwapper(PlaybookCoach):
    """An LLM-like coach that links every tip to the next tip's module: grounded otherwise."""

    name = model = "swapper"
    offline = True

    def weekly_plan(self, request, *, calls, repair=None):
        reply = PLAYBOOK.weekly_plan(request, calls=calls, repair=repair)
        tips = reply.out.tips
        swapped = [
            tip.model_copy(update={"module_slug": tips[(n + 1) % len(tips)].module_slug})
            for n, tip in enumerate(tips)
        ]
        return type(reply)(reply.out.model_copy(update={"tips": swapped}), {})


def test_an_llm_answer_linking_another_categorys_module_is_corrected(chain):
    stores, managers = chain

    generate_plans(pairs(stores, managers), PLAN_WEEK, coach=ModuleSwapper())

    tips = CoachingTip.objects.filter(plan__provider="swapper").select_related("module")
    assert tips.count() >= 6
    for tip in tips:
        assert tip.module is not None
        assert tip.module.category_id == tip.category_id


# --- over the demo chain ------------------------------------------------------------------------


def test_over_the_demo_every_tips_module_is_of_its_category_and_no_strength_is_coached_idly():
    call_command("demo", stores=6, weeks=14, stdout=io.StringIO())
    load_demo_modules()
    create_demo_goals()
    create_demo_history()
    call_command("generate_coaching", stdout=io.StringIO())

    plans = list(WeeklyPlan.objects.filter(status=WeeklyPlan.Status.READY).exclude(focus=[]))
    plans = [p for p in plans if p.data_week and p.focus[0].get("reason") != "demo history"]
    assert len(plans) >= 6
    tips = CoachingTip.objects.filter(plan__in=plans).select_related("module", "category")
    assert tips.exists()
    for tip in tips:
        if tip.module is not None:
            assert tip.module.category == tip.category, tip.title
    assert tips.filter(module__isnull=False).count() == tips.count()

    [data_week] = {p.data_week for p in plans}
    trends = category_trends(store_ids=[p.store_id for p in plans], week=data_week)
    goals = set(
        Goal.objects.filter(status=Goal.Status.ACTIVE).values_list("store", "category__code")
    )
    for plan in plans:
        strengths = set(codes(report_strengths(trends[plan.store_id])))
        dropped = {
            t.category.code
            for t in trends[plan.store_id]
            if t.significant and t.change is not None and t.change < 0
        }
        for item in plan.focus:
            if item["category"] in strengths:
                assert (plan.store_id, item["category"]) in goals or item["category"] in dropped
                assert "one of this store's strengths" in item["reason"]


def test_a_reason_too_long_for_a_tip_loses_whole_sentences_never_half_a_number():
    from coaching.llm.base import FocusItem, PlanRequest
    from coaching.llm.text_checks import MAX_WHY

    fell = trend("team_retention", 55.0, region=71.0, chain=50.0, top=88.0, change=-6.0,
                 significant=True)  # fmt: skip
    [focus] = rank_categories(
        [fell],
        goals={"team_retention": GoalTarget("team_retention", 55.0, "20 Dec 2026")},
    )
    assert len(focus.reason) > MAX_WHY, "a drop, a goal, a strength and two gaps at once"
    item = FocusItem("team_retention", "Team retention", 55.0, -6.0, 71.0, 88.0, None,
                     focus.situation, focus.reason, 55.0, "20 Dec 2026")  # fmt: skip
    request = PlanRequest("Sam", "T0001", "2026-W48", "2026-W47", (item,))

    [tip] = PLAYBOOK.weekly_plan(request, calls=[]).out.tips

    assert len(tip.why) <= MAX_WHY
    assert focus.reason.startswith(tip.why) and tip.why.endswith(".")
    assert tip.why in {focus.reason[: m.end()] for m in re.finditer(r"\.(?= |$)", focus.reason)}
