"""Hybrid retrieval: several e5 vectors per entry fused with field BM25 at score level.

For a query, candidates come from the nearest vectors and the best BM25 entries.
Each candidate gets

    fused = dense + sparse_weight * bm25 / best_bm25 + coverage_weight * title_coverage

where `dense` is the best cosine over the entry's vectors (title and similar
questions embedded as e5 queries, plus one title-and-body-head passage that gets
`passage_offset`, because a question-to-answer cosine runs lower than a
question-to-question one). An entry that also has similar questions gets the smaller
`paraphrased_offset` and `paraphrased_bonus` on both sides: its questions already cover
the ways citizens ask, so a close question counts for more and the passage for less (with
the full offset, "办营业执照" went to the licence-reissue guide, whose passage was nearest;
our own set: hit@1 0.909 -> 0.959, refusals unchanged; retrieval/README.md). And
`title_coverage` is the share of the title's character bigrams found in the query, which
finds keyword-style titles (身体条件, 驾驶证、审验、情形). Scores, not ranks, are fused: reciprocal-rank fusion
throws away how sure each side is (dev set: 0.87 hit@1 against 0.94).

`Hit.score` is `sigmoid(scale * (fused - center))`, fitted on labelled questions
(`python -m retrieval.experiment` prints the fit); `confident` compares the top score
with `threshold`. Those constants belong to the default e5 model: recalibrate
after changing the embedder.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from knowledge_base.text import normalize_text
from retrieval.catalog import Catalog
from retrieval.dense import FaissIndex
from retrieval.embed import Embedder
from retrieval.errors import IndexNotBuilt
from retrieval.lock import ReadWriteLock
from retrieval.rerank import CrossEncoderReranker, Reranker
from retrieval.sparse import Bm25Index
from retrieval.tokenize import ChineseTokenizer, strip_filler

__all__ = ["CrossEncoderReranker", "FusionConfig", "Hit", "HybridRetriever", "SearchResult"]

# Midway between the lowest-scoring dev question (0.45) and the highest of our own
# out-of-scope questions (0.29): every dev question answered, all of ours and 97.7% of
# outside chit-chat refused (retrieval/README.md, "No-answer threshold").
DEFAULT_THRESHOLD = 0.37


@dataclass(frozen=True)
class Hit:
    entry_id: str
    title: str
    kind: str
    score: float  # calibrated 0-1 confidence that this entry answers the query
    matched: str  # the title or similar question that matched best
    current: bool  # False: a policy no longer in force (see the entry's replaced_by)


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[Hit, ...]
    confident: bool  # hits[0] clears the no-answer threshold
    query: str


@dataclass(frozen=True)
class FusionConfig:
    passage_offset: float = 0.05  # entries whose only question is the title (imported FAQs)
    paraphrased_offset: float = 0.02  # entries with similar questions too
    paraphrased_bonus: float = 0.015  # added to both sides of such an entry's dense score
    sparse_weight: float = 0.03
    coverage_weight: float = 0.015
    stale_penalty: float = 0.005  # breaks ties in favour of a policy still in force
    dense_depth: int = 64  # nearest vectors fetched from FAISS
    sparse_depth: int = 32  # best BM25 entries added as candidates
    scale: float = 42.0  # fitted: python -m retrieval.experiment (calibration table)
    center: float = 0.986
    dense_weight: float = 1.0  # 0 leaves BM25 alone (for comparisons)

    def fuse(self, found: Candidates) -> np.ndarray:
        paraphrased = found.paraphrased
        offset = np.where(paraphrased, self.paraphrased_offset, self.passage_offset)
        dense = (np.maximum(found.question, found.passage + offset)
                 + np.where(paraphrased, self.paraphrased_bonus, 0.0))
        return (self.dense_weight * dense + self.sparse_weight * found.bm25
                + self.coverage_weight * found.coverage - self.stale_penalty * ~found.current)

    def calibrate(self, fused: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.scale * (fused - self.center)))


@dataclass(frozen=True)
class Candidates:
    """Fusion features of the candidate entries for one query, aligned by position."""

    ids: list[str]
    question: np.ndarray  # best cosine over the title and similar questions
    passage: np.ndarray  # cosine of the title-and-body passage (-1 when there is none)
    paraphrased: np.ndarray  # the entry has similar questions besides its title
    bm25: np.ndarray  # BM25 divided by the query's best BM25
    coverage: np.ndarray  # share of title bigrams found in the query
    current: np.ndarray  # policy in force today
    matched: list[str]


class QueryCache:
    """LRU of search results; `generation` guards against caching across an edit."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[Any, ...], SearchResult] = OrderedDict()
        self._lock = threading.Lock()
        self.generation = 0

    def get(self, key: tuple[Any, ...]) -> SearchResult | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: tuple[Any, ...], result: SearchResult, generation: int) -> None:
        with self._lock:
            if generation != self.generation or not self._size:
                return
            self._items[key] = result
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.generation += 1


