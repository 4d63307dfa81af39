"""Does a tip read as advice a manager can use? Checks on its text alone, no numbers (those are
`grounding`'s): long enough to say something, no part repeating another, no echo of the JSON it
was given, written in the manager's language, and plain text: no link, e-mail address or markup the data did not
hold (a model obeying instructions injected into its input would otherwise mail them to people).

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
LETTERS = re.compile(r"[^\W\d_]+")

# The fences around text people wrote, in prompts (`openai_adapter`). Their tags, in any case or
# spacing, are taken out of the text they fence (`unfence`), so it can never close its fence.
FENCES = ("manager_goal", "module_text", "trainer_objective", "customer_comment")
FENCE_TAG = re.compile(r"<\s*/?\s*(?:" + "|".join(FENCES) + r")\s*>", re.IGNORECASE)

# The input's own field names and fences: a tip holding them is echoing the data, not advising.
_NAMES = {f.name for cls in (PlanRequest, FocusItem, GoalText, ModuleRef) for f in fields(cls)}
ECHO = re.compile(
    r'\{\s*"|"\s*:|<\s*/?\s*(?:'
    + "|".join(FENCES)
    + r")|\b(?:"
    + "|".join(sorted(name for name in _NAMES | {"module_slug"} if "_" in name))
    + r")\b",
    re.IGNORECASE,
)

# What a plain-text tip never holds unless the data did: links, e-mail addresses, markup.
LINK = re.compile(
    r"\b(?:https?://|www\.)[^\s<>\"']+"
    r"|(?<![@.\w-])(?:[a-z0-9-]+\.)+(?:com|net|org|info|biz|io|co|ai|app|dev|me|ly|xyz|site|online|link"
    r"|gov|edu|uk|de|fr|eu|us|ru|cn)\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
EMAIL = re.compile(r"[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.IGNORECASE)
MARKUP = re.compile(  # a fence's tag is not markup here but an echo (ECHO says so)
    r"<(?!/?(?:" + "|".join(FENCES) + r")\b)[!/?]?[a-z][^\s<>]*|<!--|\]\(|\b(?:java|vb)script\s*:",
    re.IGNORECASE,
)
_PLAIN = (("a link", LINK), ("an e-mail address", EMAIL), ("markup", MARKUP))

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
# French and Spanish hold together the same way; their most common function words.
FUNCTION_WORDS_BY_LANGUAGE = {
    "en": FUNCTION_WORDS,
    "fr": frozenset({
        "à", "au", "aux", "avec", "ce", "ces", "cette", "chaque", "dans", "de", "des", "du",
        "elle", "en", "est", "et", "il", "ils", "la", "le", "les", "leur", "leurs", "mais", "ne",
        "ni", "nos", "notre", "on", "ou", "où", "par", "pas", "plus", "pour", "qu", "que", "qui",
        "sa", "sans", "se", "ses", "si", "son", "sont", "sur", "un", "une", "vos", "votre",
        "vous", "y", "l", "d", "s", "n", "c", "j", "chez", "comme", "dont", "entre", "être",
        "fait", "faites", "tout", "tous", "toute", "toutes", "puis", "quand", "semaine",
    }),
    "es": frozenset({
        "a", "al", "con", "cada", "como", "cuando", "de", "del", "donde", "e", "el", "ella",
        "en", "entre", "es", "esa", "ese", "esta", "este", "estos", "hay", "la", "las", "le",
        "les", "lo", "los", "más", "mas", "no", "o", "para", "pero", "por", "que", "qué", "se",
        "sea", "si", "sin", "son", "su", "sus", "también", "un", "una", "uno", "unos", "usted",
        "y", "ya", "semana", "cómo", "muy", "hasta", "sobre", "todo", "todos", "toda",
    }),
}  # fmt: skip
LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish"}
ENGLISH_FLOOR = 0.2
ENGLISH_MIN_WORDS = 8


def unfence(text: str) -> str:
    """The text without any fence tag, even one its removal would join ("<manager<x>_goal>")."""
    while FENCE_TAG.search(text):
        text = FENCE_TAG.sub("", text)
    return text


def text_problems(where: str, tip: TipOut, request: PlanRequest | None = None) -> list[str]:
    """Every reason the tip's text does not read as usable advice; `where` is "tip N". A link,
    address or markup is allowed only when it is quoted from the request's module titles and
    summaries or the manager's goals (without the request, never)."""
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
    language = request.language if request is not None else "en"
    if not reads_as(" ".join([tip.why, *tip.steps]), language):
        name = LANGUAGE_NAMES.get(language, language)
        problems.append(f"{where}: why and steps must be written in plain {name}")
    return problems + plain_text_problems(where, tip, request) + quote_problems(where, tip, request)


