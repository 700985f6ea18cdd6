"""The bot's suggested answers for a citizen's question: top knowledge-base hits, composed
as the bot would answer, for staff to insert and edit before sending."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Protocol

from bot.answers import compose_entry
from knowledge_base.models import Entry

log = logging.getLogger("wenzheng.console")


class Searcher(Protocol):
    def search(self, query: str, k: int = 5) -> Any: ...


class Entries(Protocol):
    def get(self, entry_id: str) -> Entry: ...


class Suggester:
    def __init__(self, searcher: Searcher, entries: Entries, k: int = 3) -> None:
        self._searcher, self._entries, self._k = searcher, entries, k

    def suggest(self, question: str) -> list[dict[str, Any]]:
        if not question.strip():
            return []
        try:
            hits = self._searcher.search(question, self._k).hits
        except Exception:  # suggestions are a help, never a reason for the console to fail
            log.exception("suggestions failed")
            return []
        return [self._compose(hit) for hit in hits]

    def _compose(self, hit: Any) -> dict[str, Any]:
        entry = self._entries.get(hit.entry_id)
        text = compose_entry(entry, dt.date.today(), None).text
        return {"entry_id": hit.entry_id, "title": hit.title, "score": round(hit.score, 3),
                "text": text}
