"""Does a tip read as advice a manager can use? Checks on its text alone, no numbers (those are
`grounding`'s): long enough to say something, no part repeating another, no echo of the JSON it
was given, and written in English.

Each problem is short and names the part ("tip 1: step 2 repeats step 1"), because it goes back to
the model on the one repair attempt.
"""

import re
from dataclasses import fields

from ..text import tokens
from .base import FocusItem, GoalText, ModuleRef, PlanRequest
from .schemas import TipOut

MIN_TITLE, MAX_TITLE = 12, 90
MIN_WHY, MAX_WHY = 40, 320
MIN_STEP, MAX_STEP = 15, 240
MIN_WORDS = 3  # in a title and in each step
STEPS = (2, 4)

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")  # letters only: "5-10" and "2026" are not words

# The input's own field names and fences: a tip holding them is echoing the data, not advising.
_NAMES = {f.name for cls in (PlanRequest, FocusItem, GoalText, ModuleRef) for f in fields(cls)}
ECHO = re.compile(
    r'\{\s*"|"\s*:|</?manager_goal|\b(?:'
    + "|".join(sorted(name for name in _NAMES | {"module_slug"} if "_" in name))
    + r")\b",
    re.IGNORECASE,
)

# A heuristic, not language detection: English prose is mostly held together by a few hundred
# function words (in the playbooks, a third of the words or more). Text in another language, or
# gibberish, has few of them. Only judged on why and steps together, when they hold enough words.
FUNCTION_WORDS = frozenset({
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "before", "being", "both", "but", "by", "can", "could", "did", "do", "does", "each", "every",
    "for", "from", "had", "has", "have", "he", "her", "here", "his", "how", "i", "if", "in",
    "into", "is", "it", "its", "just", "let", "me", "more", "most", "much", "my", "next", "no",
    "not", "of", "on", "one", "or", "other", "our", "out", "over", "own", "per", "she", "should",
    "so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "through", "to", "too", "under", "up", "us", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "why", "will", "with", "would", "you",
    "your",
})  # fmt: skip
ENGLISH_FLOOR = 0.2
ENGLISH_MIN_WORDS = 8


def text_problems(where: str, tip: TipOut) -> list[str]:
    """Every reason the tip's text does not read as usable advice; `where` is "tip N"."""
    problems = _length(where, "title", tip.title, MIN_TITLE, MAX_TITLE, MIN_WORDS)
    problems += _length(where, "why", tip.why, MIN_WHY, MAX_WHY, 0)
    if not STEPS[0] <= len(tip.steps) <= STEPS[1]:
        problems.append(f"{where}: {STEPS[0]}-{STEPS[1]} steps, got {len(tip.steps)}")
    for number, step in enumerate(tip.steps, start=1):
        problems += _length(where, f"step {number}", step, MIN_STEP, MAX_STEP, MIN_WORDS)
    problems += _repeats(where, tip)
    problems += [
        f"{where}: {part} echoes the input data; write plain advice"
        for part, text in _parts(tip)
        if ECHO.search(text)
    ]
    if not reads_as_english(" ".join([tip.why, *tip.steps])):
        problems.append(f"{where}: why and steps must be written in plain English")
    return problems


def reads_as_english(text: str) -> bool:
    """The share of English function words among the words is above a floor (a heuristic)."""
    words = [w.lower() for w in WORD.findall(text)]
    if len(words) < ENGLISH_MIN_WORDS:
        return True  # too little to judge; the length checks speak for short text
    return sum(w in FUNCTION_WORDS for w in words) / len(words) >= ENGLISH_FLOOR


def _length(where: str, part: str, text: str, low: int, high: int, words: int) -> list[str]:
    if not low <= len(text.strip()) <= high:
        return [f"{where}: {part} must be {low}-{high} characters, got {len(text.strip())}"]
    if len(WORD.findall(text)) < words:
        return [f"{where}: {part} needs at least {words} words"]
    return []


def _parts(tip: TipOut) -> list[tuple[str, str]]:
    steps = [(f"step {n}", step) for n, step in enumerate(tip.steps, start=1)]
    return [("title", tip.title), ("why", tip.why), *steps]


def _normal(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))


def _repeats(where: str, tip: TipOut) -> list[str]:
    """Title, why and steps all differ; two steps with the same words (stemmed, without stop
    words, in any order) are one step said twice."""
    problems, parts = [], [(part, text) for part, text in _parts(tip) if _normal(text)]
    for later, (part, text) in enumerate(parts):
        for earlier, earlier_text in parts[:later]:
            same = _normal(text) == _normal(earlier_text)
            if not same and part.startswith("step") and earlier.startswith("step"):
                words = set(tokens(text))
                same = bool(words) and words == set(tokens(earlier_text))
            if same:
                earlier = earlier if earlier.startswith("step") else f"the {earlier}"
                problems.append(f"{where}: {part} repeats {earlier}")
                break
    return problems
