"""Fit the native model: features, a balanced logistic regression, a calibration temperature,
and the example embeddings that a nearest-neighbour vote over them needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from intents.cache import EmbeddingCache
from intents.calibration import FloatArray, fit_temperature
from intents.encoder import TextEncoder
from intents.errors import NluFormatError
from intents.features import FeatureConfig, IntentFeaturizer
from intents.nlu import NluData
from intents.text import normalize_text

Labels = npt.NDArray[np.str_]


@dataclass(frozen=True)
class ModelConfig:
    features: FeatureConfig = field(default_factory=FeatureConfig)
    regularization: float = 30.0  # LogisticRegression's C: little data, many sparse features
    # 3 folds: the temperature is one scalar, and each fold is a full fit (a third of training).
    calibration_folds: int = 3
    # Below this calibrated confidence a message is treated as out of scope.
    oos_threshold: float = 0.3
    # The regression leans on character n-grams, which tie a word to the intent it was seen with
    # ("推荐", "几点" mostly in out-of-scope requests). A vote of the nearest training examples in
    # e5 space judges by meaning instead; the two are averaged with this weight on the vote.
    neighbours: int = 10
    neighbour_temperature: float = 0.05  # softmax temperature over cosine similarities
    neighbour_weight: float = 0.5


@dataclass(frozen=True)
class TrainedModel:
    """Everything `parse` needs besides the encoder; `intents.artifact` pickles it."""

    config: ModelConfig
    featurizer: IntentFeaturizer
    estimator: LogisticRegression
    temperature: float
    nlu_sha256: str
    encoder_model_id: str
    example_vectors: npt.NDArray[np.float32]  # unit rows, one per training example
    example_labels: npt.NDArray[np.int64]  # each example's column in `labels`

    @cached_property
    def labels(self) -> tuple[str, ...]:
        return tuple(str(label) for label in self.estimator.classes_)

    def logits(self, matrix: sparse.csr_matrix) -> FloatArray:
        return decision_logits(self.estimator, matrix)

    @cached_property
    def example_columns(self) -> npt.NDArray[np.float32]:
        """The example vectors as float32 columns, laid out once (per call it cost more
        than the vote itself). float32, not float64: the product reads the whole matrix
        for every message (3,394 examples: 5.2 MB instead of 10.4 MB, evicting that much
        less of the e5 weights from the shared cache), 0.54 -> 0.2 ms a message, and the
        cosines agree to 1e-6."""
        return np.ascontiguousarray(self.example_vectors.T, dtype=np.float32)

    def neighbour_vote(self, embeddings: npt.NDArray[np.float32]) -> FloatArray:
        """n x intents: the k most similar examples vote, each by exp(cosine / temperature)."""
        return neighbour_vote(embeddings, self.example_columns, self.example_labels,
                              len(self.labels), self.config)


def train_model(
    data: NluData, encoder: TextEncoder, config: ModelConfig | None = None,
    cache: EmbeddingCache | None = None,
) -> TrainedModel:
    config = config or ModelConfig()
    if len(data.intents) < 2:
        raise NluFormatError("training needs examples of at least two intents")
    texts = [normalize_text(example.text) for example in data.examples]
    embeddings = cache.embed(texts) if cache else encoder.embed_queries(texts)
    labels = np.array([example.intent for example in data.examples])
    featurizer = IntentFeaturizer(config.features)
    matrix = featurizer.fit_transform(texts, embeddings)
    estimator = _estimator(config).fit(matrix, labels)
    temperature = _cross_validated_temperature(matrix, labels, config)
    columns = np.searchsorted(estimator.classes_, labels).astype(np.int64)
    return TrainedModel(config, featurizer, estimator, temperature, data.sha256, encoder.model_id,
                        np.asarray(embeddings, dtype=np.float32), columns)


def neighbour_vote(
    embeddings: npt.NDArray[np.float32], columns: npt.NDArray[np.float64],
    example_labels: npt.NDArray[np.int64], n_labels: int, config: ModelConfig,
) -> FloatArray:
    """`columns`: the examples' unit vectors as float32 columns (dim x examples)."""
    votes = np.zeros((len(embeddings), n_labels))
    if len(embeddings) == 0 or columns.shape[1] == 0:
        return votes
    similarity = np.asarray(embeddings, dtype=columns.dtype) @ columns
    k = max(1, min(config.neighbours, columns.shape[1]))
    nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    top = np.take_along_axis(similarity, nearest, axis=1).astype(np.float64)
    weights = np.exp((top - top.max(axis=1, keepdims=True)) / config.neighbour_temperature)
    rows = np.repeat(np.arange(len(embeddings)), k)
    np.add.at(votes, (rows, example_labels[nearest].ravel()), weights.ravel())
    return votes / votes.sum(axis=1, keepdims=True)


def decision_logits(estimator: LogisticRegression, matrix: sparse.csr_matrix) -> FloatArray:
    """n x classes scores; a two-class model's single column becomes [0, score]."""
    scores = np.asarray(estimator.decision_function(matrix), dtype=np.float64)
    if scores.ndim == 1:
        return np.column_stack([np.zeros_like(scores), scores])
    return scores


def _estimator(config: ModelConfig, tol: float = 1e-4) -> LogisticRegression:
    # newton-cg: converges in a few exact steps here, where lbfgs needs ~60 (8 s a fit).
    return LogisticRegression(C=config.regularization, class_weight="balanced",
                              solver="newton-cg", max_iter=200, tol=tol)


def _cross_validated_temperature(
    matrix: sparse.csr_matrix, labels: Labels, config: ModelConfig
) -> float:
    """Fit on out-of-fold logits. The featurizer is shared by the folds: close enough for one
    scalar, and training stays a single pass of the encoder."""
    classes, counts = np.unique(labels, return_counts=True)
    folds = min(config.calibration_folds, int(counts.min()))
    if folds < 2:
        return 1.0
    logits = np.zeros((len(labels), len(classes)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train, held_out in splitter.split(np.zeros(len(labels)), labels):
        # A looser tolerance: a third less time, the temperature moves by about 5%.
        fold = _estimator(config, tol=1e-3).fit(matrix[train], labels[train])
        logits[np.ix_(held_out, np.searchsorted(classes, fold.classes_))] = decision_logits(
            fold, matrix[held_out])
    return fit_temperature(logits, np.searchsorted(classes, labels))
