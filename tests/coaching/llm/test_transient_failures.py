"""Transient failures (429, 5xx, timeouts, dropped connections) through generate_plans: retried
with backoff, Retry-After honoured, then the playbook stands in saying why."""

import time

import pytest

from tests.fakes.openai_server import drop_connection, error, malformed, ok, slow

from .helpers import assert_fallback, assert_ready, call_log, generate, good_answer, the_plan

pytestmark = pytest.mark.django_db


def test_429_with_retry_after_is_honoured_then_the_answer_is_stored(chain, llm):
    llm.enqueue(error(429, retry_after=1))

    started = time.monotonic()
    result = generate(chain)
    elapsed = time.monotonic() - started

    assert dict(result.counts) == {"created": 1}
    assert elapsed >= 0.9, "Retry-After: 1 is waited out, not the 0.01 s backoff"
    plan = the_plan(chain)
    assert_ready(plan)
    assert call_log(plan) == [("openai", "transient"), ("openai", "ok")]
    first, second = plan.llm_calls.order_by("id")
    assert "429" in first.error and (first.attempt, second.attempt) == (1, 2)
    assert llm.request_count == 2


def test_500_then_good_answer_is_ready(chain, llm):
    llm.enqueue(error(500))

    generate(chain)

    plan = the_plan(chain)
    assert_ready(plan)
    assert call_log(plan) == [("openai", "transient"), ("openai", "ok")]


def test_500_on_every_attempt_falls_back_to_the_playbook(chain, llm, settings):
    settings.COACH_LLM_ATTEMPTS = 3
    llm.default = error(500)

    result = generate(chain)

    assert dict(result.counts) == {"fallback": 1}
    plan = the_plan(chain)
    assert_fallback(plan, "unavailable", "3 attempts")
    assert call_log(plan) == [("openai", "transient")] * 3 + [("playbook", "ok")]
    assert list(plan.llm_calls.order_by("id").values_list("attempt", flat=True)) == [1, 2, 3, 4]
    assert llm.request_count == 3
    # The playbook tips are still linked to the demo modules.
    assert all(tip.module is not None for tip in plan.tips.all())


def test_answers_slower_than_the_timeout_fall_back_with_transient_calls(chain, llm, settings):
    settings.OPENAI_TIMEOUT = 0.3
    llm.default = slow(3.0, ok(good_answer))

    result = generate(chain)

    assert dict(result.counts) == {"fallback": 1}
    plan = the_plan(chain)
    assert_fallback(plan, "unavailable after 2 attempts", "timed out")
    assert call_log(plan) == [("openai", "transient")] * 2 + [("playbook", "ok")]
    assert llm.request_count == 2


def test_dropped_connection_is_retried(chain, llm):
    llm.enqueue(drop_connection())

    generate(chain)

    plan = the_plan(chain)
    assert_ready(plan)
    assert call_log(plan) == [("openai", "transient"), ("openai", "ok")]


def test_connection_dropped_on_every_attempt_falls_back(chain, llm):
    llm.default = drop_connection()

    result = generate(chain)

    assert dict(result.counts) == {"fallback": 1}
    plan = the_plan(chain)
    assert_fallback(plan, "unavailable after 2 attempts")
    assert call_log(plan) == [("openai", "transient")] * 2 + [("playbook", "ok")]


def test_a_transient_failure_on_the_repair_attempt_retries_the_repair(chain, llm):
    llm.enqueue(malformed(), error(503))

    result = generate(chain)

    assert dict(result.counts) == {"created": 1}
    plan = the_plan(chain)
    assert_ready(plan)
    assert call_log(plan) == [("openai", "invalid"), ("openai", "transient"), ("openai", "ok")]
    versions = list(plan.llm_calls.order_by("id").values_list("prompt_version", flat=True))
    assert versions == ["weekly_plan.v4"] + ["weekly_plan.v4+repair.v1"] * 2
    # The retry is the same repair request, not a fresh first answer.
    assert llm.requests[2]["messages"] == llm.requests[1]["messages"]
    assert len(llm.requests[2]["messages"]) == 4
