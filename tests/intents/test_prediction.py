"""The Rasa parse format at the edge, and how the native classifier fills it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from intents.classifier import IntentPrediction, IntentScore, rank_scores
from intents.model import ModelConfig, load_or_train


def assert_rasa_parse(parsed: dict[str, Any], text: str) -> None:
    assert set(parsed) == {"text", "intent", "intent_ranking", "entities"}
    assert parsed["text"] == text and parsed["entities"] == []
    assert set(parsed["intent"]) == {"name", "confidence"}
    ranking = parsed["intent_ranking"]
    assert ranking and all(set(item) == {"name", "confidence"} for item in ranking)
    assert ranking[0] == parsed["intent"]
    confidences = [item["confidence"] for item in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= value <= 1.0 for value in confidences)
    json.dumps(parsed)  # plain JSON types only


def test_to_rasa_renders_intent_and_ranking() -> None:
    ranking = rank_scores({"greet": 0.7, "thanks": 0.2, "goodbye": 0.1})
    parsed = IntentPrediction(ranking[0], ranking).to_rasa("你好")
    assert_rasa_parse(parsed, "你好")
    assert parsed["intent"] == {"name": "greet", "confidence": 0.7}
    assert [item["name"] for item in parsed["intent_ranking"]] == ["greet", "thanks", "goodbye"]


def test_prediction_is_frozen() -> None:
    prediction = IntentPrediction(IntentScore("greet", 1.0), (IntentScore("greet", 1.0),))
    with pytest.raises(AttributeError):
        prediction.source = "rule"  # type: ignore[misc]


def test_model_predictions_are_rasa_parses(
    tiny_nlu: Path, tmp_path: Path, hashing_encoder: Any
) -> None:
    classifier = load_or_train(tiny_nlu, tmp_path / "model", hashing_encoder)
    for text in ["你好", "驾驶证怎么换证", "明天天气怎么样", "转人工", "？"]:
        parsed = classifier.parse(text).to_rasa(text)
        assert_rasa_parse(parsed, text)
    model_parse = classifier.parse("你好").to_rasa("你好")
    assert {item["name"] for item in model_parse["intent_ranking"]} == {
        "greet", "ask_service_guide", "out_of_scope"}
    # to_rasa rounds each confidence to 6 places
    assert sum(item["confidence"] for item in model_parse["intent_ranking"]) == pytest.approx(
        1.0, abs=1e-5)


def test_rules_win_over_the_model(tiny_nlu: Path, tmp_path: Path, hashing_encoder: Any) -> None:
    classifier = load_or_train(tiny_nlu, tmp_path / "model", hashing_encoder)
    prediction = classifier.parse("转人工")
    assert (prediction.name, prediction.confidence, prediction.source) == (
        "request_human", 1.0, "rule")


def test_low_confidence_falls_back_to_out_of_scope(
    tiny_nlu: Path, tmp_path: Path, hashing_encoder: Any
) -> None:
    text = "你好呀，小助手"
    plain = load_or_train(tiny_nlu, tmp_path / "plain", hashing_encoder).parse(text)
    assert plain.name == "greet" and plain.source == "model" and plain.confidence < 1.0
    strict = load_or_train(tiny_nlu, tmp_path / "strict", hashing_encoder,
                           ModelConfig(oos_threshold=1.0))
    prediction = strict.parse(text)
    assert prediction.source == "threshold"
    assert (prediction.name, prediction.confidence) == ("out_of_scope", 1.0)
    names = [score.name for score in prediction.ranking]
    assert names[0] == "out_of_scope" and names.count("out_of_scope") == 1
    assert_rasa_parse(prediction.to_rasa(text), text)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_messages_are_out_of_scope_without_encoding(
    tiny_nlu: Path, tmp_path: Path, make_hashing_encoder: Any, text: str
) -> None:
    load_or_train(tiny_nlu, tmp_path / "model", make_hashing_encoder())
    encoder = make_hashing_encoder()
    prediction = load_or_train(tiny_nlu, tmp_path / "model", encoder).parse(text)
    assert (prediction.name, prediction.confidence, prediction.source) == (
        "out_of_scope", 1.0, "empty")
    assert encoder.calls == []
    assert_rasa_parse(prediction.to_rasa(text), text)


def test_batch_parse_matches_single_parse(
    tiny_nlu: Path, tmp_path: Path, hashing_encoder: Any
) -> None:
    classifier = load_or_train(tiny_nlu, tmp_path / "model", hashing_encoder)
    texts = ["你好", "转人工", "护照怎么申请", "帮我订机票"]
    batch, single = classifier.parse_batch(texts), [classifier.parse(text) for text in texts]

    def ranked(prediction: Any) -> list[tuple[str, float]]:
        return [(score.name, score.confidence) for score in prediction.ranking]

    for one, other in zip(batch, single, strict=True):
        assert (one.name, one.source) == (other.name, other.source)
        # float32 products round in a different order in a batch than alone
        assert [n for n, _ in ranked(one)] == [n for n, _ in ranked(other)]
        assert [c for _, c in ranked(one)] == pytest.approx([c for _, c in ranked(other)], abs=1e-6)


ASK_NLU = """version: "3.1"
nlu:
- intent: ask_service_guide
  examples: |
    - 身份证丢了怎么补办
    - 护照怎么申请
    - 营业执照怎么办理
    - 社保卡在哪里办
- intent: ask_policy
  examples: |
    - 低保标准是多少
    - 失业金能领多久
    - 哪些人可以申请公租房
    - 驾驶证有效期多长
- intent: greet
  examples: |
    - 你好
    - 您好
    - 早上好
    - 在吗
"""


def test_question_cues_order_the_two_question_intents(
    tmp_path: Path, hashing_encoder: Any
) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text(ASK_NLU, encoding="utf-8")
    classifier = load_or_train(nlu, tmp_path / "model", hashing_encoder)
    for text, wanted in [("低保怎么申请，要带哪些材料", "ask_service_guide"),
                         ("护照的有效期是多久", "ask_policy")]:
        prediction = classifier.parse(text)
        parsed = prediction.to_rasa(text)
        assert_rasa_parse(parsed, text)
        names = [item["name"] for item in parsed["intent_ranking"]]
        if prediction.name in ("ask_service_guide", "ask_policy"):
            assert prediction.name == wanted
            assert names.index(wanted) < names.index(
                "ask_policy" if wanted == "ask_service_guide" else "ask_service_guide")
    assert classifier.parse("你好").name == "greet"  # other intents are left alone
