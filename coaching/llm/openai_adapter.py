"""The coach behind any OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp),
through the official SDK. Never touches the database: calls are reported as `CallRecord`s."""

import json
import time
from typing import TypeVar

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
)
from .schemas import ModuleDraftOut, PlanOut

MODES = ("parse", "json_schema", "json_object")
Model = TypeVar("Model", bound=BaseModel)


def fenced_plan_data(request: PlanRequest) -> str:
    """The request as JSON, with each goal's free text fenced and labelled as data."""
    data = request.data()
    data.pop("recent_practices")
    for goal in data["goals"]:
        intent = goal.pop("intent").replace("</manager_goal>", "")
        goal["intent"] = f"<manager_goal>{intent}</manager_goal>"
    return "DATA (JSON):\n" + json.dumps(data, indent=1)


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
        if mode not in MODES:
            raise ValueError(f"COACH_LLM_MODE must be one of {MODES}, not {mode!r}")
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

    def weekly_plan(
        self, request: PlanRequest, *, calls: list[CallRecord], repair: Repair | None = None
    ) -> Reply[PlanOut]:
        messages = [
            # The stable instructions come first so providers can cache the prefix.
            {"role": "system", "content": prompts.load(prompts.WEEKLY_PLAN)},
            {"role": "user", "content": fenced_plan_data(request)},
        ]
        return Reply(
            self._complete(messages, PlanOut, "weekly_plan", prompts.WEEKLY_PLAN, calls, repair)
        )

    def draft_module(
        self, request: ModuleDraftRequest, *, calls: list[CallRecord], repair: Repair | None = None
    ) -> Reply[ModuleDraftOut]:
        objective = request.objective.replace("</trainer_objective>", "")
        data = {
            "category": request.category,
            "category_name": request.category_name,
            "minutes": request.minutes,
            "objective": f"<trainer_objective>{objective}</trainer_objective>",
        }
        messages = [
            {"role": "system", "content": prompts.load(prompts.MODULE_DRAFT)},
            {"role": "user", "content": "DATA (JSON):\n" + json.dumps(data, indent=1)},
        ]
        return Reply(
            self._complete(
                messages, ModuleDraftOut, "module_draft", prompts.MODULE_DRAFT, calls, repair
            )
        )

    def _complete(
        self,
        messages: list[dict],
        schema: type[Model],
        name: str,
        prompt_version: str,
        calls: list[CallRecord],
        repair: Repair | None,
    ) -> Model:
        if repair is not None:
            # The rejected answer goes back with what was wrong with it, in the repair prompt.
            problems = "; ".join(repair.problems)
            messages = [
                *messages,
                {"role": "assistant", "content": repair.previous_answer or "(no usable answer)"},
                {"role": "user", "content": prompts.render(prompts.REPAIR, problems=problems)},
            ]
            prompt_version = f"{prompt_version}+{prompts.REPAIR}"
        record = CallRecord(self.name, self.model, prompt_version, attempt=len(calls) + 1)
        calls.append(record)
        started = time.perf_counter()
        try:
            # The raw response lets us log tokens and keep the text even when parsing fails.
            response = self._request(messages, schema, name)
            body = json.loads(response.text)
        except openai.RateLimitError as exc:
            raise self._fail(record, "transient", exc, retry_after(exc.response)) from exc
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise self._fail(record, "transient", exc) from exc
        except openai.APIStatusError as exc:
            outcome = "transient" if exc.status_code >= 500 or exc.status_code == 408 else "error"
            raise self._fail(record, outcome, exc, retry_after(exc.response)) from exc
        except ValueError as exc:  # the body is not JSON: a broken server or proxy
            raise self._fail(record, "invalid", f"unreadable response body: {exc}") from exc
        finally:
            record.latency_ms = round((time.perf_counter() - started) * 1000)

        usage = body.get("usage") or {}
        record.tokens_in = usage.get("prompt_tokens") or 0
        record.tokens_out = usage.get("completion_tokens") or 0
        try:
            message = body["choices"][0]["message"]
            content = message.get("content") or ""
            finish_reason = body["choices"][0].get("finish_reason")
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise self._fail(record, "invalid", f"no answer in the response: {exc}") from exc
        if message.get("refusal"):
            raise self._fail(record, "invalid", f"refused: {message['refusal']}", raw=content)
        if finish_reason == "length":
            raise self._fail(
                record, "invalid", "truncated: the answer hit the token limit", raw=content
            )
        if finish_reason == "content_filter":
            raise self._fail(record, "invalid", "stopped by the content filter", raw=content)
        try:
            if self.mode == "parse":
                response.parse()  # the SDK's own structured-output check
            # Validate ourselves whatever the mode: servers that ignore the schema exist.
            return schema.model_validate_json(content)
        except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as exc:
            raise self._fail(record, "invalid", f"unusable answer: {exc}", raw=content) from exc
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors()[:5]
            )
            raise self._fail(
                record, "invalid", f"off-schema answer: {problems}", raw=content
            ) from exc
        except ValueError as exc:
            raise self._fail(record, "invalid", f"unreadable answer: {exc}", raw=content) from exc

    def _request(self, messages: list[dict], schema: type[BaseModel], name: str):
        common = {
            "model": self.model,
            "messages": messages,
            "max_completion_tokens": self.max_completion_tokens,
        }
        completions = self.client.chat.completions.with_raw_response
        if self.mode == "parse":
            return completions.parse(response_format=schema, **common)
        if self.mode == "json_schema":
            response_format = {
                "type": "json_schema",
                "json_schema": {
                    "name": name,
                    "schema": schema.model_json_schema(),
                    "strict": False,
                },
            }
        else:
            response_format = {"type": "json_object"}
        return completions.create(response_format=response_format, **common)

    @staticmethod
    def _fail(record: CallRecord, outcome: str, error, retry: float | None = None, raw: str = ""):
        record.outcome = outcome
        record.error = str(error)[:2000]
        if outcome == "transient":
            return TransientLLMError(record.error, retry_after=retry)
        if outcome == "invalid":
            return InvalidAnswer(record.error, raw=raw)
        return PermanentLLMError(record.error)


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
