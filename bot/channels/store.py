"""Transactions on the channel tables, serialised like the rest of the bot's writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Engine, Result
from sqlalchemy.orm import Session, sessionmaker

from knowledge_base.db import lock_writes, write_engine, writer_lock

T = TypeVar("T")
# pg_advisory_xact_lock key for channel-table writers (SQLite: BEGIN IMMEDIATE).
CHANNEL_LOCK_KEY = 7_210_301


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; every time we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def affected(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE changed."""
    return int(cast(CursorResult[Any], result).rowcount)


class TableStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(write_engine(engine), expire_on_commit=False)

    def _run(self, work: Callable[[Session], T]) -> T:
        with writer_lock(self._engine), self._sessions.begin() as session:
            lock_writes(session.connection(), CHANNEL_LOCK_KEY)
            return work(session)
