"""The native intent classifier, and `load_or_train`, which the server calls at start-up.

`load_or_train` reuses the model saved under `model_dir` while the NLU YAML (by SHA-256), the
encoder's model_id, the model config and the library versions are unchanged; otherwise it
retrains (reusing cached example embeddings) and saves.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from intents.artifact import read_model, write_model
from intents.cache import EmbeddingCache
from intents.calibration import FloatArray, calibrated_probabilities
from intents.classifier import OUT_OF_SCOPE, IntentPrediction, IntentScore, rank_scores
from intents.encoder import E5QueryEncoder, TextEncoder
from intents.errors import IntentError
from intents.nlu import load_nlu
from intents.rules import AskKindRule, KeywordRules
from intents.single import single_text_logits
from intents.text import normalize_text
from intents.training import ModelConfig, TrainedModel, train_model

__all__ = [
    "E5QueryEncoder", "ModelConfig", "NativeIntentClassifier", "TextEncoder", "load_or_train",
]
log = logging.getLogger(__name__)
ASK_INTENTS = ("ask_service_guide", "ask_policy")
RECENT_PARSES = 4096


class NativeIntentClassifier:
    """Keyword rules first, then the calibrated model averaged with a nearest-example vote; low
    confidence falls back to out_of_scope."""

    def __init__(
        self, model: TrainedModel, encoder: TextEncoder, rules: KeywordRules | None = None,
        ask_kind: AskKindRule | None = None,
    ) -> None:
        if model.encoder_model_id != encoder.model_id:
            raise IntentError(
                f"model was trained with {model.encoder_model_id}, not {encoder.model_id}")
        self.model = model
        self._encoder = encoder
        self._single = single_text_logits(model)
        self._rules = rules if rules is not None else KeywordRules()
        self._ask_kind = ask_kind if ask_kind is not None else AskKindRule()
        self._recent: OrderedDict[str, IntentPrediction] = OrderedDict()
        self._recent_lock = threading.Lock()

    @property
    def intents(self) -> tuple[str, ...]:
        return self.model.labels

    def parse(self, text: str) -> IntentPrediction:
        """The prediction for one message; citizens repeat each other, so recent ones are kept."""
        with self._recent_lock:
            found = self._recent.get(text)
            if found is not None:
                self._recent.move_to_end(text)
                return found
        prediction = self.parse_batch([text])[0]
        with self._recent_lock:
            self._recent[text] = prediction
            if len(self._recent) > RECENT_PARSES:
                self._recent.popitem(last=False)
        return prediction

    def parse_batch(self, texts: Sequence[str]) -> list[IntentPrediction]:
        """One encoder call for every text the rules do not settle."""
        settled = [self._settle(text) for text in texts]
        pending = [i for i, found in enumerate(settled) if found is None]
        for i, row in zip(pending, self.probabilities([texts[i] for i in pending]), strict=True):
            settled[i] = self._decide(row, texts[i])
        return [prediction for prediction in settled if prediction is not None]

    def probabilities(self, texts: Sequence[str]) -> FloatArray:
        """Calibrated n x intents probabilities, columns in `intents` order (no rules)."""
        if not texts:
            return np.zeros((0, len(self.intents)))
        normalized = [normalize_text(text) for text in texts]
        embeddings = self._encoder.embed_queries(normalized)
        if len(texts) == 1:  # a served message: the same numbers without sklearn's overhead
            logits = self._single.logits(normalized[0], embeddings[0])[None, :]
        else:
            logits = self.model.logits(self.model.featurizer.transform(normalized, embeddings))
        regression = calibrated_probabilities(logits, self.model.temperature)
        weight = self.model.config.neighbour_weight
        if weight <= 0.0:
            return regression
        return (1.0 - weight) * regression + weight * self.model.neighbour_vote(embeddings)

    def _settle(self, text: str) -> IntentPrediction | None:
        if not normalize_text(text):
            score = IntentScore(OUT_OF_SCOPE, 1.0)  # nothing to classify: never guess
            return IntentPrediction(score, (score,), source="empty")
        return self._rules.match(text)

    def _decide(self, row: FloatArray, text: str) -> IntentPrediction:
        scores = dict(zip(self.intents, row.tolist(), strict=True))
        source = "model"
        if max(scores, key=scores.__getitem__) in ASK_INTENTS and set(ASK_INTENTS) <= set(scores):
            source = self._order_questions(scores, text)
        ranking = rank_scores(scores)
        threshold = self.model.config.oos_threshold
        if ranking[0].confidence >= threshold or ranking[0].name == OUT_OF_SCOPE:
            return IntentPrediction(ranking[0], ranking, source=source)
        # Rasa's FallbackClassifier convention: the fallback intent carries the threshold.
        fallback = IntentScore(OUT_OF_SCOPE, threshold)
        rest = tuple(score for score in ranking if score.name != OUT_OF_SCOPE)
        return IntentPrediction(fallback, (fallback, *rest), source="threshold")

    def _order_questions(self, scores: dict[str, float], text: str) -> str:
        """The model found a question; the guide-or-policy cues pick which kind leads (the two
        swap scores, so the ranking and the sum stay as the model had them)."""
        wanted = self._ask_kind.choose(text)
        if wanted is None:
            return "model"
        other = ASK_INTENTS[1] if wanted == ASK_INTENTS[0] else ASK_INTENTS[0]
        if scores[wanted] >= scores[other]:
            return "model"
        scores[wanted], scores[other] = scores[other], scores[wanted]
        return "rule"


def load_or_train(
    nlu_path: Path, model_dir: Path, encoder: TextEncoder, config: ModelConfig | None = None,
    force: bool = False,
) -> NativeIntentClassifier:
    config = config or ModelConfig()
    data = load_nlu(nlu_path)
    model = None if force else read_model(model_dir, data.sha256, encoder.model_id, config)
    if model is None:
        log.info("training the intent model from %s (%d examples)", nlu_path, len(data.examples))
        model = train_model(data, encoder, config, EmbeddingCache(model_dir, encoder))
        write_model(model_dir, model)
    return NativeIntentClassifier(model, encoder)

