"""What a week's comments are about, counted: themes a manager (and the coach) can act on
without reading anyone's words, which is how team comments are shown at all.

A fixed lexicon rather than a model: the same comments always give the same themes, offline,
and a theme's name is ours, never a respondent's text."""

import re
from collections import Counter
from collections.abc import Iterable

THEMES: dict[str, tuple[str, ...]] = {
    "waiting and queues": ("queue", "wait", "waited", "waiting", "slow", "line", "busy"),
    "friendly, helpful staff": ("friendly", "helpful", "kind", "lovely", "polite", "welcom"),
    "unhelpful or rude staff": ("rude", "unhelpful", "ignored", "attitude", "unfriendly"),
    "products out of stock": (
        "out of stock",
        "sold out",
        "empty shel",
        "couldn't find",
        "no stock",
    ),
    "prices and promotions": (
        "price",
        "expensive",
        "cheap",
        "offer",
        "discount",
        "promotion",
        "deal",
    ),
    "checkout and payment": ("checkout", "till", "card", "payment", "self-checkout", "receipt"),
    "cleanliness and tidiness": ("clean", "dirty", "mess", "tidy", "smell"),
    "schedules and hours": ("schedule", "rota", "shift", "hours", "overtime"),
    "training and support": ("training", "trained", "support", "coach", "help me"),
    "recognition and pay": ("recognis", "recogniz", "thank", "appreciat", "pay ", "wage", "bonus"),
    "workload and staffing": ("understaffed", "short-staffed", "too much", "workload", "tired"),
    "local community": ("community", "local", "event", "charity", "neighbour"),
}
_PATTERNS = {
    theme: re.compile("|".join(r"\b" + re.escape(word) for word in words), re.IGNORECASE)
    for theme, words in THEMES.items()
}


def themes_of(comments: Iterable[str], *, top: int = 5) -> list[tuple[str, int]]:
    """The most mentioned themes as (theme, comments mentioning it), most first."""
    counts: Counter[str] = Counter()
    for comment in comments:
        counts.update(theme for theme, pattern in _PATTERNS.items() if pattern.search(comment))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
