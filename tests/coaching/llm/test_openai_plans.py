"""The OpenAI coach end to end: the real SDK against the fake server, through generate_plans.

Every scenario asserts what was stored: the one WeeklyPlan per (manager, store, week), its status,
provider and fallback reason, its tips, and the LLMCall log. This file has the good answers and
re-runs; failures are in test_transient_failures and test_invalid_answers_and_repair.
"""

import json

import pytest

from coaching.llm import PLAYBOOK, prompts
from coaching.models import CoachingTip, LLMCall, TrainingModule, WeeklyPlan
from coaching.plans import batch
from coaching.plans.week_context import load_week_context
from scoring.models import Source
from tests.factories import MONDAY, score
from tests.fakes.openai_server import error, ok

from .helpers import (
    DECLINING,
    STEPS,
    WEEK,
    assert_fallback,
    assert_ready,
    call_log,
    focus_codes,
    generate,
    good_answer,
    plan_data,
    the_plan,
)

pytestmark = pytest.mark.django_db


# --- the happy path ---------------------------------------------------------------------------


def test_good_answer_is_stored_with_its_call(chain, llm):
    result = generate(chain)

    assert dict(result.counts) == {"created": 1}
    plan = the_plan(chain)
    assert_ready(plan)
    assert plan.prompt_version == "weekly_plan.v4"
    tips = list(plan.tips.order_by("order").select_related("category", "module"))
    assert [t.order for t in tips] == [1, 2]
    for tip, item in zip(tips, plan.focus, strict=True):
        assert tip.why == item["reason"]
        assert tip.steps == STEPS
        assert tip.module is not None and tip.module.category == tip.category
        assert tip.module.status == TrainingModule.Status.PUBLISHED
        assert tip.practice_key == ""  # only playbook tips carry one
    # The gap to the region median made a good part of its priority: the reason names it too.
    assert tips[0].why == (
        "Customer advocacy fell 13.1 points last week to 61.4, beyond this store's usual "
        "week-to-week movement of 0.5, the largest drop in the region. Customer advocacy is "
        "61.4, 13.6 points below the region median at 75.0."
    )
    # No advocacy goal: the module that best matches the category's own words (NPS, reviews).
    assert tips[0].module.slug == "turning-happy-customers-into-reviewers"

    [call] = LLMCall.objects.all()
    assert call.plan == plan
    assert (call.provider, call.model, call.outcome, call.attempt) == (
        "openai",
        "fake-model",
        "ok",
        1,
    )
    assert call.purpose == "weekly_plan" and call.prompt_version == "weekly_plan.v4"
    assert call.tokens_in > 0 and call.tokens_out > 0 and call.cost_usd > 0
    assert call.error == ""

    assert llm.request_count == 1
    assert llm.request_headers[0]["authorization"] == "Bearer test-key"
    body = llm.requests[0]
    assert body["model"] == "fake-model"
    assert body["max_completion_tokens"] > 0
    system, user = body["messages"]
    assert system == {"role": "system", "content": prompts.load("weekly_plan.v4")}
    assert user["role"] == "user"
    data = plan_data(body)
    assert data["manager_first_name"] == "Alex"
    assert (data["week"], data["data_week"]) == ("2026-W48", "2026-W47")
    assert "recent_practices" not in data
    assert [f["category"] for f in data["focus"]] == focus_codes(plan)


@pytest.mark.parametrize(
    ("mode", "format_type", "schema_name"),
    [
        ("parse", "json_schema", "PlanOut"),
        ("json_schema", "json_schema", "weekly_plan"),
        ("json_object", "json_object", None),
    ],
)
def test_each_mode_sends_its_response_format_and_stores_a_ready_plan(
    chain, llm, settings, mode, format_type, schema_name
):
    settings.COACH_LLM_MODE = mode

    generate(chain)

    plan = the_plan(chain)
    assert_ready(plan)
    assert call_log(plan) == [("openai", "ok")]
    [body] = llm.requests
    response_format = body["response_format"]
    assert response_format["type"] == format_type
    if schema_name is None:
        assert "json_schema" not in response_format
    else:
        assert response_format["json_schema"]["name"] == schema_name
        assert set(response_format["json_schema"]["schema"]["properties"]) == {"tips"}


