"""Writes by another process (a CLI import, a second server) reach this one through the feed."""

from __future__ import annotations

import time

import pytest

from knowledge_base.errors import EntryNotFound
from knowledge_base.feed import FeedFollower
from knowledge_base.models import Entry, EntryCreate, EntryUpdate
from knowledge_base.store import KnowledgeBaseStore

Heard = list[tuple[str, str, int | None]]


def faq(entry_id: str, text: str = "到派出所补办。") -> EntryCreate:
    return EntryCreate(id=entry_id, title="身份证丢了怎么补办", text=text)


def listen(store: KnowledgeBaseStore) -> Heard:
    heard: Heard = []

    def record(action: str, entry_id: str, entry: Entry | None) -> None:
        heard.append((action, entry_id, entry.version if entry else None))

    store.subscribe(record)
    return heard


def test_catch_up_delivers_foreign_writes_with_current_content(
    store: KnowledgeBaseStore, other: KnowledgeBaseStore
) -> None:
    seq = store.last_change_seq()
    heard = listen(store)
    other.create(faq("faq-1"), "cli")
    other.update("faq-1", EntryUpdate(text="可在网上申请补办。"), "cli")
    other.create(faq("faq-2"), "cli")
    other.delete("faq-2", "cli")
    seq = store.catch_up(seq)
    # one event per entry, with what the entry is now (two writes to faq-1: version 2)
    assert sorted(heard) == [("delete", "faq-2", None), ("update", "faq-1", 2)]
    assert seq == store.last_change_seq()
    assert store.catch_up(seq) == seq and len(heard) == 2  # nothing new: nothing said


def test_own_writes_are_not_delivered_twice(
    store: KnowledgeBaseStore, other: KnowledgeBaseStore
) -> None:
    seq = store.last_change_seq()
    heard = listen(store)
    store.create(faq("faq-1"), "api")
    store.delete("faq-1", "api")
    assert heard == [("create", "faq-1", 1), ("delete", "faq-1", None)]  # at commit
    other.create(faq("faq-2"), "cli")
    store.catch_up(seq)
    assert heard[2:] == [("create", "faq-2", 1)]  # only the foreign write


def test_a_newer_foreign_write_after_our_own_is_delivered(
    store: KnowledgeBaseStore, other: KnowledgeBaseStore
) -> None:
    seq = store.last_change_seq()
    store.create(faq("faq-1"), "api")
    heard = listen(store)
    other.update("faq-1", EntryUpdate(text="新的答案。"), "cli")
    store.catch_up(seq)
    assert heard == [("update", "faq-1", 2)]


def test_a_followed_store_keeps_entries_until_the_feed_changes_them(
    store: KnowledgeBaseStore, other: KnowledgeBaseStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import knowledge_base.store as store_module

    monkeypatch.setattr(store_module, "ENTRY_CACHE_TTL_S", 0.0)  # age alone would drop them
    other.create(faq("faq-1"), "cli")
    seq = store.last_change_seq()
    store.followed()
    assert store.get("faq-1").version == 1
    other.update("faq-1", EntryUpdate(text="新的答案。"), "cli")
    assert store.get("faq-1").version == 1  # kept: the feed has not been read yet
    seq = store.catch_up(seq)
    assert store.get("faq-1").text == "新的答案。"
    other.delete("faq-1", "cli")
    store.catch_up(seq)
    with pytest.raises(EntryNotFound):
        store.get("faq-1")


def test_the_follower_thread_brings_foreign_writes_within_a_second(
    store: KnowledgeBaseStore, other: KnowledgeBaseStore
) -> None:
    heard = listen(store)
    follower = FeedFollower(store, store.last_change_seq(), interval_s=0.1).start()
    try:
        other.create(faq("faq-1"), "cli")
        deadline = time.monotonic() + 5
        while not heard and time.monotonic() < deadline:
            time.sleep(0.02)
        assert heard == [("create", "faq-1", 1)]
        assert store.get("faq-1").version == 1
    finally:
        follower.close()


def test_interval_must_be_positive(store: KnowledgeBaseStore) -> None:
    with pytest.raises(ValueError):
        FeedFollower(store, 0, interval_s=0)
