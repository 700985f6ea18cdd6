"""Turn messages into one sparse matrix: character n-grams, the letter's closing words, e5.

Citizens' letters open with background and close with the request ("请问..." / "希望...解决"),
so the last characters get their own n-gram block besides the whole text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from intents.encoder import Matrix


@dataclass(frozen=True)
class FeatureConfig:
    ngram_max: int = 3
    tail_chars: int = 30
    embedding_weight: float = 2.0  # e5 rows are unit length, n-gram rows too: this sets the mix


class IntentFeaturizer:
    def __init__(self, config: FeatureConfig) -> None:
        self.config = config
        self._whole = _char_vectorizer(config.ngram_max)
        self._tail = _char_vectorizer(config.ngram_max)

    @property
    def whole(self) -> TfidfVectorizer:
        """The character n-grams of the whole message."""
        return self._whole

    @property
    def tail(self) -> TfidfVectorizer:
        """The character n-grams of its last `tail_chars` characters."""
        return self._tail

    def fit_transform(self, texts: Sequence[str], embeddings: Matrix) -> sparse.csr_matrix:
        self._whole.fit(texts)
        self._tail.fit(self._tails(texts))
        return self.transform(texts, embeddings)

    def transform(self, texts: Sequence[str], embeddings: Matrix) -> sparse.csr_matrix:
        weighted = np.asarray(embeddings, dtype=np.float64) * self.config.embedding_weight
        dense = sparse.csr_matrix(weighted)
        blocks = [self._whole.transform(texts), self._tail.transform(self._tails(texts)), dense]
        matrix: sparse.csr_matrix = sparse.hstack(blocks, format="csr")
        return matrix

    def _tails(self, texts: Sequence[str]) -> list[str]:
        return [text[-self.config.tail_chars :] for text in texts]


def _char_vectorizer(ngram_max: int) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char", ngram_range=(1, ngram_max), sublinear_tf=True, lowercase=False
    )