# A quotation of three words or more, in straight or curly double quotes.
QUOTE = re.compile(
    r"[\"\u201c\u201d]([^\"\u201c\u201d]*?\w+\W+\w+\W+\w[^\"\u201c\u201d]*?)[\"\u201c\u201d]"
)


def _squashed(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))


def quote_problems(where: str, tip: TipOut, request: PlanRequest | None = None) -> list[str]:
    """A quotation must be real: words a customer wrote this week, a module's title or summary,
    a manager's goal or a category's name. A model that puts words in a customer's mouth is
    refused: "tip 1: the quote 'the queue was awful' is not in this week's comments"."""
    given = _squashed(_given_text(request) + "\n" + "\n".join(_comments_and_names(request)))
    problems = []
    for _, text in _parts(tip):
        for quoted in QUOTE.findall(text):
            if quoted.strip()[:1] in ":," or quoted.strip()[-1:] in ":,":
                continue  # between the quotes of echoed JSON (`"a": 1, "b"`): `ECHO` says so
            if _squashed(quoted) not in given:
                problems.append(
                    f"{where}: the quote {quoted.strip()!r} is not in this week's comments; "
                    "quote customers word for word or not at all"
                )
    return problems


def _comments_and_names(request: PlanRequest | None) -> list[str]:
    if request is None:
        return []
    return [*request.customer_comments, *(item.name for item in request.focus)]


def plain_text_problems(where: str, tip: TipOut, request: PlanRequest | None = None) -> list[str]:
    """Links, e-mail addresses and markup the data did not hold: "tip 1: a link is not allowed
    in why (https://x.io)"."""
    given = _given_text(request)
    problems = []
    for part, text in _parts(tip):
        for what, pattern in _PLAIN:
            for found in pattern.finditer(text):
                quoted = found[0] if pattern is MARKUP else found[0].rstrip(".,;:!?)]}'\"")
                if quoted.lower() not in given:
                    shown = text[found.start() :][:24] if pattern is MARKUP else quoted[:60]
                    problems.append(f"{where}: {what} is not allowed in {part} ({shown})")
                    break
    return problems


def _given_text(request: PlanRequest | None) -> str:
    """The free text of the request a tip may quote, lower case: modules' and goals' words."""
    if request is None:
        return ""
    texts = [text for m in request.modules for text in (m.title, m.summary)]
    texts += [goal.intent for goal in request.goals]
    return "\n".join(texts).lower()


def reads_as(text: str, language: str = "en") -> bool:
    """The share of the language's function words among the words is above a floor (a
    heuristic). An apostrophe splits French words ("l'équipe": "l", "équipe")."""
    known = FUNCTION_WORDS_BY_LANGUAGE.get(language, FUNCTION_WORDS)
    words = [w.lower() for w in (WORD if language == "en" else LETTERS).findall(text)]
    if len(words) < ENGLISH_MIN_WORDS:
        return True  # too little to judge; the length checks speak for short text
    return sum(w in known for w in words) / len(words) >= ENGLISH_FLOOR


def reads_as_english(text: str) -> bool:
    return reads_as(text, "en")


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
