"""Nothing an LLM writes is stored before it is checked against the data it was given.

`check` lists every reason a weekly plan may not be stored; `policy.coach_plan` runs it on each
answer, sends the problems back on the one repair attempt and otherwise falls back to the playbook.
"""

from .base import NUMBER, PlanRequest
from .schemas import PlanOut

MAX_TITLE = 90
MAX_WHY = 320
MAX_STEP = 240
STEPS = (2, 4)


def _matches(quoted: float, allowed: list[float], decimals: bool) -> bool:
    # A number written without decimals may be the data rounded to a whole number.
    tolerance = 0.051 if decimals else 0.5
    return any(abs(abs(quoted) - abs(a)) <= tolerance for a in allowed)


def _numbers_not_in_data(text: str, allowed: list[float]) -> list[str]:
    return [n for n in NUMBER.findall(text) if not _matches(float(n), allowed, "." in n)]


def check(plan: PlanOut, request: PlanRequest) -> list[str]:
    """Every reason this plan may not be stored; empty when it is grounded."""
    problems = []
    focus = [item.category for item in request.focus]
    modules = {m.slug for m in request.modules}
    allowed = request.quoted_numbers()
    missing = [code for code in focus if code not in {tip.category for tip in plan.tips}]
    if len(plan.tips) != len(focus) or missing:
        problems.append(
            f"expected {len(focus)} tips, one per focus category, got {len(plan.tips)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
        )
    seen = set()
    for number, tip in enumerate(plan.tips, start=1):
        where = f"tip {number}"
        if tip.category not in focus:
            problems.append(f"{where}: category {tip.category!r} is not a focus category {focus}")
        if tip.category in seen:
            problems.append(f"{where}: a second tip for {tip.category!r}")
        seen.add(tip.category)
        if tip.module_slug is not None and tip.module_slug not in modules:
            problems.append(f"{where}: module {tip.module_slug!r} is not one of the modules given")
        if not tip.title.strip() or len(tip.title) > MAX_TITLE:
            problems.append(f"{where}: title must be 1-{MAX_TITLE} characters")
        if not tip.why.strip() or len(tip.why) > MAX_WHY:
            problems.append(f"{where}: why must be 1-{MAX_WHY} characters")
        if not STEPS[0] <= len(tip.steps) <= STEPS[1]:
            problems.append(f"{where}: {STEPS[0]}-{STEPS[1]} steps, got {len(tip.steps)}")
        if any(not step.strip() or len(step) > MAX_STEP for step in tip.steps):
            problems.append(f"{where}: each step must be 1-{MAX_STEP} characters")
        # Title and why quote the data: every number there must come from it. Steps may say
        # "ask three customers" or "5 minutes", so only their decimals and percentages count.
        invented = _numbers_not_in_data(f"{tip.title} {tip.why}", allowed)
        for step in tip.steps:
            invented += [
                n
                for n in _numbers_not_in_data(step, allowed)
                if "." in n or f"{n}%" in step or f"{n} points" in step
            ]
        if invented:
            problems.append(f"{where}: numbers not in the data: {', '.join(invented)}")
    return problems
