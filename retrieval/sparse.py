"""Field-aware BM25 over title, similar questions, keywords and body.

Each field is scored with its own BM25 statistics (document frequency, average
length) and the fields are summed with weights, so a word in a short title counts
more than the same word deep in an answer. Since the weighted sum is linear, the
per-field weight matrices are added into one sparse matrix (documents x terms) and
a query is one column slice and a product.

Edits are cheap: each document keeps its term counts, and the matrix is rebuilt
from them on the first search after a change (about 0.3 s at 20,000 entries, see
`retrieval/benchmark.py`), instead of re-tokenising anything.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

FIELDS = ("title", "questions", "keywords", "body")
DEFAULT_FIELD_WEIGHTS: Mapping[str, float] = {
    "title": 3.0,
    "questions": 2.0,
    "keywords": 1.5,
    "body": 1.0,
}


@dataclass(frozen=True)
class FieldTerms:
    """One field of one document: term ids with their counts."""

    ids: np.ndarray
    counts: np.ndarray

    @property
    def length(self) -> int:
        return int(self.counts.sum())


@dataclass(frozen=True)
class Bm25Snapshot:
    """An immutable, searchable state of the index."""

    doc_ids: tuple[str, ...]
    matrix: sparse.csc_matrix = field(repr=False)
    positions: Mapping[str, int] = field(repr=False, default_factory=dict)


class Bm25Index:
    """BM25 over weighted fields with incremental `add` / `remove`.

    `analyze` turns text into terms, e.g. `ChineseTokenizer.terms`.
    """

    def __init__(
        self,
        analyze: Callable[[str], list[str]],
        field_weights: Mapping[str, float] = DEFAULT_FIELD_WEIGHTS,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> None:
        unknown = set(field_weights) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown BM25 fields: {sorted(unknown)}")
        self.analyze = analyze
        self.field_weights = dict(field_weights)
        self.k1, self.b = k1, b
        self._vocab: dict[str, int] = {}
        self._docs: dict[str, dict[str, FieldTerms]] = {}
        self._lock = threading.Lock()
        self._snapshot: Bm25Snapshot | None = None

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def add(self, doc_id: str, fields: Mapping[str, str | Sequence[str]]) -> None:
        """Index (or re-index) `doc_id`; a list value is analysed item by item."""
        self.add_tokens(doc_id, self.analyze_fields(fields))

    def analyze_fields(self, fields: Mapping[str, str | Sequence[str]]) -> dict[str, list[str]]:
        """Terms per field, computed without touching the index (so outside any lock)."""
        return {name: self._tokens(value) for name, value in fields.items() if name in FIELDS}

    def add_tokens(self, doc_id: str, fields: Mapping[str, Sequence[str]]) -> None:
        with self._lock:
            self._docs[doc_id] = {name: self._count(tokens) for name, tokens in fields.items()}
            self._snapshot = None

    def remove(self, doc_id: str) -> bool:
        with self._lock:
            found = self._docs.pop(doc_id, None) is not None
            self._snapshot = None if found else self._snapshot
        return found

    def scores(self, query: str | Sequence[str]) -> tuple[Bm25Snapshot, np.ndarray]:
        """The searched snapshot and every document's BM25 score for `query` (text or terms),
        aligned with `snapshot.doc_ids`."""
        snapshot = self.snapshot()
        terms = self.analyze(query) if isinstance(query, str) else list(query)
        counts = Counter(self._vocab[t] for t in terms if t in self._vocab)
        if not counts or not snapshot.doc_ids:
            return snapshot, np.zeros(len(snapshot.doc_ids), np.float32)
        columns = snapshot.matrix[:, list(counts)]
        weights = np.fromiter(counts.values(), np.float32, len(counts))
        return snapshot, np.asarray(columns @ weights, np.float32).ravel()

    def search(self, query: str | Sequence[str], k: int = 10) -> list[tuple[str, float]]:
        snapshot, scores = self.scores(query)
        top = np.argsort(-scores, kind="stable")[:k]
        return [(snapshot.doc_ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def snapshot(self) -> Bm25Snapshot:
        """The current searchable state, rebuilt first if an edit happened."""
        with self._lock:
            if self._snapshot is None:
                self._snapshot = self._rebuild()
            return self._snapshot

    def save(self, path: Path) -> None:
        """Term counts (not text) to an .npz file, so loading needs no tokenising."""
        with self._lock:
            doc_ids = list(self._docs)
            vocab = sorted(self._vocab, key=self._vocab.__getitem__)
            arrays: dict[str, np.ndarray] = {"doc_ids": json_bytes(doc_ids), "vocab": json_bytes(vocab)}
            for name in FIELDS:
                parts = [self._docs[d].get(name, EMPTY_TERMS) for d in doc_ids]
                arrays[f"{name}.lengths"] = np.array([len(p.ids) for p in parts], np.int64)
                arrays[f"{name}.ids"] = np.concatenate([EMPTY_TERMS.ids, *(p.ids for p in parts)])
                arrays[f"{name}.counts"] = np.concatenate(
                    [EMPTY_TERMS.counts, *(p.counts for p in parts)])
        temp = path.with_name(path.name + ".tmp.npz")
        np.savez(temp, **arrays)
        temp.replace(path)

    def load(self, path: Path) -> None:
        """Replace the contents with what `save` wrote."""
        with np.load(path, allow_pickle=False) as data:
            vocab = {term: i for i, term in enumerate(json.loads(data["vocab"].tobytes()))}
            doc_ids = list(json.loads(data["doc_ids"].tobytes()))
            docs: dict[str, dict[str, FieldTerms]] = {d: {} for d in doc_ids}
            for name in FIELDS:
                bounds = np.concatenate([[0], np.cumsum(data[f"{name}.lengths"])])
                ids, counts = data[f"{name}.ids"], data[f"{name}.counts"]
                for row, doc_id in enumerate(doc_ids):
                    lo, hi = bounds[row], bounds[row + 1]
                    docs[doc_id][name] = FieldTerms(ids[lo:hi].copy(), counts[lo:hi].copy())
        with self._lock:
            self._vocab, self._docs, self._snapshot = vocab, docs, None

    def _tokens(self, value: str | Sequence[str]) -> list[str]:
        items = [value] if isinstance(value, str) else value
        return [token for item in items for token in self.analyze(item)]

    def _count(self, tokens: Sequence[str]) -> FieldTerms:
        counter = Counter(self._vocab.setdefault(t, len(self._vocab)) for t in tokens)
        ids = np.fromiter(counter.keys(), np.int32, len(counter))
        return FieldTerms(ids, np.fromiter(counter.values(), np.float32, len(counter)))

    def _rebuild(self) -> Bm25Snapshot:
        doc_ids = tuple(self._docs)
        shape = (len(doc_ids), max(len(self._vocab), 1))
        total = sparse.csc_matrix(shape, dtype=np.float32)
        for name, weight in self.field_weights.items():
            parts = [self._docs[d].get(name, EMPTY_TERMS) for d in doc_ids]
            total = total + weight * self._field_matrix(parts, shape)
        positions = {doc_id: i for i, doc_id in enumerate(doc_ids)}
        return Bm25Snapshot(doc_ids, sparse.csc_matrix(total, dtype=np.float32), positions)

    def _field_matrix(self, parts: list[FieldTerms], shape: tuple[int, int]) -> sparse.csc_matrix:
        lengths = np.array([len(p.ids) for p in parts], np.int64)
        if not lengths.sum():
            return sparse.csc_matrix(shape, dtype=np.float32)
        rows = np.repeat(np.arange(len(parts)), lengths)
        cols = np.concatenate([p.ids for p in parts])
        tf = np.concatenate([p.counts for p in parts])
        doc_len = np.array([p.length for p in parts], np.float32)
        norm = self.k1 * (1 - self.b + self.b * doc_len / max(float(doc_len.mean()), 1e-9))
        df = np.bincount(cols, minlength=shape[1])
        idf = np.log1p((len(parts) - df + 0.5) / (df + 0.5)).astype(np.float32)
        data = idf[cols] * tf * (self.k1 + 1) / (tf + norm[rows])
        return sparse.csc_matrix((data, (rows, cols)), shape=shape, dtype=np.float32)


def json_bytes(values: list[str]) -> np.ndarray:
    """Strings as one JSON byte array: a fixed-width numpy string array would pad every
    term to the longest one (a URL) and make the file a hundred times larger."""
    return np.frombuffer(json.dumps(values, ensure_ascii=False).encode(), np.uint8)


EMPTY_TERMS = FieldTerms(np.empty(0, np.int32), np.empty(0, np.float32))
