"""Personal data out of a respondent's comment before it is stored: e-mail addresses, phone and
card numbers, links, and names people give ("my name is Sam", "ask for Priya", "signed, Jo").

A comment is read by the store's manager and sent to the coach; neither needs to know who wrote
it or how to reach them. The patterns err on the side of removing: a lost word costs less than a
leaked number."""

import re

EMAIL = re.compile(r"[\w.+-]+\s*(?:@|\(at\))\s*[\w-]+(?:\s*(?:\.|\(dot\))\s*[\w-]+)+", re.I)
LINK = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
# Seven or more digits, allowing spaces, dots, dashes, brackets and a leading +: phone numbers,
# card and account numbers. Prices ("£4.50") and times ("20 minutes") are shorter.
LONG_NUMBER = re.compile(r"(?<![\w])\+?\d(?:[\s().-]*\d){6,}(?![\w])")
_NAME = r"[A-Z][\w'\u2019-]+(?:\s+[A-Z][\w'\u2019-]+)?"
# A name introduced by the writer or pointing at a person. Case-insensitive cues, capitalised name.
NAME_AFTER = re.compile(
    r"(?i:\b(?:my name is|my name's|i am called|i'm called|call me|this is|signed|regards|"
    r"thanks from|from|ask for|served by|helped by|cashier|manager|colleague|staff member|"
    r"je m'appelle|me llamo|mi nombre es)\b[\s,:-]*)"
    r"(" + _NAME + r")"
)
# "I'm Sam" / "I am Sam" (capitalised, so "I am happy" stays).
SELF_NAME = re.compile(r"\b(?:I'm|I am|Im)\s+(" + _NAME + r")\b")
NOT_NAMES = frozenset(
    [
        "The",
        "A",
        "An",
        "This",
        "That",
        "It",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "Very",
        "Really",
        "So",
        "Not",
        "Here",
        "There",
        "Today",
        "Yesterday",
        "Happy",
        "Sure",
        "Glad",
        "Sorry",
        "Back",
        "New",
        "Just",
    ]
)


def _name(match: re.Match) -> str:
    name = match.group(1)
    if name.split()[0] in NOT_NAMES:
        return match.group(0)
    return match.group(0)[: match.start(1) - match.start(0)] + "[name]"


def scrub(text: str, *, limit: int) -> str:
    """The comment without personal data, whitespace tidied, at most `limit` characters."""
    text = " ".join(text.split())
    text = EMAIL.sub("[email]", text)
    text = LINK.sub("[link]", text)
    text = LONG_NUMBER.sub("[number]", text)
    text = NAME_AFTER.sub(_name, text)
    text = SELF_NAME.sub(_name, text)
    return text[:limit].strip()
