"""Nothing an LLM writes is stored before it is checked against the data it was given.

`check` lists every reason a weekly plan may not be stored; `policy.coach_plan` runs it on each
answer, sends the problems back on the one repair attempt and otherwise falls back to the playbook.

A tip is grounded in its own category. Every number in its title and why (and the decimals,
percentages and "N points" of its steps; other small counts there are free) must be one of that
category's figures: score, change, slope, region median, chain top quartile, goal target, the gaps
between the score and those three, the numbers of its focus reason, of the manager's goals for it
and of its modules. The request's weeks ("2026-W47", "week 47", the year) and the category's goal
due date ("12 Dec 2026") may be quoted too. A figure of another category is refused by name.
A claimed relation must hold as well: "X points below the region median" (or above, behind,
short of, ... the top quartile, the goal) needs X to be that very gap, and "the region median at
Y" needs Y to be this category's median. Whole numbers may be the data rounded (0.5), decimals
must agree to 0.05. What the text itself must be (lengths, repeats, English) is `text_checks`'.
"""

import datetime as dt
import re
from dataclasses import dataclass, replace

from .base import NUMBER, FocusItem, PlanRequest
from .schemas import PlanOut, TipOut
from .text_checks import MAX_STEP, MAX_TITLE, MAX_WHY, STEPS, text_problems

__all__ = ["MAX_STEP", "MAX_TITLE", "MAX_WHY", "STEPS", "check"]

NUM = r"(?<![\w.])-?\d+(?:\.\d+)?(?!\.?\d)"
# Month names in English, French and Spanish, to their number (a tip may quote the goal's date).
MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12, "fév": 2, "fev": 2, "avr": 4, "mai": 5, "juin": 6,
    "juil": 7, "aoû": 8, "aou": 8, "déc": 12, "ene": 1, "abr": 4, "ago": 8, "dic": 12,
}  # fmt: skip
MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")[^\W\d_]*\.?"
# Which benchmark a phrase names: "the region median", "the chain's top quarter", "your goal".
BENCHMARK = (
    r"(?P<median>region(?:al)?\s+median|median)"
    r"|(?P<quartile>top\s+(?:quartile|quarter))|(?P<goal>goal|target)"
)
BELOW = {"below", "under", "behind", "short of"}
ABOVE = {"above", "over", "ahead of"}
# "10.7 points below the region median", "8 points short of your goal", "a 5-point gap to target"
GAP = re.compile(
    rf"(?P<x>{NUM})[\s-]*(?:points?|pts)\s+"
    r"(?P<rel>below|under|behind|short\s+of|above|over|ahead\s+of|off|from|away\s+from|gap\s+to)"
    rf"\s+(?:[\w']+\s+){{0,3}}?(?:{BENCHMARK})\b",
    re.IGNORECASE,
)
TO_GO = re.compile(rf"(?P<x>{NUM})\s*points?\s+to\s+go\b", re.IGNORECASE)
# "the region median at 63.8", "your goal is 70", "the chain's top quarter of 78.0"
VALUE = re.compile(
    rf"(?:{BENCHMARK})(?:'s)?\s+(?:(?:is|was|sits|stands|of|at|now)\s+){{1,2}}(?P<y>{NUM})"
    r"(?!\s*(?:points?\b|pts\b|%))",
    re.IGNORECASE,
)
DATE = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m1>{MONTH})"
    rf"|(?P<m2>{MONTH})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b)(?:,?\s+(?P<y>\d{{4}})\b)?"
    r"|\b(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})\b",
    re.IGNORECASE,
)
WEEK = re.compile(
    r"\b(?:(?P<y>\d{4})-?)?[WS](?P<w>\d{1,2})\b|\b(?:week|semaine|semana)\s+(?P<n>\d{1,2})\b", re.I
)
# "67,5" in French or Spanish is 67.5: read as such before any number is checked.
DECIMAL_COMMA = re.compile(r"(?<![\d,])(\d+),(\d+)(?![\d,])")
KINDS = {"median": "region median", "quartile": "top quartile", "goal": "goal"}


@dataclass(frozen=True)
class CategoryData:
    """One focus category's figures, each with what it is ("gap to the region median")."""

    code: str
    score: float
    facts: tuple[tuple[str, float], ...]
    benchmarks: dict[str, tuple[float, ...]]  # median | quartile | goal -> values
    goal_words: tuple[float, ...]  # numbers in the manager's own goal text
    due: frozenset[dt.date]

    def owns(self, quoted: str) -> str | None:
        """What the quoted number is in this category's data, or None."""
        return next((label for label, v in self.facts if _matches(quoted, [v])), None)


