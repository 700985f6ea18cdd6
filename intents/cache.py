"""Embeddings of training examples kept beside the model, so a retrain after an edit to the
YAML only encodes the new lines (encoding is most of the training time)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from intents.encoder import Matrix, TextEncoder


class EmbeddingCache:
    def __init__(self, directory: Path, encoder: TextEncoder) -> None:
        digest = hashlib.sha256(encoder.model_id.encode("utf-8")).hexdigest()[:16]
        self._path = directory / f"embeddings-{digest}.npz"
        self._encoder = encoder
        self._vectors = self._read()

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Rows for `texts`; the cache then holds exactly these texts (lines deleted from the
        YAML leave it)."""
        missing = sorted({text for text in texts if text not in self._vectors})
        fresh: dict[str, Matrix] = {}
        if missing:
            fresh = dict(zip(missing, self._encoder.embed_queries(missing), strict=True))
        wanted = set(texts)
        if fresh or len(wanted) != len(self._vectors):
            self._vectors = {t: v for t, v in (self._vectors | fresh).items() if t in wanted}
            self._write()
        return np.vstack([self._vectors[text] for text in texts]).astype(np.float32)

    def _read(self) -> dict[str, Matrix]:
        try:
            with np.load(self._path, allow_pickle=False) as stored:
                return dict(zip(stored["texts"].tolist(), stored["vectors"], strict=True))
        except (OSError, KeyError, ValueError):
            return {}  # absent or damaged: it is only a cache

    def _write(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._path.with_suffix(".tmp.npz")
        texts = list(self._vectors)
        vectors = np.vstack([self._vectors[text] for text in texts])
        np.savez(partial, texts=np.array(texts), vectors=vectors)
        partial.replace(self._path)
