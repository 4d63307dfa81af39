"""COACH_LLM_BATCH=openai: the weekly batch's questions go through the Batch API (a JSONL file,
one batch job, polled), through the real `openai` client against the fake server's batch
endpoints. Answers are checked as direct ones are; a plan the batch did not answer by the deadline
gets the playbook's, saying why. Also: cached prompt tokens are read from the usage and logged."""

import json

import pytest

from coaching.llm.base import CallRecord, PlanRequest
from coaching.llm.openai_batch import submit_batch
from coaching.models import LLMCall
from tests.fakes.openai_server import error, ok

from .helpers import (
    DATA_PREFIX,
    assert_fallback,
    assert_ready,
    call_log,
    fake_coach,
    generate,
    good_answer,
    spoiled,
    the_plan,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch_api(llm, settings):
    settings.COACH_LLM_BATCH = "openai"
    settings.COACH_LLM_BATCH_DEADLINE_SECONDS = 1
    settings.COACH_LLM_BATCH_POLL_SECONDS = 0.05
    return llm


def test_the_batch_api_answers_the_plan_in_one_batch_job(chain, batch_api):
    result = generate(chain)

    assert dict(result.counts) == {"created": 1}
    plan = the_plan(chain)
    assert_ready(plan)
    [job] = batch_api.batches
    assert job["status"] == "completed" and job["endpoint"] == "/v1/chat/completions"
    assert job["request_counts"] == {"total": 1, "completed": 1, "failed": 0}
    # The line's body is the request a direct call sends: the stable prefix, then the data.
    [body] = batch_api.requests
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1]["content"].startswith(DATA_PREFIX)
    assert body["response_format"]["type"] == "json_schema"
    [call] = LLMCall.objects.all()
    assert (call.plan, call.provider, call.outcome, call.attempt) == (plan, "openai", "ok", 1)
    assert call.tokens_in > 0 and call.tokens_out > 0


def test_a_batch_that_never_completes_falls_back_to_the_playbook_at_the_deadline(chain, batch_api):
    batch_api.batch_seconds = None  # the batch stays in progress

    result = generate(chain)

    assert dict(result.counts) == {"fallback": 1}
    plan = the_plan(chain)
    assert_fallback(plan, "not answered by the Batch API within 1 s", "still in_progress")
    assert result.problems[0][2:] == ("fallback", plan.fallback_reason)
    assert call_log(plan) == [("openai", "error"), ("playbook", "ok")]
    assert "not answered by the Batch API" in plan.llm_calls.order_by("id").first().error
    [job] = batch_api.batches
    assert job["status"] == "cancelled", "a batch past its deadline is cancelled"
    assert batch_api.requests == [], "no line was answered, and nothing went to the live endpoint"


def test_an_off_schema_batch_answer_is_repaired_on_the_live_endpoint(chain, batch_api):
    batch_api.enqueue(ok(spoiled(category="made_up")))

    result = generate(chain)

    assert dict(result.counts) == {"created": 1}
    assert_ready(the_plan(chain))
    assert call_log(the_plan(chain)) == [("openai", "invalid"), ("openai", "ok")]
    line, repair = batch_api.requests
    assert len(line["messages"]) == 2
    assert len(repair["messages"]) == 4, "the repair went out directly, with the problems"


def test_a_line_the_batch_failed_with_a_5xx_is_retried_on_the_live_endpoint(chain, batch_api):
    batch_api.enqueue(error(503, "overloaded"))

    result = generate(chain)

    assert dict(result.counts) == {"created": 1}
    assert call_log(the_plan(chain)) == [("openai", "transient"), ("openai", "ok")]
    assert len(batch_api.requests) == 2


def test_a_provider_without_the_batch_api_is_asked_directly(chain, batch_api):
    batch_api.batch_api = False  # /v1/files answers 404

    result = generate(chain)

    assert dict(result.counts) == {"created": 1}
    assert_ready(the_plan(chain))
    assert batch_api.batches == []
    assert batch_api.request_count == 1


def test_submit_batch_reads_each_line_by_its_custom_id(server, chain):
    from coaching.plans.batch import build_request
    from coaching.plans.week_context import load_week_context

    from .helpers import WEEK

    context = load_week_context(WEEK, chain.pairs)
    request, _ = build_request(context, chain.manager.id, chain.store.id, "Alex", "S1")
    other = PlanRequest(**{**request.__dict__, "manager_first_name": "Sam"})
    server.enqueue(ok(good_answer), error(400, "bad line"))
    coach = fake_coach(server, mode="json_schema")

    outcome = submit_batch(coach, [request, other], deadline=5, poll=0.01)

    assert outcome.status == "completed" and sorted(outcome.answers) == [0]
    assert outcome.errors == {1: (400, "Batch API answered 400: bad line")}
    sent = [json.loads(line) for line in server.batch_input(outcome.batch_id)]
    assert [line["custom_id"] for line in sent] == ["0", "1"]
    assert {line["url"] for line in sent} == {"/v1/chat/completions"}
    assert sent[0]["body"] == coach.plan_body(request)


# --- cached prompt tokens -----------------------------------------------------------------------


def test_cached_prompt_tokens_are_read_from_the_usage_logged_and_costed(chain, llm, settings):
    llm.cache_prompts(min_tokens=256, step=64)  # the shared prefix here is ~780 tokens
    settings.COACH_PRICES = {"fake-model": (0.15, 0.60, 0.075)}
    settings.COACH_LLM_CONCURRENCY = 1

    generate(chain)
    generate(chain, force=True)  # the same prefix again

    first, second = LLMCall.objects.order_by("id")
    assert first.cached_tokens == 0, "nothing seen before the first call"
    assert 256 <= second.cached_tokens <= second.tokens_in
    # Cached tokens cost the cached price: less than the same call uncached.
    full = CallRecord("openai", "fake-model", "v", tokens_in=second.tokens_in)
    full.tokens_out = second.tokens_out
    from coaching.call_log import cost_of

    assert second.cost_usd < cost_of(full)


def test_a_server_that_reports_no_cache_details_logs_zero(chain, llm):
    generate(chain)

    [call] = LLMCall.objects.all()
    assert call.tokens_in > 0 and call.cached_tokens == 0


def test_the_batch_logs_its_tokens_in_one_line(chain, llm, caplog):
    llm.cache_prompts(min_tokens=256, step=64)
    caplog.set_level("INFO", logger="coaching.plans.batch")

    result = generate(chain)

    assert result.tokens["calls"] == 1 and result.tokens["prompt"] > 0
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("LLM tokens")]
    assert line == (
        f"LLM tokens: 1 calls, {result.tokens['prompt']} prompt (0 cached), "
        f"{result.tokens['completion']} completion"
    )
