"""Writes for training modules: authoring (with an AI draft), publishing versions, completions.

Permissions are Django's, held by the role groups (migration 0003): trainers and admins author
and publish; managers complete; everyone else reads published versions only (`selectors`).
A published module is read through its latest `ModuleVersion`, so editing it publishes a new
version and every completion keeps the one it was made on.
"""

import pydantic
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from scoring.access import stores_visible_to
from scoring.models import Category, Store

from .. import llm
from ..call_log import log_calls
from ..llm import policy
from ..llm.base import ModuleDraftRequest
from ..llm.schemas import ModuleDraftOut, QuizQuestionOut
from ..models import ModuleCompletion, ModuleVersion, TrainingModule

QUESTIONS = (3, 5)
CHOICES = 4
EDITABLE = (
    "title",
    "summary",
    "body",
    "minutes",
    "level",
    "quiz",
    "category",
    "secondary_category",
    "language",
    "translation_of",
)
Status = TrainingModule.Status


def require(user, permission: str) -> None:
    if not (user.is_active and user.has_perm(f"coaching.{permission}")):
        raise PermissionDenied(
            # Translators: a user name, then a permission as Django names it.
            _("%(user)s may not %(permission)s")
            % {"user": user, "permission": permission.replace("_", " ")}
        )


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


def _unique_slug(title: str) -> str:
    base = slugify(title)[:100] or "module"
    slug, n = base, 1
    while TrainingModule.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _clean(module: TrainingModule) -> None:
    if module.quiz:
        module.quiz = validate_quiz(module.quiz)
    if module.secondary_category_id == module.category_id:
        module.secondary_category = None
    module.full_clean(exclude=["slug", "author"])


@transaction.atomic
def create_module(user, *, title: str, category: Category, **fields) -> TrainingModule:
    require(user, "add_trainingmodule")
    unknown = set(fields) - set(EDITABLE) - {"ai_draft", "template_draft"}
    if unknown:
        raise ValidationError(f"unknown fields: {', '.join(sorted(unknown))}")
    module = TrainingModule(title=title, category=category, author=user, **fields)
    module.slug = _unique_slug(title)
    _clean(module)
    module.save()
    return module


@transaction.atomic
def edit_module(user, module: TrainingModule, **changes) -> TrainingModule:
    """Edits the working copy; on a published module the edit is published as a new version."""
    require(user, "change_trainingmodule")
    module = TrainingModule.objects.select_for_update().get(pk=module.pk)
    if module.status == Status.ARCHIVED:
        raise ValidationError(_("an archived module is read-only; publish it again to edit it"))
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"these fields cannot be edited: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(module, name, value)
    _clean(module)
    if module.status == Status.PUBLISHED:
        require(user, "publish_trainingmodule")
        module.version += 1
        module.save()
        _snapshot(module, user)
    else:
        module.save()
    return module


CANNOT = {
    # Translators: the module's status, such as "draft" or "archived".
    "submitted": gettext_lazy("a %(status)s module cannot be submitted"),
    # Translators: the module's status, such as "draft" or "in review".
    "published": gettext_lazy("a %(status)s module cannot be published"),
    # Translators: the module's status, such as "draft" or "published".
    "archived": gettext_lazy("a %(status)s module cannot be archived"),
}


def _transition(user, module: TrainingModule, permission: str, allowed, to: str) -> TrainingModule:
    require(user, permission)
    with transaction.atomic():
        module = TrainingModule.objects.select_for_update().get(pk=module.pk)
        if module.status not in allowed:
            raise ValidationError(CANNOT[to] % {"status": module.get_status_display().lower()})
        return module


@transaction.atomic
def submit_module(user, module: TrainingModule) -> TrainingModule:
    """Draft -> in review: the author asks another trainer to look at it."""
    module = _transition(user, module, "change_trainingmodule", {Status.DRAFT}, "submitted")
    TrainingModule.objects.filter(pk=module.pk).update(status=Status.IN_REVIEW)
    module.refresh_from_db()
    return module


@transaction.atomic
def publish_module(user, module: TrainingModule) -> TrainingModule:
    """A trainer's deliberate act: the only way any module, AI-drafted or not, reaches managers."""
    allowed = {Status.DRAFT, Status.IN_REVIEW, Status.ARCHIVED}
    module = _transition(user, module, "publish_trainingmodule", allowed, "published")
    if not module.quiz:
        raise ValidationError(_("a module needs its quiz before it is published"))
    validate_quiz(module.quiz)
    latest = module.versions.order_by("-version").first()
    if latest is not None and _same_content(latest, module):
        module.version = latest.version  # archived then published again, unchanged
    elif latest is not None:
        module.version = latest.version + 1
    module.status = Status.PUBLISHED
    module.save()
    if latest is None or latest.version != module.version:
        _snapshot(module, user)
    return module


@transaction.atomic
def archive_module(user, module: TrainingModule) -> TrainingModule:
    """Out of coaching and the managers' list; completions and versions stay."""
    allowed = {Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED}
    module = _transition(user, module, "publish_trainingmodule", allowed, "archived")
    TrainingModule.objects.filter(pk=module.pk).update(status=Status.ARCHIVED)
    module.refresh_from_db()
    return module


