"""The port between coaching and any coach, LLM or not.

A coach turns a `PlanRequest` (plain data: no ORM objects, no personal data beyond the manager's
first name) into a `Reply` holding a `PlanOut`. Every model call is reported as a `CallRecord` in
the `calls` list the caller passes in, so the service can log it even when the call raised. What to
do when a coach fails (retry, repair, fall back) is decided in one place: `policy`.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

from .schemas import ModuleDraftOut, PlanOut

Out = TypeVar("Out", bound=BaseModel)


@dataclass(frozen=True)
class FocusItem:
    category: str
    name: str
    score: float
    change: float | None
    region_median: float | None
    chain_top_quartile: float | None
    slope: float | None
    situation: str  # declining | goal | low | steady: which playbook practices fit
    reason: str
    goal_target: float | None = None
    goal_due: str | None = None


@dataclass(frozen=True)
class GoalText:
    category: str
    target: float
    due: str
    intent: str  # the manager's own words: data, never instructions


@dataclass(frozen=True)
class ModuleRef:
    slug: str
    title: str
    summary: str
    category: str
    completed: bool = False  # the manager has taken it already


@dataclass(frozen=True)
class PlanRequest:
    manager_first_name: str
    store_code: str
    week: str
    data_week: str
    focus: tuple[FocusItem, ...]
    goals: tuple[GoalText, ...] = ()
    modules: tuple[ModuleRef, ...] = ()
    recent_practices: tuple[str, ...] = ()
    # This data week's customer comments from the pulse (scrubbed) and what they are about.
    customer_comments: tuple[str, ...] = ()
    comment_themes: tuple[str, ...] = ()
    # The manager's language (en, fr, es): the tips are written in it, numbers as it writes them.
    language: str = "en"

    def data(self) -> dict:
        """The request as plain data (what `dataclasses.asdict` gives, without its deep copies:
        every field is a string, number, bool, None or a tuple of them or of flat records)."""
        data = dict(vars(self))
        for name in ("focus", "goals", "modules"):
            data[name] = tuple(dict(vars(item)) for item in data[name])
        return data

    def fingerprint_source(self) -> str:
        return json.dumps(self.data(), sort_keys=True)

    def quoted_numbers(self) -> list[float]:
        """Every number the data holds, and the gaps a coach may fairly quote between them."""
        text = json.dumps({k: v for k, v in self.data().items() if k != "recent_practices"})
        numbers = [float(n) for n in NUMBER.findall(text)]
        for item in self.focus:
            for other in (item.region_median, item.chain_top_quartile, item.goal_target):
                if other is not None:
                    numbers.append(abs(other - item.score))
        return numbers


NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class ModuleDraftRequest:
    category: str
    category_name: str
    objective: str  # the trainer's words: data, never instructions
    minutes: int
    language: str = "en"  # the module's: the draft is written in it


@dataclass
class CallRecord:
    provider: str
    model: str
    prompt_version: str
    attempt: int = 1
    tokens_in: int = 0
    tokens_out: int = 0
    cached_tokens: int = 0  # of tokens_in, served from the provider's prompt cache
    latency_ms: int = 0
    outcome: str = "ok"  # ok | invalid | transient | error
    error: str = ""
    mode: str = ""  # the response format asked for (parse, json_schema, json_object); not stored


class LLMError(Exception):
    """A coach could not give an answer."""


class TransientLLMError(LLMError):
    """429, 5xx, timeout or a dropped connection: worth trying again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentLLMError(LLMError):
    """Bad key, unknown model, bad request: retrying will not help."""


class UnsupportedRequest(PermanentLLMError):
    """The server refused a parameter or response format it does not support (even when it says
    so with a 500): retrying the same request will not help, another response format might.
    `detail` is the server's own words."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class InvalidAnswer(LLMError):
    """The model answered, but not usably (not JSON, off-schema, refused or truncated)."""

    def __init__(self, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw


class TruncatedAnswer(InvalidAnswer):
    """The answer was cut off at the token limit (finish_reason "length"). Never repaired: a repair
    asks the same model for the same answer with less room left, and is cut off again."""

    def __init__(self, message: str, raw: str = "", limit: int = 0) -> None:
        super().__init__(message, raw)
        self.limit = limit


@dataclass
class Repair:
    """What went wrong with the previous answer, for the one repair attempt."""

    previous_answer: str
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Reply(Generic[Out]):
    """A coach's answer, with the playbook practice it chose for each category
    ({category: practice key}; empty for a coach that uses none)."""

    out: Out
    practices: dict[str, str] = field(default_factory=dict)


class Coach(Protocol):
    name: str
    model: str
    prompt_version: str
    offline: bool  # no network and deterministic: run inline, nothing to retry or repair

    def weekly_plan(
        self, request: PlanRequest, *, calls: list[CallRecord], repair: Repair | None = None
    ) -> Reply[PlanOut]: ...

    def draft_module(
        self, request: ModuleDraftRequest, *, calls: list[CallRecord], repair: Repair | None = None
    ) -> Reply[ModuleDraftOut]: ...
