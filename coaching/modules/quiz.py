"""A module's quiz: its rules (for authors and AI drafts), marking a manager's answers, the pass
mark. Pure: no query, so the studio, the reader's page and the API mark the same way."""

from dataclasses import dataclass

import pydantic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..llm.schemas import ModuleDraftOut, QuizQuestionOut

QUESTIONS = (3, 5)
CHOICES = 4


def validate_quiz(quiz) -> list[dict]:
    """3-5 questions, each with four distinct choices, the right one's index and an explanation."""
    try:
        questions = pydantic.TypeAdapter(list[QuizQuestionOut]).validate_python(quiz)
    except pydantic.ValidationError as exc:
        # Translators: the problem is the validation library's own message, in English.
        raise ValidationError(_("quiz: %(problem)s") % {"problem": exc.errors()[0]["msg"]}) from exc
    problems = []
    if not QUESTIONS[0] <= len(questions) <= QUESTIONS[1]:
        problems.append(
            _("a quiz has %(fewest)s-%(most)s questions, not %(count)s")
            % {"fewest": QUESTIONS[0], "most": QUESTIONS[1], "count": len(questions)}
        )
    for number, q in enumerate(questions, start=1):
        choices = [c.strip() for c in q.choices]
        if not q.question.strip() or not q.explanation.strip():
            problems.append(
                _("question %(number)s: the question and explanation are required")
                % {"number": number}
            )
        if len(choices) != CHOICES or len(set(choices)) != CHOICES or not all(choices):
            problems.append(
                ngettext(
                    "question %(number)s: %(count)s different, non-empty choice",
                    "question %(number)s: %(count)s different, non-empty choices",
                    CHOICES,
                )
                % {"number": number, "count": CHOICES}
            )
        if not 0 <= q.answer < len(choices):
            problems.append(
                _("question %(number)s: the answer must be one of the choices") % {"number": number}
            )
    if problems:
        raise ValidationError(problems)
    return [q.model_dump() for q in questions]


def quiz_problems(draft: ModuleDraftOut) -> list[str]:
    """What `validate_quiz` finds wrong with a draft's quiz, as the LLM policy's check. In the
    source language whatever the trainer's: the problems go into the repair prompt and the log."""
    with translation.override(None):
        try:
            validate_quiz([q.model_dump() for q in draft.quiz])
        except ValidationError as exc:
            return exc.messages
    return []


def score_of(quiz: list[dict], answers: list[int]) -> int:
    """The percentage of questions answered right, rounded."""
    right = sum(a == q["answer"] for a, q in zip(answers, quiz, strict=True))
    return round(100 * right / len(quiz))


def pass_mark() -> int:
    """The score (in %) at or above which a manager has passed a module (MODULE_PASS_MARK)."""
    return settings.MODULE_PASS_MARK


def passed(score: int | None) -> bool:
    return score is not None and score >= pass_mark()


@dataclass(frozen=True)
class MarkedQuestion:
    """One question after the manager answered it: what they chose, and what was right."""

    number: int
    question: str
    choices: list[str]
    chosen: int | None
    answer: int
    explanation: str

    @property
    def right(self) -> bool:
        return self.chosen == self.answer

    @property
    def chosen_text(self) -> str:
        return self.choices[self.chosen] if self.chosen is not None else ""

    @property
    def answer_text(self) -> str:
        return self.choices[self.answer]


def mark(quiz: list[dict], answers: list[int]) -> list[MarkedQuestion]:
    """Each question of `quiz` with the manager's answer beside the right one."""
    return [
        MarkedQuestion(
            number=n,
            question=q["question"],
            choices=list(q["choices"]),
            chosen=answers[n - 1] if n <= len(answers) else None,
            answer=q["answer"],
            explanation=q.get("explanation", ""),
        )
        for n, q in enumerate(quiz, start=1)
    ]
