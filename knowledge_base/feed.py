"""Following the change feed: writes committed by other processes reach this one.

A served process hears of its own writes at commit (`KnowledgeBaseStore.subscribe`). An
editor's `python -m bot kb import` beside it, or a second server on the same PostgreSQL
database, writes through another store; `FeedFollower` polls the feed (revision ids, see
`knowledge_base/store.py`) and hands those writes to the same listeners, so the search index
and the kept entries follow them within about one poll interval.
"""

from __future__ import annotations

import logging
import threading

from knowledge_base.errors import StoreUnavailable
from knowledge_base.store import KnowledgeBaseStore

log = logging.getLogger(__name__)


class FeedFollower:
    """Polls `store.catch_up` every `interval_s` seconds on a daemon thread."""

    def __init__(self, store: KnowledgeBaseStore, after: int, interval_s: float = 1.0) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._store, self.seq, self._interval = store, after, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-feed", daemon=True)
        self._unavailable = False

    def start(self) -> FeedFollower:
        self._store.followed()
        self._thread.start()
        return self

    def poll(self) -> None:
        """One catch-up; a database that went away is logged once and retried next time."""
        try:
            self.seq = self._store.catch_up(self.seq)
        except StoreUnavailable as exc:
            if not self._unavailable:
                log.warning("change feed paused, database unavailable: %s", exc)
            self._unavailable = True
            return
        if self._unavailable:
            log.info("change feed resumed at seq %d", self.seq)
        self._unavailable = False

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.poll()
            except Exception:  # keep following; the next poll starts from the same seq
                log.exception("change feed poll failed")

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._store.followed(False)
