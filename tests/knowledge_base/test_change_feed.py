"""How an indexer follows edits: listeners after commit, and the change feed of revision ids."""

from __future__ import annotations

import logging
import threading

import pytest

from knowledge_base.errors import EntryConflict
from knowledge_base.models import Entry, EntryCreate, EntryUpdate
from knowledge_base.store import KnowledgeBaseStore

Event = tuple[str, str, Entry | None]


def faq(entry_id: str, text: str = "答案") -> EntryCreate:
    return EntryCreate(id=entry_id, title="怎么办理营业执照", text=text)


def test_changes_after_lists_every_write_in_order(store: KnowledgeBaseStore) -> None:
    assert store.last_change_seq() == 0 and store.changes_after(0) == []
    store.create(faq("faq-1"), "alice")
    store.update("faq-1", EntryUpdate(text="新答案"), "bob")
    store.create(faq("faq-2"), "alice")
    store.delete("faq-1", "carol")
    changes = store.changes_after(0)
    assert [(c.entry_id, c.action, c.version) for c in changes] == [
        ("faq-1", "create", 1),
        ("faq-1", "update", 2),
        ("faq-2", "create", 1),
        ("faq-1", "delete", 3),
    ]
    assert [c.deleted for c in changes] == [False, False, False, True]
    assert [c.seq for c in changes] == sorted({c.seq for c in changes})
    assert store.last_change_seq() == changes[-1].seq
    assert store.changes_after(changes[1].seq) == changes[2:]
    assert store.changes_after(0, limit=2) == changes[:2]


def test_rebuild_then_follow(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1"), "alice")
    cursor = store.last_change_seq()  # read before the full scan: nothing falls in between
    indexed = {entry.id for entry in store.iter_all()}
    store.create(faq("faq-2"), "bob")
    assert indexed == {"faq-1"}
    assert [c.entry_id for c in store.changes_after(cursor)] == ["faq-2"]


def test_feed_sees_writes_from_another_process(
    store: KnowledgeBaseStore, other: KnowledgeBaseStore
) -> None:
    heard: list[Event] = []
    store.subscribe(lambda *event: heard.append(event))
    cursor = store.last_change_seq()
    other.create(faq("faq-1"), "cli")
    other.delete("faq-1", "cli")
    assert heard == []  # listeners are per process...
    assert [(c.entry_id, c.action) for c in store.changes_after(cursor)] == [
        ("faq-1", "create"), ("faq-1", "delete")]  # ...the feed is not


def test_a_follower_never_misses_a_concurrent_write(store: KnowledgeBaseStore) -> None:
    done = threading.Event()
    seen: list[int] = []

    def follow() -> None:
        cursor = 0
        while True:
            finished = done.is_set()  # one more poll after the writers stop
            for change in store.changes_after(cursor):
                seen.append(change.seq)
                cursor = change.seq
            if finished:
                return

    def write(n: int) -> None:
        for k in range(15):
            store.create(faq(f"faq-{n}-{k}"), f"writer-{n}")

    follower = threading.Thread(target=follow)
    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    follower.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    follower.join()
    assert seen == [c.seq for c in store.changes_after(0)]
    assert len(seen) == 60


def test_listeners_hear_each_write_after_commit(
    store: KnowledgeBaseStore, other: KnowledgeBaseStore
) -> None:
    heard: list[tuple[str, str, int | None, bool]] = []

    def listen(action: str, entry_id: str, entry: Entry | None) -> None:
        visible = any(e.id == entry_id for e in other.list())  # committed: another pool sees it
        heard.append((action, entry_id, entry.version if entry else None, visible))

    store.subscribe(listen)
    store.create(faq("faq-1"), "alice")
    store.update("faq-1", EntryUpdate(text="新答案"), "bob")
    store.delete("faq-1", "carol")
    store.restore("faq-1", 2, "dave")
    assert heard == [("create", "faq-1", 1, True), ("update", "faq-1", 2, True),
                     ("delete", "faq-1", None, False), ("restore", "faq-1", 4, True)]


def test_listeners_hear_bulk_writes_but_not_unchanged_entries(
    store: KnowledgeBaseStore, samples: list[EntryCreate]
) -> None:
    store.upsert_many(samples, "loader")
    heard: list[tuple[str, str]] = []
    store.subscribe(lambda action, entry_id, entry: heard.append((action, entry_id)))
    changed = samples[1].model_copy(update={"text": "额度再次调整。"})
    store.replace_all([samples[0], changed], "importer")
    assert heard == [("import", samples[1].id), *sorted(("delete", s.id) for s in samples[2:])]


def test_no_event_for_a_write_that_failed(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1"), "alice")
    heard: list[Event] = []
    store.subscribe(lambda *event: heard.append(event))
    with pytest.raises(EntryConflict):
        store.create(faq("faq-1"), "bob")
    assert heard == []


def test_a_failing_listener_neither_undoes_the_write_nor_silences_others(
    store: KnowledgeBaseStore, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[str] = []

    def broken(action: str, entry_id: str, entry: Entry | None) -> None:
        raise RuntimeError("index is full")

    store.subscribe(broken)
    store.subscribe(lambda action, entry_id, entry: heard.append(entry_id))
    with caplog.at_level(logging.ERROR, logger="knowledge_base.store"):
        store.create(faq("faq-1"), "alice")
    assert store.get("faq-1").version == 1
    assert heard == ["faq-1"]
    assert "listener failed" in caplog.text


def test_unsubscribe_stops_the_calls(store: KnowledgeBaseStore) -> None:
    heard: list[str] = []
    unsubscribe = store.subscribe(lambda action, entry_id, entry: heard.append(entry_id))
    store.create(faq("faq-1"), "alice")
    unsubscribe()
    unsubscribe()  # twice is harmless
    store.create(faq("faq-2"), "alice")
    assert heard == ["faq-1"]
