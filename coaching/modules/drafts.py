"""Shaping a module draft (the AI's or the built-in template's) before it is saved: pure, no query.

The template knows a category's practices but not what this trainer wants the module for, so a
template draft is rewritten around the trainer's objective: the title, the intro with its
learning outcome, and the quiz's explanations. The trainer is told plainly that it came from the
template, never that an AI wrote it.
"""

from django.utils.text import Truncator
from django.utils.translation import gettext as _

from ..llm.schemas import ModuleDraftOut, QuizQuestionOut, SectionOut

TITLE_CHARS = 100  # the model allows 120; room for the trainer to add a word
EXPLANATION_CHARS = 500  # the studio's limit for a question's explanation


def with_objective(draft: ModuleDraftOut, objective: str) -> ModuleDraftOut:
    """The template's draft, made about the trainer's objective (the text they typed)."""
    aim = " ".join(objective.split()).rstrip(".")
    if not aim:
        return draft
    title = Truncator(aim[:1].upper() + aim[1:]).chars(TITLE_CHARS)
    short = Truncator(aim).chars(120)
    outcome = _("**Learning outcome:** after this module you can %(objective)s.") % {
        "objective": aim[:1].lower() + aim[1:] if aim[1:2].islower() else aim
    }
    sections = list(draft.sections)
    if sections:
        intro = sections[0]
        sections[0] = SectionOut(heading=intro.heading, body=f"{intro.body.strip()}\n\n{outcome}")
    else:
        sections = [SectionOut(heading=_("Learning outcome"), body=outcome)]
    toward = _("It brings you closer to the aim of this module: %(objective)s.")
    quiz = [
        QuizQuestionOut(
            question=q.question,
            choices=q.choices,
            answer=q.answer,
            explanation=Truncator(f"{q.explanation.strip()} {toward % {'objective': short}}").chars(
                EXPLANATION_CHARS
            ),
        )
        for q in draft.quiz
    ]
    return draft.model_copy(update={"title": title, "sections": sections, "quiz": quiz})


def draft_body(draft: ModuleDraftOut) -> str:
    parts = [f"## {s.heading.strip()}\n\n{s.body.strip()}" for s in draft.sections]
    steps = "\n".join(f"{n}. {step.strip()}" for n, step in enumerate(draft.practice_steps, 1))
    parts.append("## " + _("Practise this week") + f"\n\n{steps}")  # the trainer's language
    return "\n\n".join(parts) + "\n"


def draft_note(answer) -> str:
    """Why a draft came from the template, in words a trainer can act on; '' for an AI draft."""
    if not answer.coach.offline:
        return ""
    reason = answer.fallback_reason
    if not reason:
        return _(
            "No AI service is set up, so this draft comes from the built-in template: read and "
            "edit it before publishing."
        )
    if reason.startswith("LLM unavailable"):
        return _(
            "The AI service did not answer, so this draft comes from the built-in template: read "
            "and edit it before publishing."
        )
    if reason.startswith("LLM error"):
        return _(
            "The AI service turned the request down, so this draft comes from the built-in "
            "template: read and edit it before publishing."
        )
    return _(
        "The AI's answer could not be used, so this draft comes from the built-in template: read "
        "and edit it before publishing."
    )
