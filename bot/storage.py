"""Transactions on the bot's database, shared by the conversation and console stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import StorageUnavailable
from knowledge_base.db import write_engine, writer_lock

T = TypeVar("T")


class SqlStore:
    """One transaction per call; a database that cannot be reached becomes StorageUnavailable
    (an integrity error is the caller's to handle, not an outage)."""

    unavailable = "database unavailable"

    def __init__(self, engine: Engine) -> None:
        # Writers take SQLite's lock at BEGIN: a read-then-write transaction would
        # otherwise fail with "database is locked" when another writer got in between.
        self._writer = write_engine(engine)
        self._sessions = sessionmaker(self._writer, expire_on_commit=False)
        # Reads need no write lock: WAL readers see the last commit and never wait.
        self._engine = engine
        self._readers = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def _session(self, read_only: bool = False) -> Iterator[Session]:
        with self._guarded(read_only), (
            self._readers if read_only else self._sessions
        ).begin() as session:
            yield session

    @contextmanager
    def _connection(self, read_only: bool = False) -> Iterator[Connection]:
        """A Core transaction, for the statements every message runs: a third of the ORM
        session's cost (measured in bot/conversations.py)."""
        with self._guarded(read_only), (
            self._engine if read_only else self._writer
        ).begin() as connection:
            yield connection

    @contextmanager
    def _guarded(self, read_only: bool) -> Iterator[None]:
        """Writers one at a time (SQLite), and an unreachable database as StorageUnavailable."""
        try:
            with nullcontext() if read_only else writer_lock(self._engine):
                yield
        except IntegrityError:
            raise
        except (OperationalError, DBAPIError) as exc:
            raise StorageUnavailable(self.unavailable) from exc

    def _run(self, work: Callable[[Session], T]) -> T:
        with self._session() as session:
            return work(session)

    def _read(self, work: Callable[[Session], T]) -> T:
        """`work` in a transaction that only reads (SQLite: without taking the write lock)."""
        with self._session(read_only=True) as session:
            return work(session)
