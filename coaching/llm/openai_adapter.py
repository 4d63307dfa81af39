"""The coach behind any OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp),
through the official SDK. Never touches the database: calls are reported as `CallRecord`s.

What each (base URL, model) accepts is learned while the process lives: COACH_LLM_MODE=auto tries
parse, json_schema, json_object, moving on only when the server says a format is unsupported, and
keeps the first that works; both token caps go out (`max_completion_tokens`, `max_tokens`: some
servers honour one only) until a server refuses one. Each step is a logged call and a log line."""

import json
import logging
import re
import threading
import time
from dataclasses import dataclass, replace
from typing import TypeVar
from urllib.parse import urlsplit

import openai
import pydantic
from pydantic import BaseModel

from . import prompts
from .base import (
    CallRecord,
    InvalidAnswer,
    ModuleDraftRequest,
    PermanentLLMError,
    PlanRequest,
    Repair,
    Reply,
    TransientLLMError,
    TruncatedAnswer,
    UnsupportedRequest,
)
from .openai_wire import PLAN_SHAPE, body, fence, fenced_plan_data, plan_messages, plan_schema
from .openai_wire import response_format as format_for
from .schemas import ModuleDraftOut, PlanOut

__all__ = ["OpenAICoach", "fenced_plan_data", "forget_servers", "list_models", "plan_schema"]

MODES = ("parse", "json_schema", "json_object")
AUTO = "auto"
TOKEN_FIELDS = ("max_completion_tokens", "max_tokens")
# Words of a refusal to handle a parameter or format, as servers word it (llama-cpp-python says
# it with a 500: "Input should be 'text' or 'json_object'"; OpenAI: "Unknown parameter", ...).
UNSUPPORTED = re.compile(
    r"response_format|schema|json_object|not supported|unsupported|unknown parameter"
    r"|unrecognized request argument|extra inputs are not permitted",
    re.IGNORECASE,
)
FORMAT_WORDS = ("response_format", "schema", "json_object")
# Statuses a server may refuse a parameter with; 502-504, 408 and 429 are outages whatever they say.
REFUSALS = {400, 404, 415, 422, 500, 501}
OUTAGES = {408, 429, 502, 503, 504}
Model = TypeVar("Model", bound=BaseModel)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Server:
    """What one (base URL, model) accepts, as far as this process has learned."""

    mode: str  # in auto mode, the response format to use
    token_fields: tuple[str, ...]


_servers: dict[tuple[str, str], Server] = {}
_servers_lock = threading.Lock()


def forget_servers() -> None:
    """Forget what every server accepts (tests; a server that was upgraded)."""
    with _servers_lock:
        _servers.clear()


