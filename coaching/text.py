"""Words for matching text: lower-case, without stop words, stemmed. Pure, no Django: the
module recommender and the playbook coach both compare text with it."""

import re
import threading
from functools import lru_cache

import snowballstemmer

TOKEN = re.compile(r"[a-z0-9]+")
STOP = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "get", "has", "have", "i",
    "in", "is", "it", "its", "of", "on", "or", "our", "so", "that", "the", "their", "them",
    "they", "this", "to", "up", "us", "we", "with", "what", "when", "will", "you", "your",
    "back", "more"
})  # fmt: skip
_local = threading.local()  # a stemmer keeps state while it works: one per thread


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    if not hasattr(_local, "stemmer"):
        _local.stemmer = snowballstemmer.stemmer("english")
    return _local.stemmer.stemWord(word)


def tokens(text: str) -> list[str]:
    """Lower-case words without stop words, stemmed: "reviews" and "reviewers" match."""
    return [stem(t) for t in TOKEN.findall(text.lower()) if t not in STOP and len(t) > 1]
