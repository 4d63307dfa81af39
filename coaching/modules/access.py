"""Which training modules and completions a user may see.

Authors (trainers, admins) see every module in any state; everyone else who may read sees the
published ones. Completions are a person's own learning and follow the person, not the store:
a manager sees their own wherever they took them, a lead those made at their region's stores, an
admin all; trainers see how often a module was completed, not who completed it.
"""

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, QuerySet

from scoring.access import role_of, stores_visible_to
from scoring.models import Role

from ..models import ModuleCompletion, ModuleVersion, TrainingModule


def modules_readable_by(user) -> QuerySet[TrainingModule]:
    if not user.is_active:
        return TrainingModule.objects.none()
    if user.has_perm("coaching.change_trainingmodule"):
        return TrainingModule.objects.all()
    if user.has_perm("coaching.view_trainingmodule"):
        return TrainingModule.objects.filter(status=TrainingModule.Status.PUBLISHED)
    return TrainingModule.objects.none()


def modules_with_versions_readable_by(user) -> QuerySet[TrainingModule]:
    """For the API: each module with its published versions, newest first."""
    return (
        modules_readable_by(user)
        .select_related("category", "secondary_category", "author", "translation_of")
        .prefetch_related(Prefetch("versions", queryset=ModuleVersion.objects.order_by("-version")))
        .order_by("category__display_order", "title")
    )


def modules_authored_by(user) -> QuerySet[TrainingModule]:
    """The studio's modules: every module, for those who may author them."""
    if not (user.is_active and user.has_perm("coaching.change_trainingmodule")):
        return TrainingModule.objects.none()
    return TrainingModule.objects.select_related("category", "author")


def completions_visible_to(user) -> QuerySet[ModuleCompletion]:
    completions = ModuleCompletion.objects.select_related("module", "version", "store")
    role = role_of(user)
    if role == Role.ADMIN:
        return completions
    if role == Role.REGIONAL_LEAD:
        return completions.filter(store__in=stores_visible_to(user))
    if role == Role.STORE_MANAGER:
        return completions.filter(manager=user)
    return completions.none()


def own_completions(user) -> QuerySet[ModuleCompletion]:
    """A person's own training record, wherever they took it (it follows them, not the store)."""
    if not user.is_active:
        return ModuleCompletion.objects.none()
    return ModuleCompletion.objects.filter(manager=user)


def completions_listed_for(user) -> QuerySet[ModuleCompletion]:
    return completions_visible_to(user).select_related("manager").order_by("-completed_at", "id")


def module_originals() -> QuerySet[TrainingModule]:
    """The modules a language version may translate: those that are no translation themselves."""
    return TrainingModule.objects.filter(translation_of=None)


SENT_BACK = "sent_back"  # the key of a reviewer's note in a module's admin history


def review_notes_of(module: TrainingModule) -> QuerySet[LogEntry]:
    """A module's admin history, where a reviewer's notes sending it back are kept (for those who
    may author it: the studio's editor)."""
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(TrainingModule), object_id=str(module.pk)
    )
