"""Which published modules fit a focus category and a manager's goal: deterministic ranking.

Only modules whose own (primary) category is the focus category are offered: the training linked
to a tip is of the tip's category, never one that only touches it as a secondary category. Order:
text relevance of the module (title, summary, body) to the goal text and the category by BM25,
and modules the manager already completed go after the rest. Ties break on the slug so the order
never wobbles.
"""

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from ..text import tokens

K1, B = 1.2, 0.75  # the usual BM25 constants
TITLE_WEIGHT = 3  # words in a title count three times: a title says what a module is about


@dataclass(frozen=True)
class Candidate:
    slug: str
    title: str
    summary: str
    body: str
    category: str
    secondary_category: str | None = None
    language: str = "en"
    original: str = ""  # the slug of the module this one translates; "" for an original

    @property
    def group(self) -> str:
        """One key for a module and its language versions."""
        return self.original or self.slug

    @cached_property
    def document(self) -> list[str]:
        return tokens(self.title) * TITLE_WEIGHT + tokens(f"{self.summary} {self.body}")


def bm25_scores(query: Iterable[str], documents: Sequence[list[str]]) -> list[float]:
    query = list(dict.fromkeys(query))
    if not documents:
        return []
    average = sum(len(d) for d in documents) / len(documents) or 1.0
    frequency = Counter(term for d in documents for term in set(d))
    n = len(documents)
    scores = []
    for document in documents:
        counts = Counter(document)
        score = 0.0
        for term in query:
            tf = counts.get(term, 0)
            if not tf:
                continue
            idf = math.log(1 + (n - frequency[term] + 0.5) / (frequency[term] + 0.5))
            score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(document) / average))
        scores.append(score)
    return scores


def rank_modules(
    candidates: Sequence[Candidate],
    *,
    category: str,
    goal_text: str = "",
    category_words: str = "",
    completed: frozenset[str] | set[str] = frozenset(),
    limit: int = 3,
    language: str = "en",
) -> list[Candidate]:
    """The best `limit` modules of a focus category (their primary category), each module once:
    in the reader's language where it has a version in it. A module taken in one language counts
    as taken in all."""
    done = {c.group for c in candidates if c.slug in completed}
    library = in_language(candidates, language)
    # Word statistics over the whole library: a word every module of the category uses still
    # tells it apart from the rest, and the goal's own words weigh as they should.
    relevance = bm25_scores(tokens(f"{goal_text} {category_words}"), [c.document for c in library])
    matching = [
        pair for pair in zip(library, relevance, strict=True) if pair[0].category == category
    ]
    ranked = sorted(
        matching,
        key=lambda pair: (pair[0].group in done, -round(pair[1], 9), pair[0].slug),
    )
    return [candidate for candidate, _ in ranked[:limit]]


def in_language(candidates: Sequence[Candidate], language: str) -> list[Candidate]:
    """Each module once: its version in `language` if there is one, else the original (or, with
    the original unpublished, its first version)."""
    chosen: dict[str, Candidate] = {}
    for c in candidates:
        held = chosen.get(c.group)
        if held is None or _preference(c, language) < _preference(held, language):
            chosen[c.group] = c
    return list(chosen.values())


def _preference(candidate: Candidate, language: str) -> tuple[bool, bool, str]:
    return (candidate.language != language, bool(candidate.original), candidate.slug)


class LinkedTip(Protocol):
    """A coach's tip, as far as its module goes (`coaching.llm.schemas.TipOut`)."""

    category: str
    module_slug: str | None


def module_of_category(tip: LinkedTip, offered: Sequence[tuple[str, str]]) -> str | None:
    """The module to link to a tip: the one its coach chose when it is of the tip's category,
    else the best offered one that is (`offered` holds (slug, category), best first), else none.
    A coach (an LLM) may pick a module of another focus category; the tip's training must still
    be about what the tip is about. A tip its coach gave no module keeps none."""
    own = [slug for slug, code in offered if code == tip.category]
    if tip.module_slug is None or tip.module_slug in own:
        return tip.module_slug
    return own[0] if own else None
