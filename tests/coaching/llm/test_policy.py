"""The one failure policy (`coaching.llm.policy`) with scripted coaches: no server, no database.

Transient failures are retried with a doubling backoff or the server's Retry-After (capped), an
unusable or rejected answer gets exactly one repair, a permanent error falls back at once, and the
answer says who answered, whether it fell back and why, with the playbook's practices."""

import pytest

from coaching import llm
from coaching.llm import PLAYBOOK, policy
from coaching.llm.base import (
    CallRecord,
    FocusItem,
    InvalidAnswer,
    PermanentLLMError,
    PlanRequest,
    Reply,
    TransientLLMError,
    TruncatedAnswer,
    UnsupportedRequest,
)
from coaching.llm.playbook import choose_practice
from coaching.llm.policy import Retries
from coaching.llm.schemas import PlanOut, TipOut

GOOD = PlanOut(tips=[TipOut(category="c", title="t", why="w", steps=["a", "b"], module_slug=None)])
EMPTY = PlanOut(tips=[])
STANDIN = PlanOut(
    tips=[TipOut(category="c", title="playbook", why="w", steps=["a", "b"], module_slug=None)]
)


class Scripted:
    """A coach answering from a script: each step is an answer to give or an error to raise."""

    model = "scripted-model"
    prompt_version = "scripted.v1"
    offline = False

    def __init__(self, *steps, name: str = "scripted", practices=None) -> None:
        self.name, self.steps, self.repairs = name, list(steps), []
        self.practices = practices or {}

    def weekly_plan(self, request, *, calls, repair=None) -> Reply[PlanOut]:
        self.repairs.append(repair)
        calls.append(CallRecord(self.name, self.model, self.prompt_version, len(calls) + 1))
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            calls[-1].outcome = "error"
            raise step
        return Reply(step, self.practices)

    draft_module = weekly_plan


def needs_tips(plan: PlanOut) -> list[str]:
    return [] if plan.tips else ["no tips"]


