"""Message text as the models see it, shared by the intent model and retrieval's dense query
so that both embed the very same string (and a message is embedded once)."""

from __future__ import annotations

import re
import unicodedata

# Published letters hide names as "****"; "某" keeps the sentence readable for the encoder.
_MASK = re.compile(r"\*{2,}")
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC (full-width to half-width), lower case, masks to 某, single spaces."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return _SPACE.sub(" ", _MASK.sub("某", folded)).strip()
