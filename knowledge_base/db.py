"""Engines and schema migrations for every package that keeps tables in the bot's database.

SQLite (the default, a file in the data dir) and PostgreSQL are both first-class. Writers call
`write_engine(engine)` and `lock_writes(connection)` so that write transactions run one at a
time: that keeps read-modify-write sequences simple and makes the revision ids that the change
feed hands out appear in commit order.
"""

from __future__ import annotations

import json
import threading
import weakref
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url, pool, text

from knowledge_base.errors import translate_db_errors

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_FILE_NAME = "bot.sqlite3"
# 5 s: longer than any single write we do, shorter than an HTTP client's patience.
SQLITE_BUSY_TIMEOUT_MS = 5_000
POSTGRES_CONNECT_TIMEOUT_S = 5
_IMMEDIATE = "sqlite_begin_immediate"
# Arbitrary but fixed keys for pg_advisory_xact_lock.
MIGRATION_LOCK_KEY = 7_210_001
_MIGRATE_LOCK = threading.Lock()
_WRITER_LOCKS: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_WRITER_LOCKS_GUARD = threading.Lock()


def sqlite_url(data_dir: str | Path) -> str:
    """URL of the bot's SQLite file in `data_dir`, which is created when missing."""
    directory = Path(data_dir).expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / SQLITE_FILE_NAME}"


def create_engine_for(url: str) -> Engine:
    """An engine tuned for `url`: SQLite with WAL and foreign keys, PostgreSQL with pre-ping."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed.render_as_string(hide_password=False))
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    return create_engine(
        parsed, pool_pre_ping=True, json_serializer=_dump_json, connect_args=connect_args
    )


def write_engine(engine: Engine) -> Engine:
    """The same pool, but SQLite transactions take the write lock at BEGIN.

    A deferred SQLite transaction that reads and then writes fails with "database is locked"
    when another writer got in between; BEGIN IMMEDIATE waits (busy timeout) instead.
    """
    return engine.execution_options(**{_IMMEDIATE: True})


def writer_lock(engine: Engine) -> AbstractContextManager[Any]:
    """SQLite: one write transaction at a time within this process, queued on a lock.

    Without it, concurrent writers wait in SQLite's busy handler, which sleeps 1 to 100 ms
    between retries whether or not the lock came free: under 20 concurrent citizens most
    of the served time went there. Other processes still meet the busy timeout."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _WRITER_LOCKS_GUARD:
        lock = _WRITER_LOCKS.get(engine.pool)
        if lock is None:
            lock = _WRITER_LOCKS[engine.pool] = threading.RLock()  # a nested write fails as before
        return lock


def lock_writes(connection: Connection, key: int) -> None:
    """Serialise writers on PostgreSQL until the transaction ends (SQLite: BEGIN IMMEDIATE)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


@translate_db_errors
def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; cheap when it is already there.

    One migration at a time: a lock in this process, and the database's write lock (SQLite
    BEGIN IMMEDIATE, a PostgreSQL advisory lock) between processes starting together."""
    with _MIGRATE_LOCK, write_engine(engine).begin() as connection:
        lock_writes(connection, MIGRATION_LOCK_KEY)
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def alembic_config() -> Config:
    """Alembic settings that do not depend on the working directory or an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def _sqlite_engine(url: str) -> Engine:
    in_memory = make_url(url).database in (None, "", ":memory:")
    engine = create_engine(
        url,
        json_serializer=_dump_json,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        # One shared connection, or every checkout would see its own empty database.
        poolclass=pool.StaticPool if in_memory else pool.QueuePool,
    )
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own BEGIN handling is off so that `_begin_sqlite` decides how to begin
    # (SQLAlchemy's documented recipe; so do not use isolation_level="AUTOCOMMIT" here).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; fsync at checkpoints only
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _dump_json(value: Any) -> str:
    # Readable Chinese in the database, and LIKE on JSON text matches it.
    return json.dumps(value, ensure_ascii=False)
