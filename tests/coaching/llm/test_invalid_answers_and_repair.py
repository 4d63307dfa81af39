"""Unusable answers through generate_plans: unreadable, off-schema, refused or ungrounded answers
get exactly one repair attempt (the versioned repair prompt, with the problems), then the playbook
stands in; a permanent error or an answer cut off at the token limit falls back at once."""

import json

import pytest

from coaching.llm import prompts
from coaching.models import CoachingTip, TrainingModule
from tests.fakes.openai_server import (
    MALFORMED_CONTENT,
    broken_body,
    error,
    malformed,
    ok,
    refusal,
    truncated,
)

from .helpers import (
    assert_fallback,
    assert_ready,
    call_log,
    generate,
    good_answer,
    spoiled,
    the_plan,
    tip_categories,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("mode", ["parse", "json_schema"])
def test_malformed_json_is_repaired_once(chain, llm, settings, mode):
    # The SDK's parse and our own validation reject it the same way.
    problem = "off-schema answer: answer: Invalid JSON"
    settings.COACH_LLM_MODE = mode
    llm.enqueue(malformed())

    result = generate(chain)

    assert dict(result.counts) == {"created": 1}
    plan = the_plan(chain)
    assert_ready(plan)
    assert call_log(plan) == [("openai", "invalid"), ("openai", "ok")]
    assert plan.llm_calls.order_by("id").first().error.startswith(problem)
    first, second = llm.requests
    assert second["messages"][:2] == first["messages"]
    assistant, repair = second["messages"][2:]
    assert assistant["role"] == "assistant"
    assert assistant["content"] == MALFORMED_CONTENT
    assert repair["role"] == "user"
    assert problem in repair["content"]
    assert repair["content"].startswith("That answer cannot be used: ")
    assert repair["content"].endswith("Answer again with corrected JSON only.")


def test_schema_breaking_answer_twice_falls_back(chain, llm):
    llm.default = ok('{"tips": [{"category": "x"}]}')

    result = generate(chain)

    assert dict(result.counts) == {"fallback": 1}
    plan = the_plan(chain)
    assert_fallback(plan, "unusable after one repair")
    assert call_log(plan) == [("openai", "invalid")] * 2 + [("playbook", "ok")]
    assert llm.request_count == 2
    assert "That answer cannot be used" in llm.requests[1]["messages"][-1]["content"]


def test_hallucinated_module_twice_falls_back(chain, llm):
    llm.default = ok(spoiled(module_slug="advanced-upselling-masterclass"))

    generate(chain)

    plan = the_plan(chain)
    # The request's schema offers only its modules: the answer fails it, whatever the server did.
    assert_fallback(plan, "unusable after one repair", "got 'advanced-upselling-masterclass'")
    assert "tips.0.module_slug: Input should be " in plan.fallback_reason
    assert call_log(plan) == [("openai", "invalid")] * 2 + [("playbook", "ok")]
    first = plan.llm_calls.order_by("id").first()
    assert first.error.startswith("off-schema answer: tips.0.module_slug")
    assert first.tokens_in > 0  # an answer that was read and rejected still cost tokens
    # The rejected answer goes back to the model with what was wrong with it.
    repair = llm.requests[1]["messages"]
    assert json.loads(repair[2]["content"])["tips"][0]["module_slug"] == (
        "advanced-upselling-masterclass"
    )
    assert "advanced-upselling-masterclass" in repair[3]["content"]
    assert not TrainingModule.objects.filter(slug="advanced-upselling-masterclass").exists()


def test_invented_number_in_why_twice_falls_back(chain, llm):
    llm.default = ok(spoiled(why="Customer advocacy fell 42.7 points last week."))

    generate(chain)

    plan = the_plan(chain)
    assert_fallback(plan, "numbers not in the data", "42.7")
    assert call_log(plan) == [("openai", "invalid")] * 2 + [("playbook", "ok")]
    assert not CoachingTip.objects.filter(why__contains="42.7").exists()


def test_tip_for_a_category_outside_the_focus_is_rejected(chain, llm):
    llm.default = ok(spoiled(category="promotions_roi"))

    generate(chain)

    plan = the_plan(chain)
    assert_fallback(
        plan, "tips.0.category: Input should be 'customer_advocacy' or 'team_retention'"
    )
    assert "got 'promotions_roi'" in plan.fallback_reason
    assert "promotions_roi" not in tip_categories(plan)


def test_ungrounded_first_answer_repaired_by_the_second(chain, llm):
    llm.enqueue(ok(spoiled(why="Customer advocacy fell 42.7 points last week.")))

    generate(chain)

    plan = the_plan(chain)
    assert_ready(plan)
    assert call_log(plan) == [("openai", "invalid"), ("openai", "ok")]
    assert "42.7" not in " ".join(plan.tips.values_list("why", flat=True))


@pytest.mark.parametrize("mode", ["parse", "json_schema"])
def test_refusal_is_repaired_then_falls_back_when_repeated(chain, llm, settings, mode):
    settings.COACH_LLM_MODE = mode
    llm.enqueue(refusal("I can't help with that."))

    generate(chain)
    plan = the_plan(chain)
    assert_ready(plan)
    assert call_log(plan) == [("openai", "invalid"), ("openai", "ok")]
    assert "refused" in plan.llm_calls.order_by("id").first().error

    llm.reset()
    llm.default = refusal("I can't help with that.")
    generate(chain, force=True)
    plan = the_plan(chain)
    assert_fallback(plan, "unusable after one repair", "refused")
    assert llm.request_count == 2


@pytest.mark.parametrize("mode", ["parse", "json_schema", "json_object"])
def test_a_truncated_answer_falls_back_at_once_without_a_repair(chain, llm, settings, mode):
    settings.COACH_LLM_MODE = mode
    llm.enqueue(truncated(good_answer))

    result = generate(chain)

    assert dict(result.counts) == {"fallback": 1}
    plan = the_plan(chain)
    assert_fallback(
        plan,
        "LLM answer cut off at the token limit (1500 tokens); raise COACH_MAX_COMPLETION_TOKENS",
    )
    assert call_log(plan) == [("openai", "invalid"), ("playbook", "ok")]
    assert plan.llm_calls.order_by("id").first().error.startswith("truncated: cut off")
    assert llm.request_count == 1, "never sent back for repair, never asked again"


@pytest.mark.parametrize(
    ("bad", "log"),
    [
        (malformed(), [("openai", "invalid"), ("openai", "ok")]),
        (truncated(good_answer), [("openai", "invalid"), ("playbook", "ok")]),
    ],
    ids=["malformed", "truncated"],
)
def test_an_unusable_answer_in_parse_mode_still_logs_its_tokens(chain, llm, bad, log):
    llm.enqueue(bad)

    generate(chain)

    plan = the_plan(chain)
    assert call_log(plan) == log
    invalid = plan.llm_calls.order_by("id").first()
    assert invalid.tokens_in > 0 and invalid.tokens_out > 0 and invalid.cost_usd > 0


def test_parse_mode_repair_shows_the_model_its_previous_answer(chain, llm):
    llm.enqueue(malformed())

    generate(chain)

    assert_ready(the_plan(chain))
    assert llm.requests[1]["messages"][2] == {"role": "assistant", "content": MALFORMED_CONTENT}


def test_broken_body_then_good_answer_is_ready(chain, llm):
    llm.enqueue(broken_body())

    generate(chain)

    plan = the_plan(chain)
    assert_ready(plan)
    assert call_log(plan) == [("openai", "invalid"), ("openai", "ok")]


def test_broken_body_every_time_falls_back(chain, llm):
    llm.default = broken_body()

    result = generate(chain)

    assert dict(result.counts) == {"fallback": 1}
    plan = the_plan(chain)
    assert_fallback(plan, "unusable after one repair")
    assert call_log(plan) == [("openai", "invalid")] * 2 + [("playbook", "ok")]


def test_bad_key_falls_back_at_once_without_retrying(chain, llm):
    llm.default = error(401)

    generate(chain)

    plan = the_plan(chain)
    assert_fallback(plan, "LLM error")
    assert call_log(plan) == [("openai", "error"), ("playbook", "ok")]
    assert llm.request_count == 1


def test_the_repair_prompt_is_a_versioned_file_recorded_on_the_repair_call(chain, llm):
    llm.enqueue(ok(spoiled(module_slug="made-up")))

    generate(chain)

    plan = the_plan(chain)
    assert_ready(plan)
    first, repair = plan.llm_calls.order_by("id")
    assert (first.prompt_version, first.attempt) == ("weekly_plan.v4", 1)
    assert (repair.prompt_version, repair.attempt) == ("weekly_plan.v4+repair.v1", 2)
    assert plan.prompt_version == "weekly_plan.v4"  # the plan names its task's prompt
    problem = first.error
    assert problem.startswith("off-schema answer: tips.0.module_slug: Input should be ")
    assert problem.endswith(", got 'made-up'")
    assert llm.requests[1]["messages"][3] == {
        "role": "user",
        "content": prompts.render(prompts.REPAIR, problems=problem),
    }
    assert "{problems}" in prompts.load(prompts.REPAIR)
