"""Retrieval fixtures: the real tokenizer and e5 model (built once per session) and a
deterministic hashing embedder for plumbing tests that assert nothing about meaning."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np
import pytest

from retrieval.embed import E5Embedder
from retrieval.tokenize import ChineseTokenizer


class HashEmbedder:
    """Character-bigram feature hashing: similar strings get similar vectors, no model."""

    def __init__(self, dim: int = 64, model_id: str = "test/hash-bigrams") -> None:
        self.dim, self.model_id = dim, model_id
        self.embedded: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            clean = re.sub(r"\s+", "", text)
            for gram in [clean[i : i + 2] for i in range(max(len(clean) - 1, 1))]:
                out[row, int(hashlib.md5(gram.encode()).hexdigest(), 16) % self.dim] += 1.0
        out[:, 0] += 1e-3  # no zero rows
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(scope="session")
def tokenizer() -> ChineseTokenizer:
    return ChineseTokenizer()


@pytest.fixture(scope="session")
def e5() -> E5Embedder:
    return E5Embedder()


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()
