"""What every intent classifier returns, in Rasa's parse format at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True)
class IntentPrediction:
    """The chosen intent and the full ranking, best first."""

    intent: IntentScore
    ranking: tuple[IntentScore, ...]
    source: str = "model"  # "model", "rule", "threshold" or "empty": why this intent won

    @property
    def name(self) -> str:
        return self.intent.name

    @property
    def confidence(self) -> float:
        return self.intent.confidence

    def to_rasa(self, text: str) -> dict[str, Any]:
        """The dict `rasa.nlu` returns from `/model/parse`."""
        return {
            "text": text,
            "intent": _score_dict(self.intent),
            "intent_ranking": [_score_dict(score) for score in self.ranking],
            "entities": [],
        }


class IntentClassifier(Protocol):
    def parse(self, text: str) -> IntentPrediction: ...


def _score_dict(score: IntentScore) -> dict[str, Any]:
    return {"name": score.name, "confidence": round(float(score.confidence), 6)}


def rank_scores(scores: dict[str, float]) -> tuple[IntentScore, ...]:
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return tuple(IntentScore(name, confidence) for name, confidence in ordered)
