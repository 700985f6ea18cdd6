"""Inner-product FAISS index over unit vectors, addressed by int64 ids.

`flat` (exact, `IndexIDMap2` over `IndexFlatIP`) answers in 0.4 ms at 6,000 vectors
but scans every vector: 8 ms at 40,000. `hnsw` stays near 2 ms there; HNSW cannot
delete, so removed ids are masked and the graph is rebuilt from the live vectors
once a quarter of it is dead. The retriever re-scores candidates exactly, so the
approximate neighbour search only decides which entries are considered.

Searches run single-threaded: FAISS otherwise splits one query across all cores,
and on a busy 2-core machine that took 54 ms instead of 10 ms (40,000 vectors).

A saved index is a directory with `vectors.faiss` and `manifest.json` (model_id,
dim, count, kind); loading it for another model raises `IndexMismatch`, which tells
the caller to rebuild.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from retrieval.errors import IndexCorrupt, IndexMismatch, IndexNotBuilt

KINDS = ("flat", "hnsw")
MANIFEST_NAME = "manifest.json"
VECTORS_NAME = "vectors.faiss"


@dataclass(frozen=True)
class DenseManifest:
    model_id: str
    dim: int
    count: int
    kind: str
    format: int = 1


class FaissIndex:
    """Vectors under caller-chosen int64 ids; `search` returns (scores, ids)."""

    def __init__(
        self, dim: int, model_id: str, kind: str = "flat", hnsw_m: int = 32, ef_search: int = 128
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown FAISS index kind {kind!r}; expected one of {KINDS}")
        if dim <= 0:
            raise ValueError("dim must be positive")
        self.dim, self.model_id, self.kind = dim, model_id, kind
        self._hnsw_m, self._ef_search = hnsw_m, ef_search
        self._index = self._empty()
        self._dead: set[int] = set()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self._index.ntotal) - len(self._dead)

    def _empty(self) -> faiss.IndexIDMap2:
        if self.kind == "flat":
            return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        base = faiss.IndexHNSWFlat(self.dim, self._hnsw_m, faiss.METRIC_INNER_PRODUCT)
        base.hnsw.efSearch = self._ef_search
        return faiss.IndexIDMap2(base)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        if vectors.shape[1] != self.dim:
            raise ValueError(f"vectors have width {vectors.shape[1]}, index expects {self.dim}")
        with self._lock:
            self._index.add_with_ids(vectors, ids)

    def remove(self, ids: np.ndarray) -> int:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        with self._lock:
            if self.kind == "flat":
                return int(self._index.remove_ids(ids))
            self._dead.update(int(i) for i in ids)
            if len(self._dead) * 4 > self._index.ntotal:
                self._compact()
            return len(ids)

    def _compact(self) -> None:
        live = [i for i in faiss.vector_to_array(self._index.id_map) if int(i) not in self._dead]
        ids = np.array(live, dtype=np.int64)
        vectors = np.stack([self._index.reconstruct(int(i)) for i in ids]) if len(ids) else None
        self._index, self._dead = self._empty(), set()
        if vectors is not None:
            self._index.add_with_ids(vectors, ids)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` (scores, ids) per query row; missing slots have id -1."""
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        fetch = min(k + len(self._dead), max(int(self._index.ntotal), 1))
        with single_threaded():
            scores, ids = self._index.search(queries, fetch)
        if self._dead:
            dead = np.isin(ids, np.fromiter(self._dead, np.int64))
            scores, ids = np.where(dead, -np.inf, scores), np.where(dead, -1, ids)
            order = np.argsort(-scores, axis=1, kind="stable")
            scores, ids = np.take_along_axis(scores, order, 1), np.take_along_axis(ids, order, 1)
        return scores[:, :k], ids[:, :k]

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of `ids` (all must be present)."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if not len(ids):
            return np.empty((0, self.dim), np.float32)
        return np.asarray(self._index.reconstruct_batch(ids), np.float32)

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if self._dead:
                self._compact()
            faiss.write_index(self._index, str(directory / (VECTORS_NAME + ".tmp")))
            (directory / (VECTORS_NAME + ".tmp")).replace(directory / VECTORS_NAME)
            manifest = DenseManifest(self.model_id, self.dim, int(self._index.ntotal), self.kind)
            write_json(directory / MANIFEST_NAME, asdict(manifest))

    @classmethod
    def load(cls, directory: str | Path, model_id: str, dim: int) -> FaissIndex:
        """The index saved in `directory`, checked against the expected model."""
        manifest = read_manifest(Path(directory))
        if manifest.model_id != model_id or manifest.dim != dim:
            raise IndexMismatch(
                f"index at {directory} was built with {manifest.model_id} (dim {manifest.dim}),"
                f" not {model_id} (dim {dim})"
            )
        index = cls(dim, model_id, manifest.kind)
        index._index = read_index(Path(directory) / VECTORS_NAME, manifest)
        return index


@contextmanager
def single_threaded() -> Iterator[None]:
    """FAISS's OpenMP thread count is per calling thread; use one for this block."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def read_manifest(directory: Path) -> DenseManifest:
    path = directory / MANIFEST_NAME
    if not path.exists():
        raise IndexNotBuilt(f"no dense index at {directory}")
    try:
        return DenseManifest(**json.loads(path.read_text("utf-8")))
    except (ValueError, TypeError) as error:
        raise IndexCorrupt(f"unreadable manifest {path}: {error}") from error


def read_index(path: Path, manifest: DenseManifest) -> faiss.Index:
    try:
        index = faiss.read_index(str(path))
    except RuntimeError as error:
        raise IndexCorrupt(f"unreadable FAISS index {path}: {error}") from error
    if index.d != manifest.dim or index.ntotal != manifest.count:
        raise IndexCorrupt(f"{path} does not match its manifest")
    return index


def write_json(path: Path, data: object, indent: int | None = 1) -> None:
    """Write JSON atomically (temp file, then rename), so a crash leaves the old file."""
    temp = path.with_suffix(path.suffix + ".tmp")
    temp.write_text(json.dumps(data, ensure_ascii=False, indent=indent, default=str), "utf-8")
    temp.replace(path)
