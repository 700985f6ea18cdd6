from __future__ import annotations

from collections.abc import Mapping

import pytest

from intents.classifier import IntentPrediction, IntentScore
from intents.evaluate import evaluate_intents, format_report


class LookupClassifier:
    """Answers from a fixed table; parse only (no parse_batch)."""

    def __init__(self, answers: Mapping[str, str]) -> None:
        self._answers = answers

    def parse(self, text: str) -> IntentPrediction:
        score = IntentScore(self._answers[text], 1.0)
        return IntentPrediction(score, (score,))


ROWS = [
    {"text": "a", "intent": "ask_policy"},
    {"text": "b", "intent": "ask_service_guide"},
    {"text": "c", "intent": "thanks"},
    {"text": "d", "intent": "thanks"},
    {"text": "e", "intent": "goodbye"},
]
ANSWERS = {"a": "ask_service_guide", "b": "ask_service_guide", "c": "thanks", "d": "goodbye",
           "e": "goodbye"}


def test_figures() -> None:
    result = evaluate_intents(LookupClassifier(ANSWERS), ROWS)
    assert result["count"] == 5
    assert result["accuracy"] == pytest.approx(3 / 5)
    assert result["route_accuracy"] == pytest.approx(4 / 5)  # a: guide for policy, same route
    f1 = {name: scores["f1"] for name, scores in result["per_intent"].items()}
    assert f1 == pytest.approx({"ask_policy": 0.0, "ask_service_guide": 2 / 3, "thanks": 2 / 3,
                                "goodbye": 2 / 3})
    assert result["macro_f1"] == pytest.approx(0.5)
    assert [error["text"] for error in result["errors"]] == ["a", "d"]


def test_confusion_matrix_rows_are_gold() -> None:
    confusion = evaluate_intents(LookupClassifier(ANSWERS), ROWS)["confusion"]
    labels = confusion["labels"]
    cell = {(g, p): confusion["matrix"][labels.index(g)][labels.index(p)]
            for g in labels for p in labels}
    assert cell[("ask_policy", "ask_service_guide")] == 1
    assert cell[("thanks", "goodbye")] == 1
    assert cell[("goodbye", "goodbye")] == 1
    assert sum(map(sum, confusion["matrix"])) == 5


def test_gold_labels_the_model_lacks_count_as_errors() -> None:
    rows = [{"text": "x", "intent": "greet"}, {"text": "y", "intent": "brand_new_intent"}]
    result = evaluate_intents(LookupClassifier({"x": "greet", "y": "greet"}), rows)
    assert result["accuracy"] == pytest.approx(0.5)
    assert result["per_intent"]["brand_new_intent"]["f1"] == 0.0
    assert result["macro_f1"] == pytest.approx((2 / 3 + 0.0) / 2)


def test_report_is_a_plain_table() -> None:
    report = format_report(evaluate_intents(LookupClassifier(ANSWERS), ROWS))
    assert "accuracy 0.600" in report and "macro-F1 0.500" in report
    assert "route accuracy 0.800" in report
    lines = report.splitlines()
    assert any(line.startswith("thanks") and line.split()[-1] == "2" for line in lines)
