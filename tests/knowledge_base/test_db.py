"""Engines and migrations: SQLite pragmas, PostgreSQL pre-ping, `migrate` on every start."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, make_url, text

from knowledge_base.db import alembic_config, create_engine_for, migrate, sqlite_url
from knowledge_base.models import EntryCreate
from knowledge_base.store import KnowledgeBaseStore
from knowledge_base.tables import Base

REPO = Path(__file__).resolve().parents[2]
KB_TABLES = {"entries", "entry_revisions"}


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"migration history must stay one line, heads: {heads}"
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_sqlite_url_points_into_a_created_data_dir(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "var" / "data")
    assert (tmp_path / "var" / "data").is_dir()
    assert make_url(url).database == str(tmp_path / "var" / "data" / "bot.sqlite3")


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_engine: Engine) -> None:
    pragmas = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}
    with sqlite_engine.connect() as connection:
        for name, expected in pragmas.items():
            assert connection.exec_driver_sql(f"PRAGMA {name}").scalar() == expected


def test_sqlite_engine_works_across_threads(sqlite_engine: Engine) -> None:
    store = KnowledgeBaseStore(sqlite_engine)
    entry = EntryCreate(id="a", title="题", text="答")
    thread = threading.Thread(target=store.create, args=(entry, "t"))
    thread.start()
    thread.join()
    assert store.get("a").title == "题"


def test_in_memory_sqlite_is_one_shared_database() -> None:
    engine = create_engine_for("sqlite://")
    migrate(engine)
    store = KnowledgeBaseStore(engine)
    store.create(EntryCreate(id="a", title="题", text="答"), "t")
    assert store.count() == 1
    engine.dispose()


def test_postgres_urls_use_psycopg_and_pre_ping() -> None:
    engine = create_engine_for("postgresql://kb@127.0.0.1:5432/bot")
    assert engine.dialect.driver == "psycopg"
    assert engine.pool._pre_ping
    assert create_engine_for("postgres://kb@db/bot").dialect.driver == "psycopg"


def test_migrate_is_idempotent_and_independent_of_the_working_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = create_engine_for(sqlite_url(tmp_path / "data"))
    migrate(engine)
    migrate(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= KB_TABLES
    engine.dispose()


def test_concurrent_migrations_of_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    engines = [create_engine_for(url) for _ in range(4)]  # as if four processes started at once
    threads = [threading.Thread(target=migrate, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(current_revision(engine) == head_revision() for engine in engines)
    for engine in engines:
        engine.dispose()


@pytest.fixture
def fresh_pg_url(pg_url: str) -> Iterator[str]:
    """An empty database beside the session's one."""
    name = f"kb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_concurrent_migrations_of_a_fresh_postgres_database(fresh_pg_url: str) -> None:
    engines = [create_engine_for(fresh_pg_url) for _ in range(4)]
    threads = [threading.Thread(target=migrate, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(current_revision(engine) == head_revision() for engine in engines)
    for engine in engines:
        engine.dispose()


def test_tables_match_the_hand_written_migration(engine: Engine) -> None:
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    # Other packages' tables live in the same database; only ours are compared.
    ours = [d for d in diffs if d[0] not in ("remove_table", "remove_index")
            or _table_of(d) in KB_TABLES]
    assert ours == []


def _table_of(diff: tuple[Any, ...]) -> str:
    item = diff[1]
    return str(item.name if diff[0] == "remove_table" else item.table.name)


def test_alembic_cli_upgrades_and_downgrades(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)

    def alembic(*args: str) -> None:
        ini = str(REPO / "alembic.ini")
        command = [sys.executable, "-m", "alembic", "-c", ini, "-x", f"url={url}", *args]
        result = subprocess.run(command, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr

    alembic("upgrade", "head")
    engine = create_engine_for(url)
    assert set(inspect(engine).get_table_names()) >= KB_TABLES
    alembic("downgrade", "base")
    assert not KB_TABLES & set(inspect(engine).get_table_names())
    migrate(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()
