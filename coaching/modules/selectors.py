"""Reads for training modules: what a reader reads."""

from ..models import ModuleVersion, TrainingModule
from .access import modules_readable_by


def readable_version(user, module: TrainingModule) -> ModuleVersion | None:
    """What this user reads: the latest published version; None when they may not read it."""
    if not modules_readable_by(user).filter(pk=module.pk).exists():
        return None
    return module.versions.order_by("-version").first()
