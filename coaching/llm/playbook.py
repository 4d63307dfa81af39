"""The offline coach: deterministic tips from category playbooks and published modules.

It is the embedded default and the stand-in whenever the LLM fails. Practices are chosen to fit
the situation (declining, low, goal, steady), rotated week to week and never repeated from the
manager's recent plans while another fitting practice is left. Its plan replies say which practice
each tip uses.
"""

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from ..text import tokens
from .base import CallRecord, ModuleDraftRequest, ModuleRef, PlanRequest, Repair, Reply
from .schemas import ModuleDraftOut, PlanOut, QuizQuestionOut, SectionOut, TipOut
from .text_checks import MAX_STEP, MAX_WHY

PLAYBOOKS = Path(__file__).parent / "playbooks"


@dataclass(frozen=True)
class Practice:
    key: str
    title: str
    suits: tuple[str, ...]
    effort: str
    steps: tuple[str, ...]
    measure: str


@cache
def playbook(category: str, language: str = "en") -> tuple[Practice, ...]:
    """The category's practices in the language, or in English where it has no version (the
    keys are the same in every language, so the practices a manager had carry across)."""
    path = PLAYBOOKS / language / f"{category}.yaml"
    if language == "en" or not path.exists():
        path = PLAYBOOKS / f"{category}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(
        Practice(
            key=p["key"],
            title=p["title"],
            suits=tuple(p["suits"]),
            effort=p["effort"],
            steps=tuple(p["steps"]),
            measure=p["measure"],
        )
        for p in data["practices"]
    )


def _rank(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def choose_practice(
    category: str, situation: str, *, week: str, store: str, recent, language: str = "en"
) -> Practice:
    """A practice that suits the situation, varied by week and store, avoiding recent ones."""
    practices = playbook(category, language)
    fitting = [p for p in practices if situation in p.suits] or list(practices)
    fresh = [p for p in fitting if p.key not in recent] or fitting
    return min(fresh, key=lambda p: _rank(store, week, category, p.key))


def _module_for(practice: Practice, modules: list[ModuleRef]) -> ModuleRef | None:
    """Of the modules recommended for the category (best first), one the manager has not taken
    yet that shares the most words with the practice, so the tip and its training agree; the best
    ranked on a tie."""
    words = set(tokens(" ".join([practice.title, *practice.steps])))
    return max(
        modules,
        key=lambda m: (not m.completed, len(words & set(tokens(f"{m.title} {m.summary}")))),
        default=None,
    )


# The categories customers answer for in the pulse, whose tips may cite what customers wrote.
CUSTOMER_FACING = frozenset(
    {"brand_loyalty", "customer_satisfaction", "customer_advocacy", "community_engagement"}
)


def _with_theme(
    why: str, steps: list[str], category: str, themes: tuple[str, ...]
) -> tuple[str, list[str]]:
    """The week's most mentioned comment theme in the why where it fits, else as a step (a theme
    is our own wording from `scoring.pulse.themes`, never a customer's text)."""
    if category not in CUSTOMER_FACING or not themes:
        return why, steps
    theme = gettext(themes[0].split(" (")[0])  # our own wording, in the catalogue
    longer = f"{why} " + _("Customers' comments this week mention %(theme)s most.") % {
        "theme": theme
    }
    if len(longer) <= MAX_WHY:
        return longer, steps
    step = _("Read this week's customer comments with the team: they mention %(theme)s most.") % {
        "theme": theme
    }
    return why, ([*steps, step] if len(steps) < 4 else [*steps[:3], step])


def _why_and_steps(reason: str, practice: Practice) -> tuple[str, list[str]]:
    """The focus reason and what to watch, then the practice's steps. A long reason (a drop and a
    goal at once) would push the why past MAX_WHY: what to watch becomes the last step instead."""
    steps = list(practice.steps[:4])
    why = f"{reason} " + _("What to watch: %(measure)s") % {"measure": practice.measure}
    if len(why) <= MAX_WHY:
        return why, steps
    if len(steps) < 4:
        steps.append(
            (_("Watch the result: %(measure)s") % {"measure": practice.measure})[:MAX_STEP]
        )
    return _whole_sentences(reason, MAX_WHY), steps


SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^\W\d_])")  # "déc. 2026" and "67.5" go on


