"""Errors of the retrieval layer.

RetrievalError
 ├── IndexNotBuilt           search or load before any index exists on disk or in memory
 ├── IndexMismatch           a saved index was built by another model (model_id or dim differ)
 ├── IndexCorrupt            a saved index is unreadable or inconsistent
 └── EmbedderUnavailable     the configured embedding or reranking model cannot be loaded
"""


class RetrievalError(Exception):
    pass


class IndexNotBuilt(RetrievalError):
    pass


class IndexMismatch(RetrievalError):
    pass


class IndexCorrupt(RetrievalError):
    pass


class EmbedderUnavailable(RetrievalError):
    pass
