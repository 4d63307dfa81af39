"""What goes over the wire for a weekly plan, built once where it can be: the messages, the
response format and the whole request body (also one line of a Batch API file).

Providers cache a prompt's prefix (OpenAI: 1,024 tokens and more, the response schema first, then
the messages). So everything that is the same for every plan comes first and is byte-identical
across plans: the response schema (`PLAN_SHAPE`: the plan with grounding's limits, the same for
every request), then the system prompt; the store's data is the last message. What a particular
request allows (its focus categories as enums, its offered modules, one tip per category) is
checked on every answer with `plan_schema(request)`, in every mode, as before."""

import json
from functools import cache

from . import prompts
from .base import PlanRequest
from .schemas import PlanOut, narrow_plan, plan_shape, strict_compatible
from .text_checks import MAX_STEP, MAX_TITLE, MAX_WHY, STEPS, unfence

LIMITS = (MAX_TITLE, MAX_WHY, MAX_STEP, STEPS)
# The response schema every weekly plan is asked for: the same bytes for every store.
PLAN_SHAPE = plan_shape(limits=LIMITS)
DATA_PREFIX = "DATA (JSON):\n"


def fence(tag: str, text: str) -> str:
    """The text inside `<tag>`, without any fence tag of its own in any case or spacing."""
    return f"<{tag}>{unfence(text)}</{tag}>"


def fenced_plan_data(request: PlanRequest) -> str:
    """The request as JSON, with what people wrote fenced as data: goals and module titles and
    summaries. Category names and focus reasons (ours, quoted in tips) only lose fence tags."""
    data = request.data()
    data.pop("recent_practices")
    for goal in data["goals"]:
        goal["intent"] = fence("manager_goal", goal.pop("intent"))  # last, as before
    for module in data["modules"]:
        module["title"] = fence("module_text", module["title"])
        module["summary"] = fence("module_text", module["summary"])
    for item in data["focus"]:
        item["name"], item["reason"] = unfence(item["name"]), unfence(item["reason"])
    data["customer_comments"] = [fence("customer_comment", c) for c in data["customer_comments"]]
    return DATA_PREFIX + json.dumps(data, indent=1)


def plan_messages(request: PlanRequest) -> list[dict]:
    """The stable instructions first, the store's data last."""
    return [
        {"role": "system", "content": prompts.load(prompts.WEEKLY_PLAN)},
        {"role": "user", "content": fenced_plan_data(request)},
    ]


def plan_schema(request: PlanRequest) -> type[PlanOut]:
    """The weekly plan this request allows (`schemas.narrow_plan`) with grounding's limits:
    checked on every answer, whatever the server made of the schema it was sent."""
    return narrow_plan(
        tuple(item.category for item in request.focus),
        tuple(m.slug for m in request.modules),
        limits=LIMITS,
    )


@cache
def response_format(schema: type, name: str, mode: str) -> dict:
    """The `response_format` for a mode, built once per schema: `parse` as the SDK's structured
    outputs put it on the wire (its strict JSON schema, named after the model), `json_schema` the
    model's own JSON schema, `json_object` none."""
    if mode == "parse":
        from openai.lib._parsing._completions import type_to_response_format_param

        return type_to_response_format_param(schema)
    if mode == "json_schema":
        json_schema = schema.model_json_schema()
        strict = strict_compatible(json_schema)
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": json_schema, "strict": strict},
        }
    return {"type": "json_object"}


def body(
    model: str,
    messages: list[dict],
    response: dict,
    token_fields: tuple[str, ...],
    max_completion_tokens: int,
) -> dict:
    """A chat completion request body, as sent and as a Batch API line's `body`."""
    return {
        "model": model,
        "messages": messages,
        "response_format": response,
        **dict.fromkeys(token_fields, max_completion_tokens),
    }
