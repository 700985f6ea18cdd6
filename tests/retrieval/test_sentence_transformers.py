"""The optional sentence-transformers backends, with tiny random models built here.

The models know nothing; these tests check loading, shapes, ids, indexing and
reranking plumbing. Skipped when the optional extra is not installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge_base.models import Entry
from retrieval.embed import SentenceTransformerEmbedder, load_embedder
from retrieval.hybrid import HybridRetriever
from retrieval.indexer import KnowledgeIndex
from retrieval.rerank import CrossEncoderReranker
from retrieval.tokenize import ChineseTokenizer
from tests.retrieval.faq_fixture import FAQ_ROWS, faq_entries

pytest.importorskip("sentence_transformers", reason="optional extra: requirements-st.txt")
transformers = pytest.importorskip("transformers")


def write_vocab(directory: Path) -> Path:
    chars = sorted({c for row in FAQ_ROWS for text in row[1:3] for c in text})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", "utf-8")
    return directory / "vocab.txt"


def tiny_bert(directory: Path, head: type) -> Path:
    vocab = write_vocab(directory)
    config = transformers.BertConfig(
        vocab_size=len(vocab.read_text("utf-8").split()), hidden_size=32, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128, num_labels=1)
    transformers.set_seed(0)
    head(config).save_pretrained(directory)
    transformers.BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def st_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Pooling, Transformer
    root = tmp_path_factory.mktemp("st")
    bert = tiny_bert(root / "bert", transformers.BertModel)
    word = Transformer(str(bert), max_seq_length=64)
    model = SentenceTransformer(modules=[word, Pooling(32, "mean")], device="cpu")
    model.save(str(root / "model"))
    return root / "model"


def test_embedder_loads_a_local_directory(st_model_dir: Path) -> None:
    embedder = load_embedder(str(st_model_dir))
    assert isinstance(embedder.inner, SentenceTransformerEmbedder) and embedder.dim == 32
    assert embedder.model_id.startswith("sentence-transformers:model@")
    vectors = embedder.embed_queries(["公积金提取", "身份证补领"])
    assert vectors.shape == (2, 32) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(embedder.embed_passages(["公积金提取"])[0], vectors[0], atol=1e-5)
    assert embedder.embed_passages([]).shape == (0, 32)


def test_index_builds_with_it_and_knows_its_model(st_model_dir: Path, tmp_path: Path,
                                                 tokenizer: ChineseTokenizer) -> None:
    index = KnowledgeIndex(tmp_path, embedder=load_embedder(str(st_model_dir)), tokenizer=tokenizer)
    index.build(faq_entries())
    assert index.retriever.search("住房公积金提取").hits[0].entry_id == "hf-withdraw"  # via BM25
    manifest = (tmp_path / "index" / "manifest.json").read_text("utf-8")
    assert index.embedder.model_id in manifest and '"dim": 32' in manifest


def test_cross_encoder_reranker(tmp_path: Path, st_model_dir: Path, tokenizer: ChineseTokenizer) -> None:
    reranker = CrossEncoderReranker(tiny_bert(tmp_path / "ce", transformers.BertForSequenceClassification))
    scores = reranker.score("公积金提取", ["住房公积金提取", "居住证办理"])
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))
    index = KnowledgeIndex(tmp_path / "data", embedder=load_embedder(str(st_model_dir)),
                           tokenizer=tokenizer)
    index.build(faq_entries() + [Entry(id="extra", title="住房公积金提取", text="同题条目")])
    r = index.retriever
    reranked = HybridRetriever(r.embedder, r.tokenizer, r.sparse, r.dense, r.catalog,
                               reranker=reranker, rerank_depth=5, rerank_weight=1.0)
    hits = reranked.search("住房公积金提取", k=5).hits
    assert len(hits) == 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