def _same_content(version: ModuleVersion, module: TrainingModule) -> bool:
    fields = ("title", "summary", "body", "minutes", "level", "quiz")
    return all(getattr(version, f) == getattr(module, f) for f in fields)


def _snapshot(module: TrainingModule, user) -> ModuleVersion:
    return ModuleVersion.objects.create(
        module=module,
        version=module.version,
        title=module.title,
        summary=module.summary,
        body=module.body,
        minutes=module.minutes,
        level=module.level,
        quiz=module.quiz,
        published_by=user,
    )


def publish_snapshot(module: TrainingModule) -> None:
    """For content loaded by the system (demo data): publish what is there as a version."""
    latest = module.versions.order_by("-version").first()
    if latest is not None and _same_content(latest, module):
        return
    module.version = latest.version + 1 if latest else 1
    module.status = Status.PUBLISHED
    module.save(update_fields=["version", "status", "updated_at"])
    _snapshot(module, None)


# --- the AI draft ------------------------------------------------------------------------------


def draft_with_ai(
    user, *, category: Category, objective: str, minutes: int = 15
) -> tuple[TrainingModule, str]:
    """A draft module from the LLM (the playbook's template when none is configured, or it fails
    or answers badly), saved for the trainer to edit. Returns it with a note for the trainer ('' when
    the AI wrote it); the technical reason goes to the log and the LLM call log, never to them."""
    require(user, "add_trainingmodule")
    objective = objective.strip()
    if not objective or len(objective) > 500:
        raise ValidationError(_("the learning objective is required (at most 500 characters)"))
    if not 5 <= minutes <= 60:
        raise ValidationError(_("a module takes 5 to 60 minutes"))
    # In the trainer's language: a French trainer drafts the French version.
    language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    language = language if language in dict(settings.LANGUAGES) else "en"
    request = ModuleDraftRequest(category.code, category.label, objective, minutes, language)
    coach, calls = llm.get_coach(), []
    # Retries, the one repair and the playbook fallback: all in the LLM policy.
    answer = policy.draft_module(request, coach, calls, check=quiz_problems, retries=llm.retries())
    draft = answer.out
    quiz = validate_quiz([q.model_dump() for q in draft.quiz])  # a broken playbook raises here
    with transaction.atomic():
        module = create_module(
            user,
            title=draft.title.strip()[:120],
            category=category,
            summary=draft.summary.strip()[:300],
            body=draft_body(draft),
            minutes=minutes,
            language=language,
            quiz=quiz,
            ai_draft=not answer.coach.offline,
            template_draft=answer.coach.offline,
        )
        log_calls(calls, purpose="module_draft", module=module)
    return module, draft_note(answer)


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


def quiz_problems(draft: ModuleDraftOut) -> list[str]:
    """What `validate_quiz` finds wrong with a draft's quiz, as the LLM policy's check. In the
    source language whatever the trainer's: the problems go into the repair prompt and the log."""
    with translation.override(None):
        try:
            validate_quiz([q.model_dump() for q in draft.quiz])
        except ValidationError as exc:
            return exc.messages
    return []


def draft_body(draft: ModuleDraftOut) -> str:
    parts = [f"## {s.heading.strip()}\n\n{s.body.strip()}" for s in draft.sections]
    steps = "\n".join(f"{n}. {step.strip()}" for n, step in enumerate(draft.practice_steps, 1))
    parts.append("## " + _("Practise this week") + f"\n\n{steps}")  # the trainer's language
    return "\n\n".join(parts) + "\n"


# --- taking a module ---------------------------------------------------------------------------


@transaction.atomic
def complete_module(
    user, module: TrainingModule, answers: list[int], *, store: Store | None = None
) -> ModuleCompletion:
    """The manager's quiz answers for the module's current version; taking it again replaces
    their result for that version, while results on older versions stay as they were."""
    require(user, "add_modulecompletion")
    version = (
        ModuleVersion.objects.filter(module=module, module__status=Status.PUBLISHED)
        .order_by("-version")
        .first()
    )
    if version is None:
        raise ValidationError(_("only a published module can be completed"))
    stores = stores_visible_to(user)
    if store is None:
        store = stores.order_by("code").first()
    elif not stores.filter(pk=store.pk).exists():
        raise PermissionDenied(_("not your store"))
    if len(answers) != len(version.quiz) or not all(
        isinstance(a, int) and 0 <= a < CHOICES for a in answers
    ):
        raise ValidationError(
            ngettext(
                # Translators: English keeps one form for every count; give each of your language's.
                "answer each of the %(count)s questions with a choice",
                "answer each of the %(count)s questions with a choice",
                len(version.quiz),
            )
            % {"count": len(version.quiz)}
        )
    right = sum(a == q["answer"] for a, q in zip(answers, version.quiz, strict=True))
    completion, _created = ModuleCompletion.objects.update_or_create(
        manager=user,
        version=version,
        defaults={
            "module": module,
            "store": store,
            "answers": answers,
            "score": round(100 * right / len(version.quiz)),
        },
    )
    return completion
