"""The logistic regression's logits for one message, without scikit-learn's per-call cost.

A served message is classified alone. For one text, `TfidfVectorizer.transform`, the
sparse stacking and `decision_function` spend ~2.5 ms on validation and sparse-matrix
construction for a few dozen non-zero features; this computes the same numbers in
~0.3 ms (tests/intents/test_single.py holds them equal on every training example).

Same arithmetic as scikit-learn's char TF-IDF with `sublinear_tf=True`, `norm="l2"`:
each n-gram in the vocabulary gets `(1 + log(count)) * idf`, the block is scaled to unit
length, and the logits are the blocks' dot products with their slices of `coef_` plus
the weighted e5 vector's, plus the intercept.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer

FloatArray = npt.NDArray[np.float64]


class _TfidfBlock:
    def __init__(self, vectorizer: TfidfVectorizer, coef: FloatArray) -> None:
        self._analyze: Callable[[str], list[str]] = vectorizer.build_analyzer()
        self._vocabulary: dict[str, int] = vectorizer.vocabulary_
        self._idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self._rows = np.ascontiguousarray(coef.T)  # features x classes
        self.width = len(self._idf)

    def logits(self, text: str) -> FloatArray:
        counts = Counter(self._analyze(text))
        vocabulary = self._vocabulary
        columns = [vocabulary[gram] for gram in counts if gram in vocabulary]
        if not columns:
            return np.zeros(self._rows.shape[1])
        tf = np.array([1.0 + math.log(counts[gram]) for gram in counts if gram in vocabulary])
        index = np.array(columns, dtype=np.int64)
        values = tf * self._idf[index]
        values /= math.sqrt(float(values @ values))
        result: FloatArray = values @ self._rows[index]
        return result


class SingleTextLogits:
    """`logits(text, embedding)` equal to the model's sparse path for that one text."""

    def __init__(self, whole: TfidfVectorizer, tail: TfidfVectorizer, tail_chars: int,
                 embedding_weight: float, coef: FloatArray, intercept: FloatArray) -> None:
        coef = np.asarray(coef, dtype=np.float64)
        self._whole = _TfidfBlock(whole, coef[:, : len(whole.idf_)])
        start = self._whole.width
        self._tail = _TfidfBlock(tail, coef[:, start : start + len(tail.idf_)])
        start += self._tail.width
        self._dense = np.ascontiguousarray(coef[:, start:].T) * embedding_weight  # dim x classes
        self._intercept = np.asarray(intercept, dtype=np.float64)
        self._tail_chars = tail_chars
        self._binary = coef.shape[0] == 1  # scikit-learn keeps one row for two classes

    def logits(self, text: str, embedding: npt.NDArray[np.floating]) -> FloatArray:
        score = (self._whole.logits(text) + self._tail.logits(text[-self._tail_chars :])
                 + np.asarray(embedding, dtype=np.float64) @ self._dense + self._intercept)
        if self._binary:
            return np.array([0.0, float(score[0])])
        return score


def single_text_logits(model: object) -> SingleTextLogits:
    """The fast path for a `TrainedModel` (its featurizer's two TF-IDF blocks and e5 weight)."""
    featurizer = model.featurizer  # type: ignore[attr-defined]
    estimator = model.estimator  # type: ignore[attr-defined]
    return SingleTextLogits(
        featurizer.whole, featurizer.tail, featurizer.config.tail_chars,
        featurizer.config.embedding_weight, estimator.coef_, estimator.intercept_,
    )
