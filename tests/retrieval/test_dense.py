from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.dense import FaissIndex
from retrieval.errors import IndexCorrupt, IndexMismatch, IndexNotBuilt, RetrievalError


def unit_vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_add_search_remove(kind: str) -> None:
    index = FaissIndex(16, "test/model", kind)
    vectors = unit_vectors(50)
    index.add(np.arange(100, 150), vectors)
    scores, ids = index.search(vectors[7], k=3)
    assert ids[0, 0] == 107 and scores[0, 0] == pytest.approx(1.0, abs=1e-5)
    index.remove(np.array([107]))
    _, ids = index.search(vectors[7], k=3)
    assert 107 not in ids[0] and len(index) == 49
    assert np.allclose(index.reconstruct(np.array([120])), vectors[20])


def test_hnsw_compacts_after_many_removals() -> None:
    index = FaissIndex(16, "test/model", "hnsw")
    vectors = unit_vectors(40)
    index.add(np.arange(40), vectors)
    index.remove(np.arange(15))
    assert len(index) == 25
    _, ids = index.search(vectors[30], k=40)
    assert set(ids[0][ids[0] >= 0]) == set(range(15, 40))


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    index = FaissIndex(16, "test/model")
    vectors = unit_vectors(10)
    index.add(np.arange(10), vectors)
    index.remove(np.array([3]))
    index.save(tmp_path / "dense")
    loaded = FaissIndex.load(tmp_path / "dense", "test/model", 16)
    assert len(loaded) == 9
    _, ids = loaded.search(vectors[5], k=1)
    assert ids[0, 0] == 5


def test_load_for_another_model_raises_index_mismatch(tmp_path: Path) -> None:
    index = FaissIndex(16, "test/model")
    index.add(np.arange(3), unit_vectors(3))
    index.save(tmp_path)
    with pytest.raises(IndexMismatch):
        FaissIndex.load(tmp_path, "other/model", 16)
    with pytest.raises(IndexMismatch):
        FaissIndex.load(tmp_path, "test/model", 32)
    assert issubclass(IndexMismatch, RetrievalError)


def test_missing_or_broken_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotBuilt):
        FaissIndex.load(tmp_path / "nothing", "test/model", 16)
    index = FaissIndex(16, "test/model")
    index.save(tmp_path)
    (tmp_path / "vectors.faiss").write_bytes(b"not faiss")
    with pytest.raises(IndexCorrupt):
        FaissIndex.load(tmp_path, "test/model", 16)


def test_rejects_wrong_width_and_kind() -> None:
    with pytest.raises(ValueError):
        FaissIndex(16, "test/model", "ivf-typo")
    with pytest.raises(ValueError):
        FaissIndex(16, "test/model").add(np.arange(2), unit_vectors(2, dim=8))
