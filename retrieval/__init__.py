"""Turns a citizen's question into ranked knowledge-base hits.

    index = KnowledgeIndex(data_dir)            # e5 by default; embedder=load_embedder(path)
    index.load_or_build(store_entries)          # start-up; then upsert()/remove() on edits
    result = index.retriever.search("公积金怎么提取", k=5)
    result.confident, result.hits[0].entry_id, result.hits[0].score, result.hits[0].current
"""

from retrieval.embed import (
    E5Embedder,
    Embedder,
    EmbeddingCache,
    SentenceTransformerEmbedder,
    load_embedder,
)
from retrieval.errors import (
    EmbedderUnavailable,
    IndexCorrupt,
    IndexMismatch,
    IndexNotBuilt,
    RetrievalError,
)
from retrieval.hybrid import DEFAULT_THRESHOLD, FusionConfig, Hit, HybridRetriever, SearchResult
from retrieval.indexer import BuildProgress, KnowledgeIndex, SyncReport, print_progress
from retrieval.rerank import CrossEncoderReranker, Reranker

__all__ = [
    "DEFAULT_THRESHOLD", "BuildProgress", "CrossEncoderReranker", "E5Embedder", "Embedder",
    "EmbedderUnavailable", "EmbeddingCache", "FusionConfig", "Hit", "HybridRetriever",
    "IndexCorrupt", "IndexMismatch", "IndexNotBuilt", "KnowledgeIndex", "Reranker",
    "RetrievalError", "SearchResult", "SentenceTransformerEmbedder", "SyncReport",
    "load_embedder", "print_progress",
]
