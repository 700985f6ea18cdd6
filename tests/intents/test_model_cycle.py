"""Save, load, and retrain when the YAML, the encoder or the config changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from intents.artifact import META_FILE, MODEL_FILE
from intents.errors import IntentError, ModelLoadError
from intents.model import ModelConfig, NativeIntentClassifier, load_or_train
from intents.nlu import load_nlu


def test_first_call_trains_and_saves_with_the_yaml_hash_and_encoder(
    tiny_nlu: Path, tmp_path: Path, hashing_encoder: Any
) -> None:
    model_dir = tmp_path / "model"
    classifier = load_or_train(tiny_nlu, model_dir, hashing_encoder)
    meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
    assert meta["nlu_sha256"] == load_nlu(tiny_nlu).sha256
    assert meta["encoder_model_id"] == "test/hashing-64"
    assert meta["labels"] == ["ask_service_guide", "greet", "out_of_scope"]
    assert (model_dir / MODEL_FILE).is_file()
    assert classifier.parse("身份证丢了怎么补办").name == "ask_service_guide"


def test_unchanged_inputs_load_without_retraining(
    tiny_nlu: Path, tmp_path: Path, make_hashing_encoder: Any
) -> None:
    model_dir = tmp_path / "model"
    first = load_or_train(tiny_nlu, model_dir, make_hashing_encoder())
    encoder = make_hashing_encoder()
    second = load_or_train(tiny_nlu, model_dir, encoder)
    assert encoder.calls == []  # nothing embedded: the saved model was reused
    assert second.model.temperature == first.model.temperature
    text = "护照怎么申请"
    assert second.parse(text) == first.parse(text)


def test_editing_the_yaml_retrains_and_reuses_cached_embeddings(
    tiny_nlu: Path, tmp_path: Path, make_hashing_encoder: Any
) -> None:
    model_dir = tmp_path / "model"
    load_or_train(tiny_nlu, model_dir, make_hashing_encoder())
    old_hash = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))["nlu_sha256"]
    tiny_nlu.write_text(
        tiny_nlu.read_text(encoding="utf-8") + "- intent: thanks\n  examples: |\n"
        "    - 谢谢\n    - 多谢\n    - 感谢\n", encoding="utf-8")
    encoder = make_hashing_encoder()
    classifier = load_or_train(tiny_nlu, model_dir, encoder)
    meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
    assert meta["nlu_sha256"] != old_hash
    assert "thanks" in classifier.intents
    assert encoder.calls == [["多谢", "感谢", "谢谢"]]  # only the new lines were encoded


def test_another_encoder_retrains(
    tiny_nlu: Path, tmp_path: Path, make_hashing_encoder: Any
) -> None:
    model_dir = tmp_path / "model"
    load_or_train(tiny_nlu, model_dir, make_hashing_encoder())
    other = make_hashing_encoder("test/other-encoder")
    classifier = load_or_train(tiny_nlu, model_dir, other)
    assert classifier.model.encoder_model_id == "test/other-encoder"
    assert other.texts_embedded == 18  # a new encoder: no cached vectors apply
    meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
    assert meta["encoder_model_id"] == "test/other-encoder"


def test_another_config_or_force_retrains(
    tiny_nlu: Path, tmp_path: Path, make_hashing_encoder: Any
) -> None:
    model_dir = tmp_path / "model"
    load_or_train(tiny_nlu, model_dir, make_hashing_encoder())
    changed = load_or_train(tiny_nlu, model_dir, make_hashing_encoder(),
                            ModelConfig(regularization=3.0))
    assert changed.model.config.regularization == 3.0
    forced = load_or_train(tiny_nlu, model_dir, make_hashing_encoder(),
                           ModelConfig(regularization=3.0), force=True)
    assert forced.model is not changed.model


def test_a_damaged_model_file_is_reported(
    tiny_nlu: Path, tmp_path: Path, hashing_encoder: Any
) -> None:
    model_dir = tmp_path / "model"
    load_or_train(tiny_nlu, model_dir, hashing_encoder)
    (model_dir / MODEL_FILE).write_bytes(b"not a pickle")
    with pytest.raises(ModelLoadError):
        load_or_train(tiny_nlu, model_dir, hashing_encoder)


def test_a_model_refuses_an_encoder_it_was_not_trained_with(
    tiny_nlu: Path, tmp_path: Path, make_hashing_encoder: Any
) -> None:
    classifier = load_or_train(tiny_nlu, tmp_path / "model", make_hashing_encoder())
    with pytest.raises(IntentError):
        NativeIntentClassifier(classifier.model, make_hashing_encoder("test/other-encoder"))
