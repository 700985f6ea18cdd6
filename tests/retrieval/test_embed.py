from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from retrieval.embed import (
    E5_MODEL_ID,
    E5Embedder,
    Embedder,
    EmbeddingCache,
    RecentQueries,
    load_embedder,
)
from retrieval.errors import EmbedderUnavailable
from tests.retrieval.conftest import HashEmbedder


def test_e5_vectors_are_unit_float32_and_roles_differ(e5: E5Embedder) -> None:
    assert isinstance(e5, Embedder) and e5.model_id == E5_MODEL_ID and e5.dim == 384
    queries = e5.embed_queries(["公积金怎么提取", "身份证丢了"])
    passages = e5.embed_passages(["公积金怎么提取"])
    assert queries.shape == (2, 384) and queries.dtype == np.float32
    assert np.allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(queries[0], passages[0])  # query: / passage: prefixes
    assert e5.embed_queries([]).shape == (0, 384)
    related = float(e5.embed_queries(["住房公积金提取"])[0] @ queries[0])
    unrelated = float(e5.embed_queries(["今天天气怎么样"])[0] @ queries[0])
    assert related > unrelated


def test_e5_gives_the_same_vectors_from_two_threads(e5: E5Embedder) -> None:
    texts = ["驾驶证换证", "社保卡补办", "居住证办理", "护照申请"] * 3
    serial = e5.embed_queries(texts)
    results: dict[int, np.ndarray] = {}

    def work(n: int) -> None:
        results[n] = e5.embed_queries(texts)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(np.allclose(results[n], serial, atol=1e-6) for n in range(2))


def test_cache_embeds_each_text_once_per_model_and_role(tmp_path: Path) -> None:
    embedder = HashEmbedder()
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    first = cache.embed(embedder, ["甲乙", "丙丁", "甲乙"], "passage")
    assert embedder.embedded == ["甲乙", "丙丁"] and cache.misses == 2
    again = EmbeddingCache(tmp_path / "embeddings.sqlite").embed(embedder, ["丙丁", "甲乙"], "passage")
    assert embedder.embedded == ["甲乙", "丙丁"]
    assert np.allclose(again, first[[1, 0]])
    cache.embed(embedder, ["甲乙"], "query")  # another role is another key
    cache.embed(HashEmbedder(model_id="test/other"), ["甲乙"], "passage")
    assert cache.misses == 4 and cache.hits == 1


def test_load_embedder_specs(e5: E5Embedder, tmp_path: Path) -> None:
    assert load_embedder(None).model_id == E5_MODEL_ID
    assert load_embedder("e5").model_id == E5_MODEL_ID
    with pytest.raises(EmbedderUnavailable):
        load_embedder(str(tmp_path / "no-such-model"))


def test_recent_queries_embed_a_repeated_message_once(e5: E5Embedder) -> None:
    memo = RecentQueries(e5, size=2)
    first = memo.embed_queries(["身份证丢了怎么补办"])
    again = memo.embed_queries(["身份证丢了怎么补办"])
    assert (memo.hits, memo.misses) == (1, 1) and np.array_equal(first, again)
    assert np.allclose(first, e5.embed_queries(["身份证丢了怎么补办"]), atol=1e-6)
    memo.embed_queries(["公积金提取", "居住证办理"])  # evicts the oldest of a memo of two
    memo.embed_queries(["身份证丢了怎么补办"])
    assert memo.misses == 4
    assert memo.embed_passages(["公积金提取"]).shape == (1, e5.dim)
    assert memo.embed_queries([]).shape == (0, e5.dim)


class GatedQueries:
    """An embedder whose calls wait until released, and that counts what it embeds."""

    model_id, dim = "gated", 2

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail = False

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        self.entered.set()
        assert self.release.wait(10)
        if self.fail:
            raise RuntimeError("model failed")
        return np.array([[len(t), 1.0] for t in texts], np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.embed_queries(texts)


def _ask_while_the_first_embeds(memo: RecentQueries, inner: GatedQueries, text: str) -> list[object]:
    """The first caller starts embedding `text`; a second asks for it meanwhile."""
    results: list[object] = []

    def ask() -> None:
        try:
            results.append(memo.embed_queries([text]))
        except RuntimeError as exc:
            results.append(exc)

    first = threading.Thread(target=ask)
    first.start()
    assert inner.entered.wait(10)
    second = threading.Thread(target=ask)
    second.start()
    deadline = time.monotonic() + 10
    while memo.joined == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    inner.release.set()
    first.join(10)
    second.join(10)
    return results


def test_a_question_asked_while_it_is_being_embedded_waits_for_that_vector() -> None:
    inner = GatedQueries()
    memo = RecentQueries(inner)  # type: ignore[arg-type]
    results = _ask_while_the_first_embeds(memo, inner, "社保卡丢了")
    assert inner.calls == [["社保卡丢了"]]  # embedded once for both
    assert len(results) == 2 and all(isinstance(r, np.ndarray) for r in results)
    assert np.array_equal(results[0], results[1])  # type: ignore[arg-type]
    assert (memo.misses, memo.joined) == (1, 1)


def test_a_failed_embedding_reaches_every_waiter_and_is_not_kept() -> None:
    inner = GatedQueries()
    inner.fail = True
    memo = RecentQueries(inner)  # type: ignore[arg-type]
    results = _ask_while_the_first_embeds(memo, inner, "公积金")
    assert [str(r) for r in results] == ["model failed", "model failed"]
    inner.fail = False
    assert memo.embed_queries(["公积金"]).shape == (1, 2)  # tried again, not a stale failure
    assert inner.calls == [["公积金"], ["公积金"]]
