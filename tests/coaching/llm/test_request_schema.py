"""Each weekly plan's answer is checked with a schema made for its request: the focus categories
and the offered modules as enums, exactly one tip per focus category, 2-4 steps and grounding's
length limits, in every mode, so a server that ignores the schema (json_object, or a json_schema
it does not enforce) gains nothing; callers still get the plain `PlanOut`. What is sent is the one
schema every plan gets (grounding's limits, any category), so that the schema and the system
prompt form a prefix the provider can cache; the store's data comes last."""

import json

import pytest

from coaching.llm import prompts
from coaching.llm.base import FocusItem, InvalidAnswer, ModuleRef, PlanRequest
from coaching.llm.grounding import MAX_STEP, MAX_TITLE, MAX_WHY, STEPS
from coaching.llm.openai_adapter import OpenAICoach, plan_schema
from coaching.llm.schemas import MOST_TIPS, PlanOut, TipOut, strict_compatible
from tests.fakes.openai_server import FakeOpenAIServer, ok, response_schema

from .helpers import STEPS as GOOD_STEPS
from .helpers import fake_coach, good_answer, spoiled

FOCUS = ("customer_advocacy", "team_retention")
MODULES = (("reviews-101", "customer_advocacy"), ("stay-interviews", "team_retention"))


def plan_request(focus=FOCUS, modules=MODULES) -> PlanRequest:
    return PlanRequest(
        manager_first_name="Alex",
        store_code="T0001",
        week="2026-W48",
        data_week="2026-W47",
        focus=tuple(
            FocusItem(code, code.replace("_", " "), 61.4, -3.0, 70.0, 75.0, -0.5, "low", "Low.")
            for code in focus
        ),
        modules=tuple(ModuleRef(slug, slug, "A module.", category) for slug, category in modules),
    )


def tip_schema(schema: dict) -> dict:
    return schema["$defs"]["TipOut"]["properties"]


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        srv.default = ok(good_answer)
        yield srv


def coach_for(server: FakeOpenAIServer, mode: str) -> OpenAICoach:
    return fake_coach(server, mode=mode, max_completion_tokens=700)


# --- the schema -------------------------------------------------------------------------------


def test_the_schema_carries_the_requests_categories_modules_and_counts():
    schema = plan_schema(plan_request()).model_json_schema()

    tips = schema["properties"]["tips"]
    assert (tips["minItems"], tips["maxItems"]) == (2, 2)
    tip = tip_schema(schema)
    assert tip["category"]["enum"] == list(FOCUS)
    assert tip["module_slug"]["anyOf"] == [
        {"enum": ["reviews-101", "stay-interviews"], "type": "string"},
        {"type": "null"},
    ]
    assert (tip["steps"]["minItems"], tip["steps"]["maxItems"]) == STEPS
    # The limits are grounding's own constants, not copies of them.
    assert tip["title"]["maxLength"] == MAX_TITLE
    assert tip["why"]["maxLength"] == MAX_WHY
    assert tip["steps"]["items"]["maxLength"] == MAX_STEP
    assert all(tip[f]["minLength"] == 1 for f in ("title", "why"))
    assert strict_compatible(schema)


def test_the_schema_follows_the_request():
    one = plan_schema(plan_request(focus=("brand_loyalty",), modules=()))
    schema = one.model_json_schema()

    assert schema["properties"]["tips"]["minItems"] == schema["properties"]["tips"]["maxItems"] == 1
    assert tip_schema(schema)["category"]["enum"] == ["brand_loyalty"]
    assert tip_schema(schema)["module_slug"]["type"] == "null", "no module offered: null only"
    assert plan_schema(plan_request()) is plan_schema(plan_request()), "built once per shape"
    assert issubclass(one, PlanOut)


