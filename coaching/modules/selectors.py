"""Reads for training modules: what a reader reads, and completions for a lead's review."""

from django.db.models import Avg, Count

from ..models import ModuleVersion, TrainingModule
from .access import completions_visible_to, modules_readable_by


def readable_version(user, module: TrainingModule) -> ModuleVersion | None:
    """What this user reads: the latest published version; None when they may not read it."""
    if not modules_readable_by(user).filter(pk=module.pk).exists():
        return None
    return module.versions.order_by("-version").first()


def completions_by_store_and_category(user) -> list[dict]:
    """For a lead's review: completions and average quiz score per store and category."""
    return list(
        completions_visible_to(user)
        .values("store__code", "module__category__code")
        .annotate(completions=Count("id"), average_score=Avg("score"))
        .order_by("store__code", "module__category__code")
    )
