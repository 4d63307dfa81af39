"""Versioned prompts. The file name carries the version, recorded on every plan and call;
changing a prompt means a new file, so old plans still say which words produced them."""

import re
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
WEEKLY_PLAN = "weekly_plan.v4"
MODULE_DRAFT = "module_draft.v2"
REPAIR = "repair.v1"  # follows the task's own prompt on the one repair attempt


@cache
def load(version: str) -> str:
    return (HERE / f"{version}.md").read_text(encoding="utf-8")


def render(version: str, **values: str) -> str:
    """The prompt with each `{name}` placeholder replaced by its value (inserted text is never
    scanned for placeholders again)."""
    return PLACEHOLDER.sub(lambda m: values[m[1]], load(version).strip())


PLACEHOLDER = re.compile(r"\{(\w+)\}")
