"""Stand-ins for the intent model and the hybrid retriever, used only while `server` cannot
be imported (the core is being assembled): small and deterministic, for plumbing tests of
the channel that assert nothing about retrieval quality beyond the obvious."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from knowledge_base.models import Entry

HUMAN_WORDS = ("转人工", "人工客服", "人工服务")
CONFIDENT_SHARE = 0.35  # of the query's bigrams found in the best entry


@dataclass(frozen=True)
class Prediction:
    name: str
    confidence: float

    def to_rasa(self, text: str) -> dict[str, Any]:
        intent = {"name": self.name, "confidence": self.confidence}
        return {"text": text, "intent": intent, "intent_ranking": [intent], "entities": []}


class KeywordClassifier:
    """A request for a human by its words, else a question about a service."""

    def parse(self, text: str) -> Prediction:
        if any(word in text for word in HUMAN_WORDS) or text.strip() == "人工":
            return Prediction("request_human", 1.0)
        return Prediction("ask_service_guide", 0.6)


@dataclass  # the router's Hit protocol has plain (settable) attributes
class Hit:
    entry_id: str
    title: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[Hit, ...]
    confident: bool


def bigrams(text: str) -> Counter[str]:
    chars = [c for c in text if c.isalnum()]
    return Counter(a + b for a, b in pairwise(chars))


class SparseRetriever:
    """Character-bigram overlap with each entry's title, questions and keywords."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self._entries = list(entries)
        self._docs = [
            (e.id, e.title, bigrams(" ".join([e.title, e.title, *e.questions, *e.keywords])))
            for e in entries
        ]

    def guides_about(self, terms: Sequence[str]) -> list[tuple[str, str]]:
        return [(e.id, e.title) for e in self._entries if e.kind == "guide"
                and any(t in e.title or t in e.keywords for t in terms)]

    def search(self, query: str, k: int = 5) -> SearchResult:
        wanted = bigrams(query)
        if not wanted:
            return SearchResult((), False)
        scored = sorted(
            ((sum(min(n, doc[g]) for g, n in wanted.items()), i, t) for i, t, doc in self._docs),
            reverse=True,
        )[:k]
        scored = [s for s in scored if s[0] > 0]
        if not scored:
            return SearchResult((), False)
        top = scored[0][0]
        hits = tuple(Hit(i, t, s / top) for s, i, t in scored)
        return SearchResult(hits, top / sum(wanted.values()) >= CONFIDENT_SHARE)
