"""`grounding.check` on hand-built plans: nothing an LLM writes is stored before it is checked
against the data it was given; and a plan that skips a focus category is never stored as ready."""

import pytest

from coaching.llm.base import FocusItem, ModuleRef, PlanRequest
from coaching.llm.grounding import MAX_STEP, MAX_TITLE, MAX_WHY, check
from coaching.llm.schemas import PlanOut, TipOut
from coaching.llm.text_checks import MIN_STEP, MIN_TITLE, MIN_WHY
from tests.fakes.openai_server import ok

from .helpers import focus_codes, generate, good_answer, the_plan, tip_categories


def focus_item(category="customer_advocacy", score=61.4, **overrides) -> FocusItem:
    values = {
        "category": category,
        "name": category.replace("_", " ").capitalize(),
        "score": score,
        "change": -12.6,
        "region_median": 75.0,
        "chain_top_quartile": 78.0,
        "slope": -0.9,
        "situation": "declining",
        "reason": f"It fell 12.6 points last week to {score}.",
    }
    return FocusItem(**(values | overrides))


def plan_request(*focus: FocusItem) -> PlanRequest:
    focus = focus or (focus_item(),)
    return PlanRequest(
        manager_first_name="Alex",
        store_code="T0001",
        week="2026-W48",
        data_week="2026-W47",
        focus=focus,
        modules=tuple(
            ModuleRef(f"{item.category}-module", "A module", "Summary", item.category)
            for item in focus
        ),
    )


# A why must say enough to be worth reading (MIN_WHY characters): the short whys below carry this.
MORE = "Talk it through with the team this week."


def tip(category="customer_advocacy", **overrides) -> TipOut:
    values = {
        "category": category,
        "title": "Call back every detractor",
        "why": f"Advocacy fell last week. {MORE}",
        "steps": ["Ask 3 customers how it went.", "Spend 5 minutes at the huddle on it."],
        "module_slug": f"{category}-module",
    }
    return TipOut(**(values | overrides))


def problems(*tips: TipOut, request: PlanRequest | None = None) -> list[str]:
    return check(PlanOut(tips=list(tips)), request or plan_request())


def test_check_accepts_a_grounded_plan_in_the_data():
    assert problems(tip()) == []
    assert problems(tip(module_slug=None)) == []


@pytest.mark.parametrize(
    "why",
    [
        "Advocacy is at 61.4.",
        "Advocacy is at 61.",  # rounded to a whole number
        "Advocacy fell 12.6 points to 61.4.",
        "Advocacy fell 13 points.",
        "It is 13.6 points below the region median of 75.",  # a gap between data numbers
        "It is 16.6 points below the chain's top quarter at 78.0.",
    ],
)
def test_check_accepts_numbers_from_the_data_within_rounding(why):
    assert problems(tip(why=f"{why} {MORE}")) == []


@pytest.mark.parametrize(
    ("why", "invented"),
    [
        ("Advocacy is at 62.", "62"),
        ("Advocacy is at 61.5.", "61.5"),
        ("Advocacy fell 42.7 points last week.", "42.7"),
        ("Reviews are down 30% this month.", "30"),
    ],
)
def test_check_rejects_invented_numbers_in_the_why(why, invented):
    [problem] = problems(tip(why=f"{why} {MORE}"))
    assert problem == f"tip 1: numbers not in the data: {invented}"


def test_check_rejects_invented_numbers_in_the_title():
    [problem] = problems(tip(title="Win back 25 points of advocacy"))
    assert "numbers not in the data: 25" in problem


def test_check_lets_steps_count_things_but_not_quote_figures():
    counted = ["Ask 3 customers at the till how it went.", "Spend 10 minutes on it at 9 am."]
    assert problems(tip(steps=counted)) == []
    assert problems(tip(steps=["Aim for 61.4 by Friday.", "Ask 3 customers how it went."])) == []

    for bad, number in [
        ("Lift advocacy by 12.5% this week.", "12.5"),
        ("Lift advocacy by 15% this week.", "15"),
        ("Win back 7 points by Friday.", "7"),
    ]:
        [problem] = problems(tip(steps=[bad, "Ask 3 customers how it went."]))
        assert problem == f"tip 1: numbers not in the data: {number}"