class OpenAICoach:
    name = "openai"
    offline = False

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str,
        timeout: float,
        max_retries: int,
        mode: str,
        max_completion_tokens: int,
    ) -> None:
        if mode not in (*MODES, AUTO):
            raise ValueError(f"COACH_LLM_MODE must be one of {(*MODES, AUTO)}, not {mode!r}")
        self.client = openai.OpenAI(
            base_url=base_url or None,
            # Local servers (vLLM, Ollama) accept any key; the SDK insists on one.
            api_key=api_key or "unused",
            timeout=timeout,
            max_retries=max_retries,
        )
        self.model = model
        self.mode = mode
        self.max_completion_tokens = max_completion_tokens
        self.prompt_version = prompts.WEEKLY_PLAN
        self._server_key = (str(self.client.base_url), model)
        # OpenAI refuses both caps at once and honours max_completion_tokens: no need to ask it.
        official = urlsplit(str(self.client.base_url)).hostname == "api.openai.com"
        self._first = Server(MODES[0], TOKEN_FIELDS[:1] if official else TOKEN_FIELDS)

    def weekly_plan(
        self, request: PlanRequest, *, calls: list[CallRecord], repair: Repair | None = None
    ) -> Reply[PlanOut]:
        # Sent: the one schema every plan gets (a cacheable prefix); checked: this request's.
        messages, check = plan_messages(request), plan_schema(request)
        answer = self._complete(
            messages, PLAN_SHAPE, check, "weekly_plan", prompts.WEEKLY_PLAN, calls, repair
        )
        return Reply(PlanOut.model_validate(answer.model_dump()))  # the plain type, as everywhere

    def plan_body(self, request: PlanRequest) -> dict:
        """The body of the first call for this request, as it would go out now (the response
        format and token caps this server is known to take): a Batch API line's body."""
        server = self._server()
        mode = server.mode if self.mode == AUTO else self.mode
        response = format_for(PLAN_SHAPE, "weekly_plan", mode)
        return body(
            self.model,
            plan_messages(request),
            response,
            server.token_fields,
            self.max_completion_tokens,
        )

    def read_plan(self, record: CallRecord, payload: dict, request: PlanRequest) -> PlanOut:
        """A chat completion body answered for this request elsewhere (a Batch API output line),
        read and checked as a direct answer is; raises as `weekly_plan` does."""
        answer = self._read(record, payload, plan_schema(request))
        return PlanOut.model_validate(answer.model_dump())

    def draft_module(
        self, request: ModuleDraftRequest, *, calls: list[CallRecord], repair: Repair | None = None
    ) -> Reply[ModuleDraftOut]:
        data = {
            "category": request.category,
            "category_name": request.category_name,
            "minutes": request.minutes,
            "language": request.language,
            "objective": fence("trainer_objective", request.objective),
        }
        messages = [
            {"role": "system", "content": prompts.load(prompts.MODULE_DRAFT)},
            {"role": "user", "content": "DATA (JSON):\n" + json.dumps(data, indent=1)},
        ]
        draft = ModuleDraftOut
        return Reply(
            self._complete(
                messages, draft, draft, "module_draft", prompts.MODULE_DRAFT, calls, repair
            )
        )

    def _complete(
        self,
        messages: list[dict],
        sent: type[BaseModel],
        check: type[Model],
        name: str,
        prompt_version: str,
        calls: list[CallRecord],
        repair: Repair | None,
    ) -> Model:
        """Ask for `sent`'s shape, accept what `check` validates."""
        if repair is not None:
            # The rejected answer goes back with what was wrong with it, in the repair prompt.
            problems = "; ".join(repair.problems)
            messages = [
                *messages,
                {"role": "assistant", "content": repair.previous_answer or "(no usable answer)"},
                {"role": "user", "content": prompts.render(prompts.REPAIR, problems=problems)},
            ]
            prompt_version = f"{prompt_version}+{prompts.REPAIR}"
        while True:
            server = self._server()
            mode = server.mode if self.mode == AUTO else self.mode
            record = CallRecord(
                self.name, self.model, prompt_version, attempt=len(calls) + 1, mode=mode
            )
            calls.append(record)
            response = format_for(sent, name, mode)
            request = body(
                self.model, messages, response, server.token_fields, self.max_completion_tokens
            )
            try:
                return self._call(record, request, check)
            except UnsupportedRequest as exc:
                if not self._learn(exc, mode, server.token_fields):
                    raise

    def _call(self, record: CallRecord, request: dict, check: type[Model]) -> Model:
        started = time.perf_counter()
        try:
            # The raw response lets us log tokens and keep the text even when parsing fails,
            # and skips building the SDK's response objects: the answer is validated below.
            response = self.client.chat.completions.with_raw_response.create(**request)
            payload = json.loads(response.text)
        except openai.RateLimitError as exc:
            raise self._fail(record, "transient", exc, retry_after(exc.response)) from exc
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise self._fail(record, "transient", exc) from exc
        except openai.APIStatusError as exc:
            raise self._status_error(record, exc) from exc
        except ValueError as exc:  # the body is not JSON: a broken server or proxy
            raise self._fail(record, "invalid", f"unreadable response body: {exc}") from exc
        finally:
            record.latency_ms = round((time.perf_counter() - started) * 1000)
        return self._read(record, payload, check)

    def _read(self, record: CallRecord, payload: dict, schema: type[Model]) -> Model:
        usage = payload.get("usage") if isinstance(payload, dict) else None
        usage = usage if isinstance(usage, dict) else {}
        record.tokens_in = usage.get("prompt_tokens") or 0
        record.tokens_out = usage.get("completion_tokens") or 0
        record.cached_tokens = cached_tokens(usage)
        try:
            message = payload["choices"][0]["message"]
            content = message.get("content") or ""
            finish_reason = payload["choices"][0].get("finish_reason")
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise self._fail(record, "invalid", f"no answer in the response: {exc}") from exc
        if message.get("refusal"):
            raise self._fail(record, "invalid", f"refused: {message['refusal']}", raw=content)
        if finish_reason == "length":
            raise self._truncated(record, content)
        if finish_reason == "content_filter":
            raise self._fail(record, "invalid", "stopped by the content filter", raw=content)
        try:
            # Validate ourselves whatever the mode: servers that ignore the schema exist.
            return schema.model_validate_json(content)
        except pydantic.ValidationError as exc:
            problems = "; ".join(map(schema_problem, exc.errors()[:5]))
            raise self._fail(
                record, "invalid", f"off-schema answer: {problems}", raw=content
            ) from exc
        except ValueError as exc:
            raise self._fail(record, "invalid", f"unreadable answer: {exc}", raw=content) from exc

    def _server(self) -> Server:
        with _servers_lock:
            return _servers.get(self._server_key, self._first)

    def _learn(self, exc: UnsupportedRequest, mode: str, token_fields: tuple[str, ...]) -> bool:
        """Leave out a token cap the server refused or, in auto mode, move to the next response
        format; whether there is something else to try."""
        named = [f for f in token_fields if f in exc.detail]
        about_format = any(word in exc.detail.lower() for word in FORMAT_WORDS)
        with _servers_lock:
            known = _servers.get(self._server_key, self._first)
            if named and len(token_fields) > 1 and not about_format:
                # "Setting 'max_tokens' and 'max_completion_tokens' at the same time is not
                # supported" names both: keep the current one.
                dropped = "max_tokens" if len(named) > 1 else named[0]
                kept = tuple(f for f in known.token_fields if f != dropped) or known.token_fields
                known = replace(known, token_fields=kept)
                change = f"leaves out {dropped}"
            elif self.mode == AUTO and mode != MODES[-1]:
                later = max(MODES.index(mode) + 1, MODES.index(known.mode))
                known = replace(known, mode=MODES[later])
                change = f"COACH_LLM_MODE=auto moves on to {known.mode}"
            else:
                return False
            _servers[self._server_key] = known
        log.info("LLM server %s, model %s: %s (%s)", *self._server_key, change, exc.detail)
        now = known.mode if self.mode == AUTO else self.mode
        return (now, known.token_fields) != (mode, token_fields)

    def _status_error(self, record: CallRecord, exc: openai.APIStatusError) -> Exception:
        """A transient error for an outage; an `UnsupportedRequest` when the server says it does
        not support what was asked (whatever the status: llama-cpp-python says it with a 500);
        a permanent error for any other refusal (bad key, unknown model, bad request)."""
        status, detail = exc.status_code, error_detail(exc)
        if status in OUTAGES:
            return self._fail(record, "transient", exc, retry_after(exc.response))
        if status in REFUSALS and UNSUPPORTED.search(detail):
            last = self.mode == AUTO and record.mode == MODES[-1]
            tried = f" (auto tried {', '.join(MODES)})" if last else ""
            record.outcome = "error"
            record.error = (
                f"the server does not support COACH_LLM_MODE={record.mode}{tried}: {detail}"
            )[:2000]
            return UnsupportedRequest(record.error, detail)
        if status >= 500:
            return self._fail(record, "transient", exc, retry_after(exc.response))
        return self._fail(record, "error", exc)

    def _truncated(self, record: CallRecord, content: str) -> TruncatedAnswer:
        """Where the answer stopped says why: at the cap asked for, well past it (the server
        ignored it), or well short of it (the server's context is full)."""
        cap, used = self.max_completion_tokens, record.tokens_out
        where = f"cut off after {used} tokens"
        if used > cap * 1.1:
            text = (
                f"{where}, past the {cap} asked for: the server ignored the cap, ran out of context"
            )
        elif 0 < used < cap * 0.9:
            text = f"{where}, short of the {cap} asked for: the server's context is full"
        else:
            text = f"cut off at the token limit ({cap} tokens); raise COACH_MAX_COMPLETION_TOKENS"
        record.outcome, record.error = "invalid", f"truncated: {text}"
        return TruncatedAnswer(text, raw=content, limit=cap)

    @staticmethod
    def _fail(record: CallRecord, outcome: str, error, retry: float | None = None, raw: str = ""):
        record.outcome = outcome
        record.error = str(error)[:2000]
        if outcome == "transient":
            return TransientLLMError(record.error, retry_after=retry)
        if outcome == "invalid":
            return InvalidAnswer(record.error, raw=raw)
        return PermanentLLMError(record.error)