def run(coach, fallback=None, *, attempts=3, sleeps=None, calls=None):
    fallback = fallback or Scripted(STANDIN, name="standin", practices={"c": "key"})
    calls = [] if calls is None else calls
    return policy.ask(
        coach,
        lambda who, repair: who.weekly_plan(None, calls=calls, repair=repair),
        needs_tips,
        calls=calls,
        retries=Retries(attempts=attempts, backoff_seconds=2.0, sleep=sleeps.append),
        fallback=fallback,
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


def test_a_transient_failure_is_retried_with_a_doubling_backoff(sleeps):
    coach = Scripted(TransientLLMError("503"), TransientLLMError("503"), GOOD)

    answer = run(coach, sleeps=sleeps)

    assert (answer.out, answer.coach, answer.fell_back, answer.fallback_reason) == (
        GOOD,
        coach,
        False,
        "",
    )
    assert sleeps == [2.0, 4.0]
    assert coach.repairs == [None, None, None]


def test_retry_after_is_honoured_and_every_wait_is_capped_at_a_minute(sleeps):
    coach = Scripted(TransientLLMError("429", retry_after=7), TransientLLMError("429", 600), GOOD)

    assert run(coach, sleeps=sleeps).out == GOOD
    assert sleeps == [7, 60.0]


def test_transient_on_every_attempt_falls_back_saying_so(sleeps):
    coach = Scripted(*[TransientLLMError("timed out")] * 3)

    answer = run(coach, sleeps=sleeps)

    assert answer.fell_back and answer.coach.name == "standin" and answer.out == STANDIN
    assert answer.fallback_reason == "LLM unavailable after 3 attempts: timed out"
    assert answer.practices == {"c": "key"}
    assert sleeps == [2.0, 4.0], "no wait after the last attempt"


def test_an_invalid_answer_gets_exactly_one_repair_carrying_its_problems(sleeps):
    coach = Scripted(InvalidAnswer("off-schema answer: tips", raw='{"tip'), GOOD)

    answer = run(coach, sleeps=sleeps)

    assert answer.out == GOOD and not answer.fell_back
    first, repair = coach.repairs
    assert first is None
    assert (repair.previous_answer, repair.problems) == ('{"tip', ["off-schema answer: tips"])
    assert sleeps == []


def test_a_rejected_answer_is_logged_invalid_and_a_second_one_falls_back(sleeps):
    calls: list[CallRecord] = []
    coach = Scripted(EMPTY, InvalidAnswer("refused: no", raw=""))

    answer = run(coach, sleeps=sleeps, calls=calls)

    assert answer.fallback_reason == "LLM answer unusable after one repair: refused: no"
    assert coach.repairs[1].previous_answer == EMPTY.model_dump_json()
    assert coach.repairs[1].problems == ["no tips"]
    assert [(c.provider, c.outcome) for c in calls] == [
        ("scripted", "invalid"),
        ("scripted", "error"),
        ("standin", "ok"),
    ]
    assert calls[0].error == "rejected first answer: no tips"


def test_a_permanent_error_falls_back_at_once(sleeps):
    coach = Scripted(PermanentLLMError("401 bad key"))

    answer = run(coach, sleeps=sleeps)

    assert answer.fallback_reason == "LLM error: 401 bad key"
    assert coach.steps == [] and coach.repairs == [None] and sleeps == []


def test_a_truncated_answer_falls_back_at_once_without_a_repair(sleeps):
    cut = "cut off at the token limit (900 tokens); raise COACH_MAX_COMPLETION_TOKENS"
    coach = Scripted(TruncatedAnswer(cut, raw='{"tips": [', limit=900), GOOD)

    answer = run(coach, sleeps=sleeps)

    assert answer.fallback_reason == f"LLM answer {cut}"
    assert coach.repairs == [None] and coach.steps == [GOOD] and sleeps == []


def test_a_truncated_repair_falls_back_at_once(sleeps):
    coach = Scripted(InvalidAnswer("off-schema answer: tips"), TruncatedAnswer("cut off"), GOOD)

    answer = run(coach, sleeps=sleeps)

    assert answer.fallback_reason == "LLM answer cut off"
    assert len(coach.repairs) == 2 and coach.steps == [GOOD]


def test_an_unsupported_request_is_not_retried(sleeps):
    refused = "the server does not support COACH_LLM_MODE=json_schema: Input should be 'text'"
    coach = Scripted(UnsupportedRequest(refused, "Input should be 'text'"), GOOD)

    answer = run(coach, sleeps=sleeps)

    assert answer.fallback_reason == f"LLM error: {refused}"
    assert coach.steps == [GOOD] and sleeps == []


def test_a_fallback_that_raises_reaches_the_caller(sleeps):
    broken = Scripted(RuntimeError("playbook file missing"), name="standin")

    with pytest.raises(RuntimeError, match="playbook file missing"):
        run(Scripted(PermanentLLMError("401")), broken, sleeps=sleeps)


def test_a_coach_that_is_its_own_fallback_answers_once_unchecked(sleeps):
    coach = Scripted(EMPTY, practices={"c": "key"})

    answer = run(coach, coach, sleeps=sleeps)

    assert (answer.out, answer.coach, answer.fell_back, answer.practices) == (
        EMPTY,
        coach,
        False,
        {"c": "key"},
    )


# --- the playbook answers with its practices ---------------------------------------------------


def request_for(*situations: tuple[str, str]) -> PlanRequest:
    return PlanRequest(
        manager_first_name="Alex",
        store_code="T0001",
        week="2026-W48",
        data_week="2026-W47",
        focus=tuple(
            FocusItem(code, code, 60.0, -3.0, 70.0, 75.0, -0.5, situation, "It fell.")
            for code, situation in situations
        ),
        recent_practices=(),
    )


def test_the_playbook_answers_with_the_practice_of_each_tip():
    request = request_for(("customer_advocacy", "declining"), ("team_retention", "low"))
    calls: list[CallRecord] = []

    reply = PLAYBOOK.weekly_plan(request, calls=calls)

    assert [tip.category for tip in reply.out.tips] == ["customer_advocacy", "team_retention"]
    for tip, item in zip(reply.out.tips, request.focus, strict=True):
        practice = choose_practice(
            item.category, item.situation, week=request.week, store="T0001", recent=()
        )
        assert reply.practices[tip.category] == practice.key
        assert tip.title == practice.title
    assert [(c.provider, c.attempt) for c in calls] == [("playbook", 1)]
    assert PLAYBOOK.offline and not hasattr(PLAYBOOK, "practice_keys")


def test_a_plan_that_falls_back_carries_the_playbooks_practices(sleeps):
    request = request_for(("customer_advocacy", "declining"))
    calls: list[CallRecord] = []

    answer = policy.coach_plan(
        request,
        Scripted(PermanentLLMError("401")),
        calls,
        retries=Retries(sleep=sleeps.append),
    )

    assert answer.coach is PLAYBOOK and answer.fell_back
    assert answer.practices == PLAYBOOK.weekly_plan(request, calls=[]).practices
    assert [c.provider for c in calls] == ["scripted", "playbook"]


def test_the_retry_budget_comes_from_the_settings(settings):
    settings.COACH_LLM_ATTEMPTS, settings.COACH_LLM_BACKOFF_SECONDS = 5, 0.5
    assert (llm.retries().attempts, llm.retries().backoff_seconds) == (5, 0.5)
    settings.COACH_LLM_ATTEMPTS = 0
    assert llm.retries().attempts == 1, "the coach is always asked at least once"
