"""What the coach must answer, as pydantic models: sent to the LLM as the response schema and
always used to validate the answer ourselves. Structure only; lengths and grounding are checked in
`grounding`, because servers differ in which JSON-schema keywords they honour."""

from pydantic import BaseModel, ConfigDict


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
