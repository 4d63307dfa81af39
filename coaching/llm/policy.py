"""The one failure policy for everything asked of a coach: weekly plans and module drafts alike.

1. Ask the coach. A transient failure (429, 5xx, timeout, dropped connection) is asked again, up to
   `Retries.attempts` tries in all, after the server's Retry-After or else a doubling backoff
   (`backoff_seconds * 2**(n-1)`), never more than `cap_seconds`.
2. An unusable answer (unreadable, off-schema, refused) or one its check rejects gets exactly one
   repair attempt, which carries the problems back to the coach.
3. A permanent error (bad key, unknown model, bad request, a parameter or response format the
   server does not support) falls back at once, and so does whatever is still wrong after 1 and 2.
   So does an answer cut off at the token limit: a repair would ask for the same answer with less
   room left (7 of 7 were cut off again against a real server), and asking again as it was is cut
   off the same way; the reason says which limit was hit.
4. The fallback coach (the playbook) answers, and the `Answer` says why it stood in. If the fallback
   raises, the exception reaches the caller, which records the failure.

A coach that is its own fallback answers once, unchecked: there is nothing to fall back to. Nothing
here touches Django: the retry budget comes in as `Retries`, and checks return problem strings.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic

from . import grounding
from .base import (
    CallRecord,
    Coach,
    InvalidAnswer,
    LLMError,
    ModuleDraftRequest,
    Out,
    PlanRequest,
    Repair,
    Reply,
    TransientLLMError,
    TruncatedAnswer,
)
from .playbook import PLAYBOOK
from .schemas import ModuleDraftOut, PlanOut

log = logging.getLogger(__name__)
MAX_REASON = 2000

Question = Callable[[Coach, Repair | None], Reply[Out]]
Check = Callable[[Out], list[str]]


@dataclass(frozen=True)
class Retries:
    """How often a transient failure is tried again, and how long to wait before each try."""

    attempts: int = 3
    backoff_seconds: float = 2.0
    cap_seconds: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def wait(self, failures: int, retry_after: float | None) -> None:
        delay = self.backoff_seconds * 2 ** (failures - 1) if retry_after is None else retry_after
        self.sleep(min(delay, self.cap_seconds))


@dataclass(frozen=True)
class Answer(Generic[Out]):
    """What was answered and by which coach; why the fallback stood in ('' when it did not); and
    the playbook practice of each category ({category: practice key}) as the coach replied it."""

    out: Out
    coach: Coach
    fallback_reason: str = ""
    practices: dict[str, str] = field(default_factory=dict)

    @property
    def fell_back(self) -> bool:
        return bool(self.fallback_reason)


def coach_plan(
    request: PlanRequest,
    coach: Coach,
    calls: list[CallRecord],
    *,
    retries: Retries,
    fallback: Coach = PLAYBOOK,
) -> Answer[PlanOut]:
    """A weekly plan grounded in the request's data (`grounding.check`), or the fallback's."""
    return ask(
        coach,
        lambda who, repair: who.weekly_plan(request, calls=calls, repair=repair),
        lambda plan: grounding.check(plan, request),
        calls=calls,
        retries=retries,
        fallback=fallback,
        task="weekly plan",
        rejected="ungrounded",
    )


def draft_module(
    request: ModuleDraftRequest,
    coach: Coach,
    calls: list[CallRecord],
    *,
    check: Check[ModuleDraftOut],
    retries: Retries,
    fallback: Coach = PLAYBOOK,
) -> Answer[ModuleDraftOut]:
    """A module draft that passes `check` (the caller's quiz rules), or the fallback's."""
    return ask(
        coach,
        lambda who, repair: who.draft_module(request, calls=calls, repair=repair),
        check,
        calls=calls,
        retries=retries,
        fallback=fallback,
        task="module draft",
    )


def ask(
    coach: Coach,
    question: Question[Out],
    check: Check[Out],
    *,
    calls: list[CallRecord],
    retries: Retries,
    fallback: Coach = PLAYBOOK,
    task: str = "answer",
    rejected: str = "rejected",
) -> Answer[Out]:
    """`question(coach, repair)` under the policy above; `check` lists what is wrong with an
    answer (empty when it may be used), and a rejected answer's call is logged as invalid."""
    if coach is fallback:
        return _answer(coach, question(coach, None))
    failures, repair = 0, None
    while True:
        try:
            reply = question(coach, repair)
        except TransientLLMError as exc:
            failures += 1
            if failures < retries.attempts:
                retries.wait(failures, exc.retry_after)
                continue
            reason = f"LLM unavailable after {retries.attempts} attempts: {exc}"
            return _fall_back(question, fallback, task, reason)
        except TruncatedAnswer as exc:
            return _fall_back(question, fallback, task, f"LLM answer {exc}")
        except InvalidAnswer as exc:
            previous, problems = exc.raw, [str(exc)]
        except LLMError as exc:  # permanent: retrying or repairing will not help
            return _fall_back(question, fallback, task, f"LLM error: {exc}")
        else:
            problems = check(reply.out)
            if not problems:
                return _answer(coach, reply)
            which = "repair attempt" if repair else "first answer"
            _reject(calls, f"{rejected} {which}: " + "; ".join(problems))
            previous = reply.out.model_dump_json()
        if repair is not None:
            reason = "LLM answer unusable after one repair: " + "; ".join(problems)
            return _fall_back(question, fallback, task, reason)
        repair = Repair(previous, problems)


def _answer(coach: Coach, reply: Reply[Out], reason: str = "") -> Answer[Out]:
    return Answer(reply.out, coach, reason[:MAX_REASON], dict(reply.practices))


def _reject(calls: list[CallRecord], error: str) -> None:
    """The coach answered, so its call says ok; the check said otherwise."""
    if calls:
        calls[-1].outcome, calls[-1].error = "invalid", error[:MAX_REASON]


def _fall_back(question: Question[Out], fallback: Coach, task: str, reason: str) -> Answer[Out]:
    log.warning("%s fell back to the %s coach: %s", task, fallback.name, reason)
    return _answer(fallback, question(fallback, None), reason)
