"""The console's stores share the bot's database and its transaction rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import StorageUnavailable
from bot.tables import AuditRow
from knowledge_base.db import write_engine

T = TypeVar("T")


class StoreBase:
    def __init__(self, engine: Engine) -> None:
        # BEGIN IMMEDIATE on SQLite, as ConversationStore: read-then-write never deadlocks.
        self._sessions = sessionmaker(write_engine(engine), expire_on_commit=False)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except (OperationalError, DBAPIError) as exc:
            raise StorageUnavailable("console database unavailable") from exc

    def _run(self, work: Callable[[Session], T]) -> T:
        with self._session() as session:
            return work(session)


def audit(session: Session, actor: str, action: str, conversation_id: int | None = None,
          handoff_id: int | None = None, **detail: Any) -> None:
    """One audit line, in the same transaction as the action it records."""
    session.add(AuditRow(actor=actor, action=action, conversation_id=conversation_id,
                         handoff_id=handoff_id, detail=detail or None))