class HybridRetriever:
    """Searches the indexes a `KnowledgeIndex` maintains; safe to call from many threads."""

    def __init__(
        self,
        embedder: Embedder,
        tokenizer: ChineseTokenizer,
        sparse: Bm25Index,
        dense: FaissIndex,
        catalog: Catalog,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        fusion: FusionConfig | None = None,
        reranker: Reranker | None = None,
        rerank_depth: int = 10,
        rerank_weight: float = 0.5,
        cache_size: int = 1024,
        lock: ReadWriteLock | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        ready: bool = True,
    ) -> None:
        if not 0.0 <= threshold <= 1.0 or not 0.0 <= rerank_weight <= 1.0:
            raise ValueError("threshold and rerank_weight must lie in [0, 1]")
        self.embedder, self.tokenizer = embedder, tokenizer
        self.sparse, self.dense, self.catalog = sparse, dense, catalog
        self.threshold, self.fusion = threshold, fusion or FusionConfig()
        self.reranker, self.rerank_depth, self.rerank_weight = reranker, rerank_depth, rerank_weight
        self.cache = QueryCache(cache_size)
        self._lock = lock or ReadWriteLock()
        self._today = today
        self._title_grams: dict[str, frozenset[str]] = {}
        self.ready = ready  # False until the owning KnowledgeIndex has built or loaded

    def search(self, query: str, k: int = 5) -> SearchResult:
        """The `k` best entries for `query`, best first; raises IndexNotBuilt before a build."""
        if not self.ready:
            raise IndexNotBuilt("build or load the knowledge index before searching")
        text = strip_filler(query)
        key = (self.tokenizer.normalize(text), k, self._today())
        cached = self.cache.get(key)
        if cached is not None:
            return replace(cached, query=query)
        # The intent model embeds this same normalised text first, so with the shared
        # RecentQueries memo this costs nothing (dev hit@1 is the same as embedding `text`).
        # Outside the lock: edits need not wait.
        vector = self.embedder.embed_queries([normalize_text(query) or text])[0]
        generation = self.cache.generation
        result = replace(self.search_vector(text, vector, k), query=query)
        self.cache.put(key, result, generation)
        return result

    def guides_about(self, terms: Sequence[str]) -> list[tuple[str, str]]:
        """(id, title) of the service guides whose title holds one of `terms` or that have
        one of them as a keyword, in the order the index holds them: a matter's services,
        for a citizen who named only the matter ("办身份证")."""
        wanted = [term.lower() for term in terms if term]
        with self._lock.read():
            return [
                (entry.entry_id, entry.title)
                for entry in self.catalog.guides.values()
                if any(
                    term in entry.title.lower() or term in (k.lower() for k in entry.keywords)
                    for term in wanted
                )
            ]

    def search_vector(self, text: str, vector: np.ndarray, k: int = 5) -> SearchResult:
        """Search with a query already cleaned and embedded (no cache)."""
        with self._lock.read():
            hits = self.rank(text, vector, k)
        return SearchResult(hits, bool(hits) and hits[0].score >= self.threshold, text)

    def rank(self, text: str, vector: np.ndarray, k: int) -> tuple[Hit, ...]:
        """Hits for an already embedded query; the caller holds the read lock."""
        found = self.candidates(text, vector)
        if not found.ids:
            return ()
        fused = self.fusion.fuse(found)
        depth = max(k, self.rerank_depth) if self.reranker else k
        order = np.argsort(-fused, kind="stable")[:depth]
        scores = self.fusion.calibrate(fused[order])
        if self.reranker is not None:
            order, scores = self._rerank(text, [found.ids[i] for i in order], order, scores)
        return tuple(self._hit(found.ids[i], float(s), found.matched[i], bool(found.current[i]))
                     for i, s in zip(order[:k], scores[:k], strict=False))

    def candidates(self, text: str, vector: np.ndarray) -> Candidates:
        """Entries near the query vector or strong in BM25, with every fusion feature."""
        ids, bm25 = self._candidate_ids(text, vector)
        question, passage, matched = self._dense_scores(ids, vector)
        today, entries = self._today(), self.catalog.entries
        current = np.array([entries[i].is_current(today) for i in ids], bool)
        paraphrased = np.array([entries[i].paraphrased for i in ids], bool)
        return Candidates(ids, question, passage, paraphrased, bm25, self._coverage(ids, text),
                          current, matched)

    def _candidate_ids(self, text: str, vector: np.ndarray) -> tuple[list[str], np.ndarray]:
        _, vector_ids = self.dense.search(vector[None, :], self.fusion.dense_depth)
        owners, entries = self.catalog.owners, self.catalog.entries
        ids = dict.fromkeys(owners[int(v)].entry_id for v in vector_ids[0] if int(v) in owners)
        snapshot, raw = self.sparse.scores(text)
        best = float(raw.max()) if raw.size else 0.0
        if best > 0:
            depth = min(self.fusion.sparse_depth, raw.size)
            top = np.argpartition(-raw, depth - 1)[:depth]
            ids.update((snapshot.doc_ids[i], None) for i in top if raw[i] > 0)
        kept = [i for i in ids if i in entries]
        positions = snapshot.positions
        bm25 = np.array([raw[positions[i]] / best if best > 0 and i in positions else 0.0
                         for i in kept], np.float32)
        return kept, bm25

    def _dense_scores(self, ids: list[str], vector: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Per entry: best cosine over title and similar questions, the passage cosine,
        and the text that matched best."""
        entries, vector_ids = self.catalog.entries, self.catalog.vector_ids
        rows = np.repeat(np.arange(len(ids)), [len(vector_ids[i]) for i in ids])
        flat = np.fromiter((v for i in ids for v in vector_ids[i]), np.int64, len(rows))
        texts = [t for i in ids for t in entries[i].dense_texts]
        is_passage = np.array([t.label == "passage" for t in texts], bool)
        sims = self.dense.reconstruct(flat) @ vector
        question = np.full(len(ids), -1.0, np.float32)
        passage = np.full(len(ids), -1.0, np.float32)
        np.maximum.at(question, rows[~is_passage], sims[~is_passage])
        np.maximum.at(passage, rows[is_passage], sims[is_passage])
        matched = [entries[i].title for i in ids]
        for row, sim in enumerate(sims):
            if texts[row].label == "question" and sim == question[rows[row]]:
                matched[rows[row]] = texts[row].text
        return question, passage, matched

    def _coverage(self, ids: list[str], text: str) -> np.ndarray:
        """Share of each title's character bigrams that occur in the query."""
        query = frozenset(self.tokenizer.bigrams(text))
        titles = [self._grams(self.catalog.entries[i].title) for i in ids]
        return np.array([len(t & query) / len(t) if t else 0.0 for t in titles], np.float32)

    def _grams(self, title: str) -> frozenset[str]:
        grams = self._title_grams.get(title)
        if grams is None:
            if len(self._title_grams) > 200_000:
                self._title_grams.clear()
            grams = self._title_grams[title] = frozenset(self.tokenizer.bigrams(title))
        return grams

    def _rerank(
        self, text: str, ids: list[str], order: np.ndarray, scores: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        assert self.reranker is not None
        passages = [rerank_text(self.catalog.entries[i]) for i in ids]
        blended = ((1 - self.rerank_weight) * scores
                   + self.rerank_weight * self.reranker.score(text, passages))
        new = np.argsort(-blended, kind="stable")
        return order[new], blended[new]

    def _hit(self, entry_id: str, score: float, matched: str, current: bool) -> Hit:
        entry = self.catalog.entries[entry_id]
        return Hit(entry_id, entry.title, entry.kind, round(score, 4), matched, current)


def rerank_text(entry: Any) -> str:
    """What the cross-encoder reads of an entry: its passage text, else its title."""
    passages = [t.text for t in entry.dense_texts if t.label == "passage"]
    return passages[0] if passages else entry.title
