"""Optional second-stage reranking of the fused candidates with a cross-encoder.

A cross-encoder reads query and passage together, so it is slower than the
bi-encoder (one forward pass per candidate) and only worth configuring with a
model trained for Chinese question matching; nothing here needs one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from retrieval.embed import import_sentence_transformers
from retrieval.errors import EmbedderUnavailable


class Reranker(Protocol):
    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        """0-1 relevance of each passage to `query`."""
        ...


class CrossEncoderReranker:
    """A local sentence-transformers `CrossEncoder` directory (the optional `st` extra)."""

    def __init__(self, path: str | Path, device: str = "cpu", max_length: int = 256) -> None:
        self._model = load_cross_encoder(Path(path), device, max_length)
        self._lock = threading.Lock()

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        if not passages:
            return np.empty(0, np.float32)
        with self._lock:
            raw = np.asarray(self._model.predict([(query, p) for p in passages]), np.float32)
        raw = raw.reshape(len(passages), -1)[:, -1]
        if raw.min() >= 0.0 and raw.max() <= 1.0:
            return raw
        return (1.0 / (1.0 + np.exp(-raw))).astype(np.float32)


def load_cross_encoder(path: Path, device: str, max_length: int) -> Any:
    module = import_sentence_transformers()
    if not path.is_dir():
        raise EmbedderUnavailable(f"reranker model directory not found: {path}")
    return module.CrossEncoder(str(path), device=device, max_length=max_length,
                               local_files_only=True)
