"""What the coach must answer, as pydantic models: sent to the LLM as the response schema and
always used to validate the answer ourselves. These are the shapes every caller receives; a weekly
plan is asked for with a narrower subclass made for its request (`narrow_plan`: the focus
categories and offered modules as enums, the number of tips and steps, the lengths), checked on
every answer; grounding checks the rest, as servers differ in which JSON-schema keywords they
honour."""

from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, create_model


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TipOut(Strict):
    category: str
    title: str
    why: str
    steps: list[str]
    module_slug: str | None


class PlanOut(Strict):
    tips: list[TipOut]


class SectionOut(Strict):
    heading: str
    body: str


class QuizQuestionOut(Strict):
    question: str
    choices: list[str]
    answer: int
    explanation: str


class ModuleDraftOut(Strict):
    title: str
    summary: str
    sections: list[SectionOut]
    practice_steps: list[str]
    quiz: list[QuizQuestionOut]


@lru_cache(maxsize=512)
def narrow_plan(
    categories: tuple[str, ...],
    slugs: tuple[str, ...],
    *,
    limits: tuple[int, int, int, tuple[int, int]],
) -> type[PlanOut]:
    """A `PlanOut` subclass allowing exactly one tip per category, each `category` one of them,
    `module_slug` one of `slugs` or null, and `limits` = (most characters of a title, of a why,
    of a step, (fewest, most) steps)."""
    title, why, step, steps = limits

    def text(most: int) -> Any:
        return Annotated[str, StringConstraints(min_length=1, max_length=most)]

    def one_of(values: tuple[str, ...]) -> Any:  # an enum even for one value (not a "const")
        values = tuple(dict.fromkeys(values))
        return Annotated[Literal[values], WithJsonSchema({"enum": list(values), "type": "string"})]

    tip = create_model(
        "TipOut",
        __base__=TipOut,
        category=(one_of(categories) if categories else str, ...),
        title=(text(title), ...),
        why=(text(why), ...),
        steps=(Annotated[list[text(step)], Field(min_length=steps[0], max_length=steps[1])], ...),
        module_slug=(one_of(slugs) | None if slugs else None, ...),
    )
    tips = Annotated[list[tip], Field(min_length=len(categories), max_length=len(categories))]
    return create_model("PlanOut", __base__=PlanOut, tips=(tips, ...))


# At most one tip per category: the chain has eight.
MOST_TIPS = 8


def plan_shape(*, limits: tuple[int, int, int, tuple[int, int]]) -> type[PlanOut]:
    """The weekly plan any request may get, with the same `limits` as `narrow_plan`: what is sent
    as the response schema, the same for every store so that it can be part of a cached prompt
    prefix. Each answer is then checked with its request's `narrow_plan`."""
    title, why, step, steps = limits

    def text(most: int) -> Any:
        return Annotated[str, StringConstraints(min_length=1, max_length=most)]

    tip = create_model(
        "TipOut",
        __base__=TipOut,
        title=(text(title), ...),
        why=(text(why), ...),
        steps=(Annotated[list[text(step)], Field(min_length=steps[0], max_length=steps[1])], ...),
    )
    tips = Annotated[list[tip], Field(min_length=1, max_length=MOST_TIPS)]
    return create_model("PlanOut", __base__=PlanOut, tips=(tips, ...))


def strict_compatible(schema: Any) -> bool:
    """Whether a JSON schema fits OpenAI's strict mode: every object lists all its properties as
    required and forbids any other (`Strict` models do)."""
    if isinstance(schema, list):
        return all(strict_compatible(item) for item in schema)
    if not isinstance(schema, dict):
        return True
    properties = schema.get("properties")
    if isinstance(properties, dict) and (
        schema.get("additionalProperties") is not False
        or set(schema.get("required", ())) != set(properties)
    ):
        return False
    return all(strict_compatible(value) for value in schema.values())
