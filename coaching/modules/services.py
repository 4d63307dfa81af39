"""Writes for training modules: authoring (with an AI draft), publishing versions, completions.

Permissions are Django's, held by the role groups (migration 0003): trainers and admins author
and publish; managers complete; everyone else reads published versions only (`selectors`).
A published module is read through its latest `ModuleVersion`, so editing it publishes a new
version and every completion keeps the one it was made on.

Four-eyes review (MODULE_FOUR_EYES): nobody publishes content they last changed
(`TrainingModule.edited_by`). The author submits it for review; another trainer or admin
publishes it or sends it back with a note. A change to a published module is held, unpublished,
until someone else publishes it; managers keep reading the version they had.
"""

import json

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
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
from ..models import ModuleCompletion, ModuleVersion, TrainingModule
from .access import SENT_BACK
from .drafts import draft_body, draft_note, with_objective
from .quiz import CHOICES, quiz_problems, score_of, validate_quiz

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
    module = TrainingModule(title=title, category=category, author=user, edited_by=user, **fields)
    module.slug = _unique_slug(title)
    _clean(module)
    module.save()
    return module


def four_eyes() -> bool:
    return settings.MODULE_FOUR_EYES


def _content(module: TrainingModule) -> tuple:
    return tuple(getattr(module, module._meta.get_field(name).attname) for name in EDITABLE)


@transaction.atomic
def edit_module(user, module: TrainingModule, **changes) -> TrainingModule:
    """Edits the working copy; on a published module the edit is published as a new version (with
    four-eyes review on, it waits for another trainer to publish it). Whoever changes the
    content becomes its last editor; saving it unchanged changes nothing."""
    require(user, "change_trainingmodule")
    module = TrainingModule.objects.select_for_update().get(pk=module.pk)
    if module.status == Status.ARCHIVED:
        raise ValidationError(_("an archived module is read-only; publish it again to edit it"))
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"these fields cannot be edited: {', '.join(sorted(unknown))}")
    before = _content(module)
    for name, value in changes.items():
        setattr(module, name, value)
    _clean(module)
    if _content(module) != before:
        module.edited_by = user
    if module.status == Status.PUBLISHED:
        require(user, "publish_trainingmodule")
        latest = _latest(module)
        if four_eyes() and latest is not None:
            # Held for review: the number it will be published as, no version yet.
            module.version = latest.version + (not _same_content(latest, module))
            module.save()
            return module
        module.version += 1
        module.save()
        _snapshot(module, user)
    else:
        module.save()
    return module


def _latest(module: TrainingModule) -> ModuleVersion | None:
    return module.versions.order_by("-version").first()


def has_unpublished_changes(module: TrainingModule) -> bool:
    """A published module whose working copy differs from what managers read (held for review)."""
    latest = _latest(module)
    return module.status == Status.PUBLISHED and (
        latest is None or not _same_content(latest, module)
    )


CANNOT = {
    # Translators: the module's status, such as "draft" or "archived".
    "submitted": gettext_lazy("a %(status)s module cannot be submitted"),
    # Translators: the module's status, such as "draft" or "in review".
    "published": gettext_lazy("a %(status)s module cannot be published"),
    # Translators: the module's status, such as "draft" or "published".
    "archived": gettext_lazy("a %(status)s module cannot be archived"),
    # Translators: the module's status, such as "draft" or "published".
    "sent_back": gettext_lazy("a %(status)s module has nothing to send back"),
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
    """A trainer's deliberate act: the only way any module, AI-drafted or not, reaches managers.
    With four-eyes review on, only someone other than its last editor publishes it, once it was
    submitted for review (or is archived, or published with changes held for review)."""
    allowed = {Status.DRAFT, Status.IN_REVIEW, Status.ARCHIVED, Status.PUBLISHED}
    module = _transition(user, module, "publish_trainingmodule", allowed, "published")
    if module.status == Status.PUBLISHED and not has_unpublished_changes(module):
        raise ValidationError(CANNOT["published"] % {"status": module.get_status_display().lower()})
    if four_eyes():
        _check_four_eyes(user, module)
    if not module.quiz:
        raise ValidationError(_("a module needs its quiz before it is published"))
    validate_quiz(module.quiz)
    latest = _latest(module)
    if latest is not None and _same_content(latest, module):
        module.version = latest.version  # archived then published again, unchanged
    elif latest is not None:
        module.version = latest.version + 1
    module.status = Status.PUBLISHED
    module.save()
    if latest is None or latest.version != module.version:
        _snapshot(module, user)
    return module


def _check_four_eyes(user, module: TrainingModule) -> None:
    if module.status == Status.DRAFT:
        raise ValidationError(
            _(
                "Four-eyes review is on: submit the module for review, and another trainer or "
                "admin publishes it."
            )
        )
    if module.edited_by_id is not None and module.edited_by_id == user.pk:
        raise PermissionDenied(
            _(
                "Four-eyes review is on: you made the last changes to this module, so another "
                "trainer or admin must review and publish it."
            )
        )


@transaction.atomic
def send_back(user, module: TrainingModule, *, note: str) -> TrainingModule:
    """The reviewer's 'not yet': a module in review goes back to draft (a published module's held
    changes stay held) with a note for its author. The note is kept in the module's admin
    history (Django's LogEntry), so the author reads it in the editor and nothing new is stored."""
    note = note.strip()
    if not note or len(note) > 1000:
        raise ValidationError(_("say what to change (at most 1000 characters)"))
    allowed = {Status.IN_REVIEW, Status.PUBLISHED}
    module = _transition(user, module, "publish_trainingmodule", allowed, "sent_back")
    if module.status == Status.PUBLISHED and not has_unpublished_changes(module):
        raise ValidationError(CANNOT["sent_back"] % {"status": module.get_status_display().lower()})
    if module.status == Status.IN_REVIEW:
        TrainingModule.objects.filter(pk=module.pk).update(status=Status.DRAFT)
        module.refresh_from_db()
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(TrainingModule),
        object_id=str(module.pk),
        object_repr=str(module)[:200],
        action_flag=CHANGE,
        change_message=json.dumps([{SENT_BACK: {"note": note}}]),
    )
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
    if answer.coach.offline:  # the template knows the practices, the trainer knows the aim
        draft = with_objective(draft, objective)
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


# --- taking a module ---------------------------------------------------------------------------


@transaction.atomic
def complete_module(
    user, module: TrainingModule, answers: list[int], *, store: Store | None = None
) -> ModuleCompletion:
    """The manager's quiz answers for the module's current version. Taking it again (a retake)
    updates their result for that version: the latest score and answers, the best score, one
    more attempt; it still counts as one completion, dated when first completed. Results on
    older versions stay as they were."""
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
    score = score_of(version.quiz, answers)
    completion = (
        ModuleCompletion.objects.select_for_update().filter(manager=user, version=version).first()
    )
    if completion is None:
        return ModuleCompletion.objects.create(
            manager=user,
            version=version,
            module=module,
            store=store,
            answers=answers,
            score=score,
            best_score=score,
        )
    # The store stays the first one's: the completion is counted there, once.
    completion.best_score = max(completion.best_score, completion.score, score)
    completion.answers, completion.score = answers, score
    completion.attempts += 1
    completion.save(update_fields=["answers", "score", "best_score", "attempts"])
    return completion