def cached_tokens(usage: dict) -> int:
    """Prompt tokens the provider served from its prompt cache (`usage.prompt_tokens_details.
    cached_tokens`; 0 when the server does not say)."""
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    return cached if isinstance(cached, int) and cached > 0 else 0


def schema_problem(error) -> str:
    """One validation error as the repair prompt shows it: "tips.0.category: Input should be 'a'
    or 'b', got 'c'" (the answer's value only for a choice outside the enum)."""
    where = ".".join(map(str, error["loc"])) or "answer"
    got = f", got {error['input']!r}" if error["type"] == "literal_error" else ""
    return f"{where}: {error['msg']}{got}"


def error_detail(exc: openai.APIStatusError, most: int = 300) -> str:
    """The server's own words for an error status (and the parameter it names), shortened."""
    body = exc.body
    if isinstance(body, dict):
        text = body.get("message") or body.get("detail") or body.get("error") or json.dumps(body)
        param = body.get("param")
        if isinstance(param, str) and param not in str(text):
            text = f"{text} (param: {param})"
    else:
        text = body if isinstance(body, str) and body else exc.message
    text = " ".join(str(text).split())
    return text if len(text) <= most else text[: most - 3] + "..."


def retry_after(response) -> float | None:
    """Seconds from a Retry-After header (or OpenAI's retry-after-ms), if the server sent one."""
    if response is None:
        return None
    headers = response.headers
    try:
        if "retry-after-ms" in headers:
            return float(headers["retry-after-ms"]) / 1000
        if "retry-after" in headers:
            return float(headers["retry-after"])
    except ValueError:
        return None
    return None


def list_models(*, base_url: str, api_key: str, timeout: float) -> set[str]:
    """The ids the server lists at /models (the health check's probe)."""
    client = openai.OpenAI(base_url=base_url or None, api_key=api_key or "-", timeout=timeout)
    return {model.id for model in client.with_options(max_retries=0).models.list()}
