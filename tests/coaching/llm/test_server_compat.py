"""What real OpenAI-compatible servers were seen doing, reproduced by the fake server, through
generate_plans: both token caps go out (some servers honour only one); an answer cut off at the
token limit falls back at once, never sent back for repair; a server that says it does not support
a parameter or response format (even with a 500) is not retried, and COACH_LLM_MODE=auto moves
on to the next format and remembers the one that works; a real outage is still retried."""

import pytest

from coaching.llm import get_coach
from coaching.llm.base import ModuleDraftRequest
from coaching.llm.openai_adapter import OpenAICoach
from tests.fakes.openai_server import (
    BOTH_CAPS_REFUSED,
    error,
    ok,
    openai_token_rule,
    runaway,
    slow,
    token_caps,
    truncated,
    unsupported_formats,
)

from .helpers import (
    assert_fallback,
    assert_ready,
    call_log,
    generate,
    good_answer,
    spoiled,
    the_plan,
)

pytestmark = pytest.mark.django_db

LLAMA_CPP_PYTHON = "Input should be 'text' or 'json_object'"
CAP = 1500


def formats(server) -> list[str]:
    """The response_format type of each request, with the schema's name for json_schema."""
    out = []
    for body in server.requests:
        response_format = body.get("response_format") or {}
        kind = response_format.get("type", "text")
        out.append(
            f"{kind}:{response_format['json_schema']['name']}"
            if "json_schema" in response_format
            else kind
        )
    return out


# --- token caps -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["parse", "json_schema", "json_object", "auto"])
def test_both_token_caps_are_sent_with_the_same_value(chain, llm, settings, mode):
    settings.COACH_LLM_MODE = mode
    settings.COACH_MAX_COMPLETION_TOKENS = 900

    generate(chain)

    assert_ready(the_plan(chain))
    assert [token_caps(body) for body in llm.requests] == [
        {"max_completion_tokens": 900, "max_tokens": 900}
    ]


def test_a_server_refusing_both_caps_gets_one_from_then_on(chain, llm):
    llm.default = openai_token_rule(then=ok(good_answer))

    generate(chain)
    generate(chain, force=True)

    plan = the_plan(chain)
    assert_ready(plan)
    assert [token_caps(body) for body in llm.requests] == [
        {"max_completion_tokens": CAP, "max_tokens": CAP},
        {"max_completion_tokens": CAP},
        {"max_completion_tokens": CAP},
    ]
    first, *_ = plan.llm_calls.order_by("id")
    assert call_log(plan) == [("openai", "error"), ("openai", "ok"), ("openai", "ok")]
    assert BOTH_CAPS_REFUSED in first.error


def test_openai_itself_is_sent_max_completion_tokens_only():
    coach = OpenAICoach(
        base_url="",
        api_key="k",
        model="gpt-4o-mini",
        timeout=1.0,
        max_retries=0,
        mode="auto",
        max_completion_tokens=CAP,
    )

    assert coach._first.token_fields == ("max_completion_tokens",)
    assert coach._first.mode == "parse"


# --- answers cut off at the token limit -------------------------------------------------------


def test_an_answer_past_the_cap_says_the_server_ignored_it(chain, llm):
    llm.default = runaway(good_answer, tokens=4096)

    result = generate(chain)

    assert dict(result.counts) == {"fallback": 1}
    plan = the_plan(chain)
    assert_fallback(plan, "cut off after 4096 tokens, past the 1500 asked for: the server ignored")
    assert call_log(plan) == [("openai", "invalid"), ("playbook", "ok")]
    assert llm.request_count == 1, "not sent back for repair, not asked again"


def test_an_answer_cut_short_of_the_cap_says_the_context_is_full(chain, llm):
    llm.default = runaway(good_answer, tokens=600)

    generate(chain)

    assert_fallback(the_plan(chain), "cut off after 600 tokens, short of the 1500 asked for")
    assert llm.request_count == 1


def test_a_repair_cut_off_falls_back_at_once(chain, llm):
    llm.enqueue(ok(spoiled(module_slug="made-up")), truncated(good_answer))

    generate(chain)

    plan = the_plan(chain)
    assert_fallback(plan, "LLM answer cut off at the token limit (1500 tokens)")
    assert call_log(plan) == [("openai", "invalid")] * 2 + [("playbook", "ok")]
    assert llm.request_count == 2


# --- unsupported requests are not outages -----------------------------------------------------