def test_strict_compatible_wants_every_property_required_and_no_others():
    assert strict_compatible(PlanOut.model_json_schema())
    loose = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    assert not strict_compatible(loose)
    assert not strict_compatible({**loose, "additionalProperties": False, "required": []})
    assert strict_compatible({**loose, "additionalProperties": False})


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"category": "brand_loyalty"}, "tips.0.category: Input should be"),
        ({"module_slug": "made-up"}, "tips.0.module_slug: Input should be"),
        ({"title": "T" * (MAX_TITLE + 1)}, f"tips.0.title: String should have at most {MAX_TITLE}"),
        ({"why": "W" * (MAX_WHY + 1)}, f"tips.0.why: String should have at most {MAX_WHY}"),
        ({"steps": ["S" * (MAX_STEP + 1), "ok"]}, "tips.0.steps.0: String should have at most"),
        ({"steps": ["one step only"]}, f"tips.0.steps: List should have at least {STEPS[0]}"),
        ({"steps": GOOD_STEPS * 2}, f"tips.0.steps: List should have at most {STEPS[1]}"),
        ({"title": ""}, "tips.0.title: String should have at least 1 character"),
    ],
)
def test_an_answer_off_the_requests_schema_is_rejected_even_in_json_object_mode(
    server, change, problem
):
    server.default = ok(spoiled(**change))

    with pytest.raises(InvalidAnswer, match=r"^off-schema answer: ") as excinfo:
        coach_for(server, "json_object").weekly_plan(plan_request(), calls=[])

    assert problem in str(excinfo.value)
    assert server.requests[0]["response_format"] == {"type": "json_object"}


def test_too_many_or_too_few_tips_are_rejected(server):
    def extra(body):
        answer = good_answer(body)
        return {"tips": answer["tips"] * 2}

    server.enqueue(ok(extra), ok(lambda body: {"tips": good_answer(body)["tips"][:1]}))
    coach = coach_for(server, "json_object")

    with pytest.raises(InvalidAnswer, match=r"tips: List should have at most 2 items"):
        coach.weekly_plan(plan_request(), calls=[])
    with pytest.raises(InvalidAnswer, match="tips: List should have at least 2 items"):
        coach.weekly_plan(plan_request(), calls=[])


# --- what goes out, what comes back -----------------------------------------------------------


@pytest.mark.parametrize("mode", ["parse", "json_schema"])
def test_each_schema_mode_sends_the_one_plan_schema_and_checks_the_requests(server, mode):
    calls = []

    reply = coach_for(server, mode).weekly_plan(plan_request(), calls=calls)

    [body] = server.requests
    schema = response_schema(body)
    assert body["response_format"]["json_schema"]["strict"] is True
    assert tip_schema(schema)["category"] == {"title": "Category", "type": "string"}
    assert (schema["properties"]["tips"]["minItems"], schema["properties"]["tips"]["maxItems"]) == (
        1,
        MOST_TIPS,
    )
    assert tip_schema(schema)["title"]["maxLength"] == MAX_TITLE
    assert tip_schema(schema)["steps"]["minItems"] == STEPS[0]
    # The rest of the code receives the plain types, not the per-request subclasses.
    assert type(reply.out) is PlanOut
    assert {type(tip) for tip in reply.out.tips} == {TipOut}
    assert [tip.category for tip in reply.out.tips] == list(FOCUS)
    assert [(c.outcome, c.mode) for c in calls] == [("ok", mode)]


@pytest.mark.parametrize("mode", ["parse", "json_schema", "json_object"])
def test_the_stable_part_of_every_plans_prompt_comes_first_and_is_the_same(server, mode):
    coach = coach_for(server, mode)
    other = plan_request(focus=("brand_loyalty",), modules=(("loyalty-101", "brand_loyalty"),))

    coach.weekly_plan(plan_request(), calls=[])
    coach.weekly_plan(other, calls=[])

    first, second = server.requests
    assert first["response_format"] == second["response_format"]
    assert (
        first["messages"][0]
        == second["messages"][0]
        == {
            "role": "system",
            "content": prompts.load(prompts.WEEKLY_PLAN),
        }
    )
    # The store's data is the last message, and the only one that differs.
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert first["messages"][-1] != second["messages"][-1]
    assert first["messages"][-1]["content"].startswith("DATA (JSON):\n")
    # What goes out is what a Batch API line carries.
    assert coach.plan_body(plan_request()) == {k: first[k] for k in coach.plan_body(other)}


def test_a_category_outside_the_requests_focus_is_rejected_though_the_sent_schema_allows_it(
    server,
):
    server.default = ok(spoiled(category="brand_loyalty"))

    with pytest.raises(InvalidAnswer, match=r"tips\.0\.category: Input should be"):
        coach_for(server, "json_schema").weekly_plan(plan_request(), calls=[])

    assert "enum" not in tip_schema(response_schema(server.requests[0]))["category"]


def test_a_good_answer_in_json_object_mode_is_the_plain_plan(server):
    reply = coach_for(server, "json_object").weekly_plan(plan_request(), calls=[])

    assert type(reply.out) is PlanOut
    assert reply.out.model_dump() == json.loads(json.dumps(good_answer(server.requests[0])))
