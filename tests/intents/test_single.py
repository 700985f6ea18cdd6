"""The one-message fast path gives the logits of the scikit-learn path, exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from intents.model import NativeIntentClassifier, load_or_train
from intents.nlu import load_nlu
from intents.single import single_text_logits
from knowledge_base.text import normalize_text
from tests.intents.conftest import NLU_PATH

ODD_TEXTS = ["", "a", "？？？", "😀😀", "ＡＢＣ全角", "你好", "身份证丢了怎么补办啊急急急",
             "我是一名退休职工，" * 30 + "请问养老金什么时候调整", "zzzz 未见过的字龘靐"]


def assert_same_logits(classifier: NativeIntentClassifier, texts: list[str]) -> None:
    model = classifier.model
    fast = single_text_logits(model)
    normalized = [normalize_text(t) for t in texts]
    embeddings = classifier._encoder.embed_queries(normalized)
    slow = model.logits(model.featurizer.transform(normalized, embeddings))
    quick = np.stack([fast.logits(t, e) for t, e in zip(normalized, embeddings, strict=True)])
    assert quick.shape == slow.shape
    assert np.allclose(quick, slow, rtol=0, atol=1e-9)


def test_fast_logits_equal_the_sparse_path_on_the_production_model(
    trained_classifier: NativeIntentClassifier,
) -> None:
    examples = [e.text for e in load_nlu(NLU_PATH).examples]
    assert_same_logits(trained_classifier, examples[::7] + ODD_TEXTS)


def test_fast_logits_with_two_intents(tmp_path: Path, hashing_encoder: Any) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - 你好\n    - 您好\n'
                   '    - 在吗\n- intent: thanks\n  examples: |\n    - 谢谢\n    - 多谢了\n'
                   '    - 感谢\n', encoding="utf-8")
    classifier = load_or_train(nlu, tmp_path / "model", hashing_encoder)
    assert classifier.model.estimator.coef_.shape[0] == 1  # scikit-learn's binary shape
    assert_same_logits(classifier, ["你好", "谢谢你", "再见", *ODD_TEXTS])
