"""Reads for training modules: what a reader reads, their results and recommendations, and the
trainer studio's lists."""

import datetime as dt
import json
from dataclasses import dataclass

from django.db.models import Max, Q

from ..models import ModuleCompletion, ModuleVersion, TrainingModule, WeeklyPlan
from ..plans.access import own_plans, own_tips
from .access import (
    SENT_BACK,
    modules_authored_by,
    modules_readable_by,
    own_completions,
    review_notes_of,
)
from .quiz import passed


def readable_version(user, module: TrainingModule) -> ModuleVersion | None:
    """What this user reads: the latest published version; None when they may not read it."""
    if not modules_readable_by(user).filter(pk=module.pk).exists():
        return None
    return module.versions.order_by("-version").first()


def completion_of(user, version: ModuleVersion) -> ModuleCompletion | None:
    """The user's own result on this version of a module, if they took its quiz."""
    return own_completions(user).filter(version=version).first()


def in_reader_language(modules, language: str) -> list[TrainingModule]:
    """Each module once, in the reader's language where it has a version in it, else as
    written (a module and its language versions share one place in the list)."""
    chosen: dict[int, TrainingModule] = {}
    for module in modules:
        group = module.translation_of_id or module.pk
        held = chosen.get(group)
        if held is None or _preference(module, language) < _preference(held, language):
            chosen[group] = module
    return sorted(chosen.values(), key=lambda m: (m.category.display_order, m.title))


def _preference(module: TrainingModule, language: str) -> tuple[bool, bool]:
    return (module.language != language, module.translation_of_id is not None)


# --- the trainer studio ------------------------------------------------------------------------


def studio_modules(user) -> list[TrainingModule]:
    """The studio's modules, newest change first, each with `held`: a published module whose
    changes wait for review (its working copy is ahead of the version managers read)."""
    modules = list(
        modules_authored_by(user)
        .select_related("edited_by")
        .annotate(published_as=Max("versions__version"))
        .order_by("-updated_at")
    )
    for module in modules:
        module.held = module.status == TrainingModule.Status.PUBLISHED and module.version > (
            module.published_as or 0
        )
    return modules


def waiting_for_review_by(user, modules: list[TrainingModule]) -> list[TrainingModule]:
    """Of `studio_modules`, those this user may publish and did not last change: in review, or
    published with changes held for review."""
    if not user.has_perm("coaching.publish_trainingmodule"):
        return []
    return [
        m
        for m in modules
        if (m.status == TrainingModule.Status.IN_REVIEW or m.held) and m.edited_by_id != user.pk
    ]


@dataclass(frozen=True)
class ReviewNote:
    note: str
    by: str
    at: dt.datetime


def review_note(module: TrainingModule) -> ReviewNote | None:
    """The latest reviewer's note sending the module back (kept in its admin history)."""
    entry = (
        review_notes_of(module)
        .filter(change_message__startswith=f'[{{"{SENT_BACK}"')
        .select_related("user")
        .order_by("-action_time", "-id")
        .first()
    )
    if entry is None:
        return None
    try:
        note = json.loads(entry.change_message)[0][SENT_BACK]["note"]
    except (ValueError, LookupError, TypeError):
        return None
    return ReviewNote(note=note, by=entry.user.get_username(), at=entry.action_time)


# --- the managers' list ------------------------------------------------------------------------


@dataclass
class ListedModule:
    module: TrainingModule
    completion: ModuleCompletion | None = None  # the best of the reader's, any version or language
    tip: str = ""  # recommended: the title of the open tip it is linked to
    focus: str = ""  # recommended: the label of the focus category it is in

    @property
    def recommended(self) -> bool:
        return bool(self.tip or self.focus)

    @property
    def best_score(self) -> int | None:
        if self.completion is None:
            return None
        return max(self.completion.best_score, self.completion.score)

    @property
    def passed(self) -> bool:
        return passed(self.best_score)


def module_list_for(user, language: str, today: dt.date) -> list[ListedModule]:
    """The published modules in the reader's language, each with the reader's result and
    whether it is recommended for them now: linked to an open tip of their current plans, or in
    one of those plans' focus categories (unless already passed). Five queries, however many
    modules, completions and tips."""
    modules = list(
        modules_readable_by(user)
        .filter(status=TrainingModule.Status.PUBLISHED)
        .select_related("category", "secondary_category")
    )
    group_of = {m.pk: m.translation_of_id or m.pk for m in modules}
    best: dict[int, ModuleCompletion] = {}
    for completion in own_completions(user).select_related("module"):
        group = completion.module.translation_of_id or completion.module_id
        held = best.get(group)
        if held is None or _better(completion, held):
            best[group] = completion
    by_tip, focus = _recommendations(user, today)
    tip_of = {group_of[pk]: title for pk, title in by_tip.items() if pk in group_of}
    listed = []
    for module in in_reader_language(modules, language):
        item = ListedModule(module, best.get(group_of[module.pk]))
        if not item.passed:
            item.tip = tip_of.get(group_of[module.pk], "")
            categories = (module.category, module.secondary_category)
            item.focus = next((c.label for c in categories if c and c.code in focus), "")
        listed.append(item)
    return listed


def _better(one: ModuleCompletion, other: ModuleCompletion) -> bool:
    return (max(one.best_score, one.score), one.pk) > (max(other.best_score, other.score), other.pk)


def _recommendations(user, today: dt.date) -> tuple[dict[int, str], set[str]]:
    """Modules linked to an open tip of the user's current plans (one per store they manage
    now: the latest ready one), with the tip's title; and those plans' focus categories."""
    shown = (WeeklyPlan.Status.READY, WeeklyPlan.Status.FALLBACK)
    latest = (
        own_plans(user)
        .filter(week__lte=today, status__in=shown)
        .order_by()
        .values("store_id")
        .annotate(week=Max("week"))
    )
    current = Q(pk__in=[])
    for row in latest:
        current |= Q(plan__store_id=row["store_id"], plan__week=row["week"])
    by_tip: dict[int, str] = {}
    focus: set[str] = set()
    if not latest:
        return by_tip, focus
    for tip in own_tips(user).filter(current, plan__status__in=shown):
        focus |= {item.get("category") for item in tip.plan.focus} | {tip.category.code}
        if tip.module_id and tip.done_at is None and not tip.dismissed_reason:
            by_tip.setdefault(tip.module_id, tip.title)
    return by_tip, focus
