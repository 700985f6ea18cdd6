"""Fixtures for the intent tests: the real e5 encoder, and a tiny deterministic one for plumbing."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from intents.model import E5QueryEncoder, NativeIntentClassifier, load_or_train

ROOT = Path(__file__).resolve().parents[2]
NLU_PATH = ROOT / "intents" / "data" / "nlu.yml"
DEMO_PATH = ROOT / "evalsets" / "demo_intents.jsonl"


class HashingEncoder:
    """Character counts hashed into 64 dimensions: deterministic, instant, meaningless."""

    def __init__(self, model_id: str = "test/hashing-64") -> None:
        self.model_id = model_id
        self.calls: list[list[str]] = []

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            for char in text or " ":
                row[hashlib.md5(char.encode()).digest()[0] % 64] += 1.0
        normalised: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return normalised

    @property
    def texts_embedded(self) -> int:
        return sum(len(call) for call in self.calls)


@pytest.fixture
def hashing_encoder() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture
def make_hashing_encoder() -> type[HashingEncoder]:
    return HashingEncoder


TINY_NLU = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - 你好
    - 您好
    - 早上好
    - 你好啊
    - 在吗
    - 嗨
- intent: ask_service_guide
  examples: |
    - 身份证丢了怎么补办
    - 驾驶证怎么换证
    - 社保卡在哪里办
    - 护照怎么申请
    - 公积金怎么提取
    - 营业执照怎么办理
- intent: out_of_scope
  examples: |
    - 明天天气怎么样
    - 帮我订机票
    - 播放一首歌
    - 今天股市怎么样
    - 推荐一家酒店
    - 查一下火车票
"""


@pytest.fixture
def tiny_nlu(tmp_path: Path) -> Path:
    path = tmp_path / "nlu.yml"
    path.write_text(TINY_NLU, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def e5_encoder() -> E5QueryEncoder:
    return E5QueryEncoder()


@pytest.fixture(scope="session")
def trained_classifier(
    e5_encoder: E5QueryEncoder, tmp_path_factory: pytest.TempPathFactory
) -> NativeIntentClassifier:
    """The production model: the real nlu.yml and the real e5 encoder (about a minute)."""
    return load_or_train(NLU_PATH, tmp_path_factory.mktemp("intent-model"), e5_encoder)
