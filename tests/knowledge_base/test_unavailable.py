"""When the database goes away the store raises StoreUnavailable, and it recovers by itself.

PostgreSQL is reached through a loopback TCP relay that the test cuts and restores, so the
outage happens at the socket level, stale pooled connections included."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url

from knowledge_base.db import create_engine_for, migrate, sqlite_url
from knowledge_base.errors import KnowledgeBaseError, StoreUnavailable
from knowledge_base.feed import FeedFollower
from knowledge_base.models import EntryCreate, EntryUpdate
from knowledge_base.store import KnowledgeBaseStore
from tests.tcp_relay import TcpRelay

ENTRY = EntryCreate(id="faq-1", title="公积金怎么提取", text="登录公积金网上服务大厅申请。")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unopenable_sqlite_file_is_unavailable_until_it_can_be_opened(tmp_path: Path) -> None:
    data_dir = tmp_path / "not-mounted-yet"
    engine = create_engine_for(f"sqlite:///{data_dir / 'bot.sqlite3'}")
    store = KnowledgeBaseStore(engine)  # constructing touches nothing
    with pytest.raises(StoreUnavailable) as caught:
        store.get("faq-1")
    assert isinstance(caught.value, KnowledgeBaseError)
    with pytest.raises(StoreUnavailable):
        store.create(ENTRY, "alice")
    with pytest.raises(StoreUnavailable):
        list(store.iter_all())
    with pytest.raises(StoreUnavailable):
        migrate(engine)  # at start-up: a clear error rather than a driver traceback
    sqlite_url(data_dir)  # the volume appears
    migrate(engine)
    assert store.create(ENTRY, "alice").version == 1
    engine.dispose()


@pytest.mark.postgres
def test_closed_postgres_port_is_unavailable() -> None:
    engine = create_engine_for(f"postgresql://postgres@127.0.0.1:{closed_port()}/test")
    store = KnowledgeBaseStore(engine)
    calls = (lambda: store.get("faq-1"), store.count, lambda: store.create(ENTRY, "a"),
             lambda: store.changes_after(0))
    for call in calls:
        with pytest.raises(StoreUnavailable, match="unavailable"):
            call()
    engine.dispose()


@pytest.fixture
def relay(pg_url: str) -> Iterator[TcpRelay]:
    url = make_url(pg_url)
    relay = TcpRelay((url.host or "127.0.0.1", url.port or 5432))
    relay.start()
    yield relay
    relay.cut()


@pytest.fixture
def relayed_store(pg_url: str, relay: TcpRelay) -> Iterator[KnowledgeBaseStore]:
    url = make_url(pg_url).set(host="127.0.0.1", port=relay.port)
    engine = create_engine_for(url.render_as_string(hide_password=False))
    store = KnowledgeBaseStore(engine)
    store.replace_all([ENTRY], "test")
    yield store
    engine.dispose()


@pytest.mark.postgres
def test_postgres_outage_then_recovery(relay: TcpRelay, relayed_store: KnowledgeBaseStore) -> None:
    store = relayed_store
    assert store.get("faq-1").title == ENTRY.title
    relay.cut()
    assert store.get("faq-1").title == ENTRY.title  # read moments ago: the kept copy
    with pytest.raises(StoreUnavailable):
        store.get("faq-2")  # not kept: the database must answer
    with pytest.raises(StoreUnavailable):
        store.count()
    with pytest.raises(StoreUnavailable):
        store.update("faq-1", EntryUpdate(text="停机期间的修改"), "alice")
    relay.start()
    assert store.get("faq-1").text == ENTRY.text  # the failed write left nothing behind
    assert store.update("faq-1", EntryUpdate(text="恢复后的修改"), "alice").text == "恢复后的修改"


@pytest.mark.postgres
def test_stale_pooled_connections_are_replaced_without_an_error(
    relay: TcpRelay, relayed_store: KnowledgeBaseStore
) -> None:
    store = relayed_store
    store.get("faq-1")  # leaves a connection in the pool
    relay.cut()
    relay.start()  # the server "restarted" while the pool was idle
    assert store.get("faq-1").title == ENTRY.title  # pre-ping found the dead one


@pytest.mark.postgres
def test_the_feed_follower_waits_out_an_outage_and_resumes_where_it_was(
    pg_url: str, relay: TcpRelay, relayed_store: KnowledgeBaseStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = relayed_store
    heard: list[tuple[str, str]] = []
    store.subscribe(lambda action, entry_id, entry: heard.append((action, entry_id)))
    follower = FeedFollower(store, store.last_change_seq(), interval_s=60)  # polled by hand
    relay.cut()
    editor_engine = create_engine_for(pg_url)  # another process, not behind the relay
    KnowledgeBaseStore(editor_engine).create(
        EntryCreate(id="faq-2", title="社保卡丢了怎么办", text="先挂失再补办。"), "cli")
    editor_engine.dispose()
    with caplog.at_level(logging.WARNING, logger="knowledge_base.feed"):
        follower.poll()
        follower.poll()
    assert caplog.text.count("change feed paused") == 1 and heard == []
    relay.start()
    follower.poll()
    assert heard == [("create", "faq-2")]
    assert store.get("faq-2").text == "先挂失再补办。"