def test_fallback_tips_store_the_practices_the_playbook_answered_with(chain, llm):
    llm.default = error(401)

    generate(chain)

    plan = the_plan(chain)
    assert_fallback(plan, "LLM error")
    context = load_week_context(WEEK, chain.pairs)
    request, _ = batch.build_request(
        context, chain.manager.id, chain.store.id, "Alex", chain.store.code
    )
    reply = PLAYBOOK.weekly_plan(request, calls=[])
    stored = dict(plan.tips.values_list("category__code", "practice_key"))
    assert stored == reply.practices
    assert set(stored) == set(focus_codes(plan)) and all(stored.values())


def test_a_playbook_that_raises_too_leaves_a_failed_plan(chain, llm, monkeypatch):
    def broken(request, *, calls, repair=None):
        raise RuntimeError("playbook broken")

    monkeypatch.setattr(PLAYBOOK, "weekly_plan", broken)
    llm.default = error(401)

    result = generate(chain)

    assert dict(result.counts) == {"failed": 1}
    plan = the_plan(chain)
    assert plan.status == WeeklyPlan.Status.FAILED
    assert plan.fallback_reason == "RuntimeError: playbook broken"
    assert (plan.provider, plan.model, plan.prompt_version) == ("", "", "")
    assert not plan.tips.exists()
    assert call_log(plan) == [("openai", "error")]


# --- idempotency ------------------------------------------------------------------------------


def test_same_inputs_reuse_the_plan_and_force_replaces_its_tips(chain, llm):
    first = generate(chain)
    plan = the_plan(chain)
    tip_ids = set(plan.tips.values_list("id", flat=True))

    again = generate(chain)

    assert dict(first.counts) == {"created": 1}
    assert dict(again.counts) == {"reused": 1}
    assert llm.request_count == 1, "a reused plan makes no request"
    assert set(the_plan(chain).tips.values_list("id", flat=True)) == tip_ids

    forced = generate(chain, force=True)

    assert dict(forced.counts) == {"updated": 1}
    assert llm.request_count == 2
    plan = the_plan(chain)
    assert_ready(plan)
    assert plan.tips.count() == 2 and CoachingTip.objects.count() == 2, "replaced, not added"
    assert not set(plan.tips.values_list("id", flat=True)) & tip_ids
    assert call_log(plan) == [("openai", "ok")] * 2  # the call log keeps both runs


def test_new_scores_change_the_fingerprint_and_update_the_plan(chain, llm):
    generate(chain)
    before = the_plan(chain)

    # A second source for the declining category in the data week moves its combined score.
    score(chain.store, DECLINING, MONDAY, 50.0, source=Source.METRIC)
    result = generate(chain)

    assert dict(result.counts) == {"updated": 1}
    assert llm.request_count == 2
    plan = the_plan(chain)
    assert plan.id == before.id
    assert plan.fingerprint != before.fingerprint
    assert_ready(plan)
    assert "55.7" in plan.focus[0]["reason"]  # (61.4 + 50.0) / 2
    assert plan.tips.order_by("order").first().why == plan.focus[0]["reason"]
    assert CoachingTip.objects.count() == 2
    assert "55.7" in json.dumps(plan_data(llm.requests[1]))


def test_a_fallback_plan_with_unchanged_inputs_is_reused(chain, llm):
    llm.default = error(503)
    generate(chain)
    assert the_plan(chain).status == WeeklyPlan.Status.FALLBACK

    llm.default = ok(good_answer)
    result = generate(chain)

    assert dict(result.counts) == {"reused": 1}
    assert the_plan(chain).status == WeeklyPlan.Status.FALLBACK
    assert llm.request_count == 2  # only the failed attempts of the first run
