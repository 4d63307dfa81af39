"""Versioned prompts. The file name carries the version, recorded on every plan and call;
changing a prompt means a new file, so old plans still say which words produced them."""

from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
WEEKLY_PLAN = "weekly_plan.v1"
MODULE_DRAFT = "module_draft.v1"


@cache
def load(version: str) -> str:
    return (HERE / f"{version}.md").read_text(encoding="utf-8")
