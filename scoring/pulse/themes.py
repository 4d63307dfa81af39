"""What a week's comments are about, counted: themes a manager (and the coach) can act on
without reading anyone's words, which is how team comments are shown at all.

A fixed lexicon rather than a model: the same comments always give the same themes, offline,
and a theme's name is ours, never a respondent's text. Names are marked for translation but stay
English here, for the coach's prompt; a page shows one in the reader's language (`label`)."""

import re
from collections import Counter
from collections.abc import Iterable

from django.utils.translation import gettext, gettext_noop

THEMES: dict[str, tuple[str, ...]] = {
    gettext_noop("waiting and queues"): (
        "queue",
        "wait",
        "waited",
        "waiting",
        "slow",
        "line",
        "busy",
    ),
    gettext_noop("friendly, helpful staff"): (
        "friendly",
        "helpful",
        "kind",
        "lovely",
        "polite",
        "welcom",
    ),
    gettext_noop("unhelpful or rude staff"): (
        "rude",
        "unhelpful",
        "ignored",
        "attitude",
        "unfriendly",
    ),
    gettext_noop("products out of stock"): (
        "out of stock",
        "sold out",
        "empty shel",
        "couldn't find",
        "no stock",
    ),
    gettext_noop("prices and promotions"): (
        "price",
        "expensive",
        "cheap",
        "offer",
        "discount",
        "promotion",
        "deal",
    ),
    gettext_noop("checkout and payment"): (
        "checkout",
        "till",
        "card",
        "payment",
        "self-checkout",
        "receipt",
    ),
    gettext_noop("cleanliness and tidiness"): ("clean", "dirty", "mess", "tidy", "smell"),
    gettext_noop("schedules and hours"): ("schedule", "rota", "shift", "hours", "overtime"),
    gettext_noop("training and support"): ("training", "trained", "support", "coach", "help me"),
    gettext_noop("recognition and pay"): (
        "recognis",
        "recogniz",
        "thank",
        "appreciat",
        "pay ",
        "wage",
        "bonus",
    ),
    gettext_noop("workload and staffing"): (
        "understaffed",
        "short-staffed",
        "too much",
        "workload",
        "tired",
    ),
    gettext_noop("local community"): ("community", "local", "event", "charity", "neighbour"),
}
_PATTERNS = {
    theme: re.compile("|".join(r"\b" + re.escape(word) for word in words), re.IGNORECASE)
    for theme, words in THEMES.items()
}


def label(theme: str) -> str:
    """A theme's name in the active language."""
    return gettext(theme)


def themes_of(comments: Iterable[str], *, top: int = 5) -> list[tuple[str, int]]:
    """The most mentioned themes as (theme, comments mentioning it), most first."""
    counts: Counter[str] = Counter()
    for comment in comments:
        counts.update(theme for theme, pattern in _PATTERNS.items() if pattern.search(comment))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
