"""Reads for training modules: what a reader reads."""

from ..models import ModuleVersion, TrainingModule
from .access import modules_readable_by


def readable_version(user, module: TrainingModule) -> ModuleVersion | None:
    """What this user reads: the latest published version; None when they may not read it."""
    if not modules_readable_by(user).filter(pk=module.pk).exists():
        return None
    return module.versions.order_by("-version").first()


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