@pytest.mark.parametrize("mode", ["parse", "json_schema"])
def test_a_500_naming_an_unsupported_format_is_not_retried(chain, llm, settings, mode):
    settings.COACH_LLM_ATTEMPTS = 3
    llm.default = unsupported_formats({"json_schema"}, then=ok(good_answer))
    settings.COACH_LLM_MODE = mode

    result = generate(chain)

    assert dict(result.counts) == {"fallback": 1}
    plan = the_plan(chain)
    assert_fallback(plan, f"the server does not support COACH_LLM_MODE={mode}: ", LLAMA_CPP_PYTHON)
    assert call_log(plan) == [("openai", "error"), ("playbook", "ok")]
    assert llm.request_count == 1


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "Unknown parameter: 'response_format.json_schema.strict'."),
        (422, "[{'type': 'extra_forbidden', 'msg': 'Extra inputs are not permitted'}]"),
        (500, "json_schema is not supported by this backend"),
        (400, "Invalid schema for response_format 'PlanOut': 'maxLength' is not permitted."),
    ],
)
def test_any_refusal_of_a_parameter_is_an_unsupported_request(chain, llm, status, message):
    llm.default = error(status, message)

    generate(chain)

    plan = the_plan(chain)
    assert_fallback(plan, "the server does not support COACH_LLM_MODE=parse: ", message)
    assert llm.request_count == 1


@pytest.mark.parametrize(
    "outage",
    [error(500), error(503, "response_format workers busy"), error(502, "not supported")],
    ids=["500", "503-naming-a-format", "502"],
)
def test_a_real_outage_is_still_retried(chain, llm, settings, outage):
    settings.COACH_LLM_MODE = "auto"
    settings.COACH_LLM_ATTEMPTS = 3
    llm.default = outage

    generate(chain)

    plan = the_plan(chain)
    assert_fallback(plan, "LLM unavailable after 3 attempts")
    assert call_log(plan) == [("openai", "transient")] * 3 + [("playbook", "ok")]
    assert formats(llm) == ["json_schema:PlanOut"] * 3, "an outage never moves auto along"


def test_a_timeout_in_auto_mode_is_retried_in_the_same_mode(chain, llm, settings):
    settings.COACH_LLM_MODE = "auto"
    settings.OPENAI_TIMEOUT = 0.3
    llm.enqueue(slow(3.0, ok(good_answer)))

    generate(chain)

    assert_ready(the_plan(chain))
    assert formats(llm) == ["json_schema:PlanOut"] * 2


# --- COACH_LLM_MODE=auto ----------------------------------------------------------------------


def test_auto_moves_down_to_json_object_and_remembers_it(chain, llm, settings):
    settings.COACH_LLM_MODE = "auto"
    llm.default = unsupported_formats({"json_schema"}, then=ok(good_answer))

    result = generate(chain)

    assert dict(result.counts) == {"created": 1}
    plan = the_plan(chain)
    assert_ready(plan)
    assert formats(llm) == ["json_schema:PlanOut", "json_schema:weekly_plan", "json_object"]
    assert call_log(plan) == [("openai", "error"), ("openai", "error"), ("openai", "ok")]
    first, second, _ = plan.llm_calls.order_by("id")
    assert first.error.startswith("the server does not support COACH_LLM_MODE=parse: ")
    assert second.error.startswith("the server does not support COACH_LLM_MODE=json_schema: ")

    generate(chain, force=True)

    assert_ready(the_plan(chain))
    assert llm.request_count == 4, "the second plan goes straight to json_object"
    assert formats(llm)[3] == "json_object"


def test_auto_on_a_server_that_takes_parse_asks_once(chain, llm, settings):
    settings.COACH_LLM_MODE = "auto"

    generate(chain)

    assert_ready(the_plan(chain))
    assert formats(llm) == ["json_schema:PlanOut"]


def test_auto_on_a_server_that_takes_no_format_falls_back_saying_so(chain, llm, settings):
    settings.COACH_LLM_MODE = "auto"
    llm.default = unsupported_formats({"json_schema", "json_object"}, then=ok(good_answer))

    generate(chain)

    plan = the_plan(chain)
    assert_fallback(
        plan,
        "the server does not support COACH_LLM_MODE=json_object "
        "(auto tried parse, json_schema, json_object): ",
    )
    assert llm.request_count == 3

    generate(chain, force=True)
    assert llm.request_count == 4, "no probing again: json_object, refused, fall back"


def test_auto_learns_for_module_drafts_too(llm, settings):
    settings.COACH_LLM_MODE = "auto"
    draft = (
        '{"title": "t", "summary": "s", "sections": [], "practice_steps": [],'
        ' "quiz": [{"question": "q", "choices": ["a", "b"], "answer": 0, "explanation": "e"}]}'
    )
    llm.default = unsupported_formats({"json_schema"}, then=ok(draft))
    coach = get_coach()
    calls = []

    reply = coach.draft_module(
        ModuleDraftRequest("team_retention", "Team", "Keep people.", 20), calls=calls
    )

    assert reply.out.title == "t"
    assert [(c.outcome, c.mode) for c in calls] == [
        ("error", "parse"),
        ("error", "json_schema"),
        ("ok", "json_object"),
    ]
    get_coach().draft_module(ModuleDraftRequest("team_retention", "Team", "Keep.", 20), calls=calls)
    assert formats(llm)[3:] == ["json_object"]


def test_an_unknown_mode_is_refused_naming_auto(settings, llm):
    settings.COACH_LLM_MODE = "grammar"

    with pytest.raises(ValueError, match="auto"):
        get_coach()
