"""Stand-ins for the intent model and hybrid retriever while the core is being assembled:
the real keyword rules and a real BM25 index over the demo content, nothing faked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from intents.classifier import IntentPrediction, IntentScore
from intents.rules import KeywordRules
from knowledge_base.models import Entry
from retrieval.sparse import Bm25Index
from retrieval.tokenize import ChineseTokenizer

CONFIDENT_SCORE = 8.0


class KeywordClassifier:
    """The keyword rules, else a question about a service."""

    def __init__(self) -> None:
        self._rules = KeywordRules()

    def parse(self, text: str) -> IntentPrediction:
        found = self._rules.match(text)
        if found is not None:
            return found
        score = IntentScore("ask_service_guide", 0.6)
        return IntentPrediction(score, (score,), source="threshold")


@dataclass  # the router's Hit protocol has plain (settable) attributes
class Hit:
    entry_id: str
    title: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[Hit, ...]
    confident: bool


class SparseRetriever:
    """BM25 over the entries; scores scaled to the best hit, as the router expects."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self._index = Bm25Index(ChineseTokenizer())
        self._titles = {e.id: e.title for e in entries}
        for entry in entries:
            self._index.add(entry.id, {"title": entry.title, "questions": list(entry.questions),
                                       "keywords": list(entry.keywords), "body": entry.text or ""})

    def search(self, query: str, k: int = 5) -> SearchResult:
        found = self._index.search(query, k)
        if not found:
            return SearchResult((), False)
        top = found[0][1]
        hits = tuple(Hit(i, self._titles[i], s / top) for i, s in found)
        return SearchResult(hits, top >= CONFIDENT_SCORE)