def _matches(quoted: str, allowed) -> bool:
    # A number written without decimals may be the data rounded to a whole number.
    tolerance = 0.051 if "." in quoted else 0.5
    return any(abs(abs(float(quoted)) - abs(a)) <= tolerance for a in allowed)


def _gaps(value: float, score: float) -> tuple[float, ...]:
    # As computed, and as a reader would from the one-decimal figures shown.
    return abs(value - score), abs(round(value, 1) - round(score, 1))


def _numbers(text: str) -> list[float]:
    return [float(n) for n in NUMBER.findall(text)]


def _due_date(text: str) -> dt.date | None:
    for form in ("%d %b %Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def category_data(item: FocusItem, request: PlanRequest) -> CategoryData:
    goals = [g for g in request.goals if g.category == item.category]
    targets = [t for t in (item.goal_target, *(g.target for g in goals)) if t is not None]
    benchmarks = {
        "median": tuple(v for v in [item.region_median] if v is not None),
        "quartile": tuple(v for v in [item.chain_top_quartile] if v is not None),
        "goal": tuple(dict.fromkeys(targets)),
    }
    facts = [("score", item.score)]
    if item.change is not None:
        facts.append(("change", item.change))
    if item.slope is not None:
        facts += [("slope", item.slope), ("slope window (12 weeks)", 12.0)]
    for kind, values in benchmarks.items():
        label = KINDS[kind]
        facts += [(label if kind != "goal" else "goal target", v) for v in values]
        facts += [(f"gap to the {label}", gap) for v in values for gap in _gaps(v, item.score)]
    goal_words = tuple(n for g in goals for n in _numbers(g.intent))
    facts += [("in its goal text", n) for n in goal_words]
    facts += [("in its focus reason", n) for n in _numbers(item.reason)]
    modules = [f"{m.title} {m.summary}" for m in request.modules if m.category == item.category]
    facts += [("in its modules", n) for text in modules for n in _numbers(text)]
    due = {_due_date(text) for text in (item.goal_due or "", *(g.due for g in goals))}
    return CategoryData(
        item.category, item.score, tuple(facts), benchmarks, goal_words, frozenset(due - {None})
    )


def _without_dates_and_weeks(text: str, data: CategoryData, request: PlanRequest) -> str:
    """The text with the category's due date and the request's weeks taken out: quoting them is
    fine, and their day or week number is no figure of the data."""
    weeks = {
        (int(m[1]), int(m[2]))
        for label in (request.week, request.data_week)
        if (m := re.match(r"(\d{4})-W(\d{1,2})$", label))
    }

    def week(m: re.Match) -> str:
        number, year = int(m["w"] or m["n"]), m["y"]
        return " " if any(n == number and year in (None, str(y)) for y, n in weeks) else m[0]

    def date(m: re.Match) -> str:
        if m["iy"]:
            return " " if _due_date(m[0]) in data.due else m[0]
        day, name, year = m["d1"] or m["d2"], (m["m1"] or m["m2"]).lower().rstrip("."), m["y"]
        month = next((n for key, n in MONTHS.items() if name.startswith(key)), None)
        due = any(
            d.day == int(day) and d.month == month and year in (None, str(d.year)) for d in data.due
        )
        return " " if due else m[0]

    return DATE.sub(date, WEEK.sub(week, text))


def _quoted(tip: TipOut, data: CategoryData, request: PlanRequest) -> list[str]:
    """The numbers of the tip that must be figures of the data."""
    quoted = NUMBER.findall(_without_dates_and_weeks(f"{tip.title} {tip.why}", data, request))
    # Steps may say "ask three customers" or "5 minutes": only their decimals, percentages and
    # points count.
    for step in tip.steps:
        step = _without_dates_and_weeks(step, data, request)
        quoted += [
            n
            for n in NUMBER.findall(step)
            if "." in n
            or f"{n}%" in step
            or re.search(rf"(?<![\d.]){re.escape(n)}[\s-]*points?\b", step)
        ]
    return quoted


def _number_problems(
    where: str, tip: TipOut, data: CategoryData, others: list[CategoryData], request: PlanRequest
) -> tuple[list[str], set[str]]:
    """Problems with numbers outside this category's data, and the numbers refused."""
    years = [float(label[:4]) for label in (request.week, request.data_week)]
    problems, invented, refused = [], [], set()
    for n in _quoted(tip, data, request):
        if data.owns(n) or _matches(n, years):
            continue
        refused.add(n)
        owner = next(((o.code, label) for o in others if (label := o.owns(n))), None)
        if owner:
            code, label = owner
            whose = (
                f"in {code}'s {label[7:]}" if label.startswith("in its ") else f"{code}'s {label}"
            )
            problems.append(
                f"{where} ({data.code}): {n} is not in this category's data (it is {whose})"
            )
        else:
            invented.append(n)
    if invented:
        problems.append(f"{where}: numbers not in the data: {', '.join(invented)}")
    return problems, refused


def _relation_problems(where: str, text: str, data: CategoryData, refused: set[str]) -> list[str]:
    """Each "X points below the <benchmark>" and "the <benchmark> at Y" must hold for this
    category."""
    where, problems = f"{where} ({data.code})", []
    claims = [(m, " ".join(m["rel"].lower().split())) for m in GAP.finditer(text)]
    claims += [(m, "to go to") for m in TO_GO.finditer(text)]
    for m, rel in claims:
        kind = next((k for k in KINDS if m.groupdict().get(k)), "goal")
        values, x = data.benchmarks[kind], m["x"]
        if x in refused:
            continue  # already said whose number it is
        if not values:
            problems.append(f"{where}: there is no {KINDS[kind]} for this category")
            continue
        value = next((v for v in values if _matches(x, _gaps(v, data.score))), None)
        if value is None:
            gaps = ", ".join(f"{abs(v - data.score):.1f}" for v in values)
            problems.append(f"{where}: {x} points {rel} the {KINDS[kind]}, but the gap is {gaps}")
        elif rel in BELOW | ABOVE and abs(value - data.score) >= 0.05:
            side = "below" if data.score < value else "above"
            if (rel in BELOW) != (side == "below"):
                problems.append(
                    f"{where}: {x} points {rel} the {KINDS[kind]}, but {data.score:.1f} is "
                    f"{side} {value:.1f}"
                )
    for m in VALUE.finditer(text):
        kind = next(k for k in KINDS if m[k])
        values, y = data.benchmarks[kind], m["y"]
        if y in refused:
            continue
        if not values:
            problems.append(f"{where}: there is no {KINDS[kind]} for this category")
        elif not _matches(y, [*values, *(data.goal_words if kind == "goal" else ())]):
            shown = ", ".join(f"{v:.1f}" for v in values)
            problems.append(f"{where}: the {KINDS[kind]} is {shown}, not {y}")
    return problems


def _plan_problems(plan: PlanOut, request: PlanRequest) -> list[str]:
    focus = [item.category for item in request.focus]
    modules = {m.slug for m in request.modules}
    missing = [code for code in focus if code not in {tip.category for tip in plan.tips}]
    problems = []
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
    return problems


def points(text: str) -> str:
    """ "67,5" as "67.5"."""
    return DECIMAL_COMMA.sub(r"\1.\2", text)


def in_decimal_points(tip: TipOut) -> TipOut:
    """The tip with decimal commas written as points ("67,5" as "67.5"), so a French or Spanish
    tip's numbers are checked as the English ones are."""
    return tip.model_copy(
        update={
            "title": points(tip.title),
            "why": points(tip.why),
            "steps": [points(step) for step in tip.steps],
        }
    )


def check(plan: PlanOut, request: PlanRequest) -> list[str]:
    """Every reason this plan may not be stored; empty when it is grounded and reads as advice."""
    if request.language != "en":
        plan = plan.model_copy(update={"tips": [in_decimal_points(t) for t in plan.tips]})
        request = _reasons_in_decimal_points(request)
    problems = _plan_problems(plan, request)
    data = {item.category: category_data(item, request) for item in request.focus}
    for number, tip in enumerate(plan.tips, start=1):
        where = f"tip {number}"
        problems += text_problems(where, tip, request)
        if tip.category not in data:
            continue  # already refused: its numbers have no category to belong to
        own = data[tip.category]
        others = [d for code, d in data.items() if code != tip.category]
        found, refused = _number_problems(where, tip, own, others, request)
        text = "\n".join([tip.title, tip.why, *tip.steps])
        problems += found + _relation_problems(where, text, own, refused)
    return problems


def _reasons_in_decimal_points(request: PlanRequest) -> PlanRequest:
    """The request with its focus reasons' decimal commas as points: the reasons are written in
    the manager's language, and their numbers may be quoted."""
    focus = tuple(replace(item, reason=points(item.reason)) for item in request.focus)
    return replace(request, focus=focus)