def _whole_sentences(text: str, limit: int) -> str:
    """As many of the text's first sentences as fit in `limit` characters: a reason naming many
    factors loses its last ones whole, never half a number ("7" of "71.0")."""
    kept = ""
    for sentence in SENTENCE_END.split(text):
        longer = f"{kept} {sentence}" if kept else sentence
        if len(longer) > limit:
            break
        kept = longer
    return kept or text[:limit]


class PlaybookCoach:
    """Needs no network and answers the same request the same way: nothing to retry or repair."""

    name = "playbook"
    model = "playbook"
    prompt_version = "playbook.v1"
    offline = True

    def weekly_plan(
        self, request: PlanRequest, *, calls: list[CallRecord], repair: Repair | None = None
    ) -> Reply[PlanOut]:
        """One tip per focus category, with the practice each one uses so the next weeks can
        avoid it."""
        calls.append(CallRecord(self.name, self.model, self.prompt_version, attempt=len(calls) + 1))
        with translation.override(request.language):
            return self._weekly_plan(request)

    def _weekly_plan(self, request: PlanRequest) -> Reply[PlanOut]:
        tips, practices = [], {}
        for item in request.focus:
            practice = choose_practice(
                item.category,
                item.situation,
                week=request.week,
                store=request.store_code,
                recent=request.recent_practices,
                language=request.language,
            )
            practices[item.category] = practice.key
            module = _module_for(
                practice, [m for m in request.modules if m.category == item.category]
            )
            why, steps = _why_and_steps(item.reason, practice)
            why, steps = _with_theme(why, steps, item.category, request.comment_themes)
            tips.append(
                TipOut(
                    category=item.category,
                    title=practice.title,
                    why=why,
                    steps=steps,
                    module_slug=module.slug if module else None,
                )
            )
        return Reply(PlanOut(tips=tips), practices)

    def draft_module(
        self, request: ModuleDraftRequest, *, calls: list[CallRecord], repair: Repair | None = None
    ) -> Reply[ModuleDraftOut]:
        calls.append(CallRecord(self.name, self.model, self.prompt_version, attempt=len(calls) + 1))
        with translation.override(request.language):
            return self._draft_module(request)

    def _draft_module(self, request: ModuleDraftRequest) -> Reply[ModuleDraftOut]:
        practices = playbook(request.category, request.language)[:4]
        sections = [
            SectionOut(
                heading=_("Why it matters"),
                body=_(
                    "This module supports the objective: *%(objective)s*. It draws on the "
                    "%(category)s practices that work on the floor."
                )
                % {"objective": request.objective, "category": request.category_name.lower()},
            ),
            *[
                SectionOut(
                    heading=p.title,
                    body="\n".join(f"{n}. {step}" for n, step in enumerate(p.steps, 1))
                    + "\n\n**"
                    + _("What to watch:")
                    + f"** {p.measure}",
                )
                for p in practices[:3]
            ],
        ]
        quiz = []
        for number, p in enumerate(practices[:3]):
            choices = [o.measure for o in practices if o is not p][:3]
            choices.insert(number % 4, p.measure)  # the right answer moves between questions
            quiz.append(
                QuizQuestionOut(
                    question=_("What should you watch after '%(practice)s'?")
                    % {"practice": p.title.lower()},
                    choices=choices,
                    answer=number % 4,
                    explanation=_("Each practice comes with the signal that shows it is working."),
                )
            )
        draft = ModuleDraftOut(
            title=f"{request.category_name}: {practices[0].title}"[:80],
            summary=(
                _("Practical steps for %(category)s: %(objective)s")
                % {"category": request.category_name.lower(), "objective": request.objective}
            )[:240],
            sections=sections,
            practice_steps=[p.steps[0] for p in practices],
            quiz=quiz,
        )
        return Reply(draft)


PLAYBOOK = PlaybookCoach()