def test_check_enforces_lengths_and_step_counts():
    def words(text: str, length: int) -> str:
        return (text * length)[:length]

    at_limits = tip(
        title=words("Call back every detractor ", MAX_TITLE),
        why=words("It fell and the team can help with it. ", MAX_WHY),
        steps=[
            words(f"{verb} the team what went on. ", MAX_STEP)
            for verb in ("Ask", "Tell", "Thank", "Show")
        ],
    )
    assert problems(at_limits) == []
    shortest = tip(
        title="Call them up", why=words("It fell and the team can help. ", MIN_WHY),
        steps=["Ask them today.", "Call them today"],
    )  # fmt: skip
    assert (len(shortest.title), len(shortest.steps[0])) == (MIN_TITLE, MIN_STEP)
    assert problems(shortest) == []

    assert problems(tip(title="t" * (MAX_TITLE + 1))) == [
        f"tip 1: title must be {MIN_TITLE}-{MAX_TITLE} characters, got {MAX_TITLE + 1}"
    ]
    assert problems(tip(title="   ")) == [
        f"tip 1: title must be {MIN_TITLE}-{MAX_TITLE} characters, got 0"
    ]
    assert problems(tip(why="w" * (MAX_WHY + 1))) == [
        f"tip 1: why must be {MIN_WHY}-{MAX_WHY} characters, got {MAX_WHY + 1}"
    ]
    ok_steps = ["Ask 3 customers how it went.", "Spend 5 minutes at the huddle on it."]
    assert problems(tip(steps=ok_steps[:1])) == ["tip 1: 2-4 steps, got 1"]
    five = [f"Ask the {who} how it went." for who in ("cook", "host", "lead", "till", "team")]
    assert problems(tip(steps=five)) == ["tip 1: 2-4 steps, got 5"]
    assert problems(tip(steps=[*ok_steps[:1], "s" * (MAX_STEP + 1)])) == [
        f"tip 1: step 2 must be {MIN_STEP}-{MAX_STEP} characters, got {MAX_STEP + 1}"
    ]
    assert problems(tip(steps=[*ok_steps[:1], " "])) == [
        f"tip 1: step 2 must be {MIN_STEP}-{MAX_STEP} characters, got 0"
    ]


def test_check_rejects_wrong_categories_modules_and_tip_counts():
    request = plan_request(focus_item(), focus_item("team_retention", 55.0))
    good = [tip(), tip("team_retention")]
    assert problems(*good, request=request) == []

    assert problems(request=request) == [
        "expected 2 tips, one per focus category, got 0; missing customer_advocacy, team_retention"
    ]
    assert problems(*good, tip("customer_advocacy"), request=request)[0] == (
        "expected 2 tips, one per focus category, got 3"
    )
    missing, other = problems(tip(), tip("promotions_roi", module_slug=None), request=request)
    assert missing == "expected 2 tips, one per focus category, got 2; missing team_retention"
    assert other.startswith("tip 2: category 'promotions_roi' is not a focus category")
    missing, twice = problems(tip(), tip(), request=request)
    assert missing.endswith("; missing team_retention")
    assert twice == "tip 2: a second tip for 'customer_advocacy'"
    [module] = problems(tip(module_slug="made-up"), tip("team_retention"), request=request)
    assert module == "tip 1: module 'made-up' is not one of the modules given"
    # A module of the request, but for another category, is not checked against the tip.
    assert (
        problems(tip(module_slug="team_retention-module"), tip("team_retention"), request=request)
        == []
    )


def test_check_rejects_a_plan_that_leaves_out_a_focus_category():
    request = plan_request(focus_item(), focus_item("team_retention", 55.0))
    assert problems(tip(), request=request) == [
        "expected 2 tips, one per focus category, got 1; missing team_retention"
    ]


@pytest.mark.django_db
def test_an_answer_that_skips_a_focus_category_is_not_stored_as_ready(chain, llm):
    def first_tip_only(body):
        answer = good_answer(body)
        answer["tips"] = answer["tips"][:1]
        return answer

    llm.default = ok(first_tip_only)

    generate(chain)

    plan = the_plan(chain)
    assert tip_categories(plan) == focus_codes(plan)
