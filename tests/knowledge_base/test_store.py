"""The store contract: every test runs on SQLite and on PostgreSQL (see conftest `engine`)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine

from knowledge_base import store as store_module
from knowledge_base.errors import (
    EntryConflict,
    EntryNotFound,
    InvalidEntry,
    KnowledgeBaseError,
    RevisionNotFound,
)
from knowledge_base.models import EntryCreate, EntryUpdate, GuideDetails, Material
from knowledge_base.store import KnowledgeBaseStore


def faq(entry_id: str, title: str = "身份证丢了怎么补办", **fields: object) -> EntryCreate:
    data = {"id": entry_id, "title": title, "text": "到派出所补办。", **fields}
    return EntryCreate.model_validate(data)


def test_create_then_get_returns_what_was_stored(
    store: KnowledgeBaseStore, samples: list[EntryCreate]
) -> None:
    for sample in samples:
        created = store.create(sample, "编辑甲")
        fetched = store.get(sample.id)
        assert fetched == created
        assert fetched.model_dump(include=set(EntryCreate.model_fields)) == sample.model_dump()
        assert fetched.version == 1
        assert fetched.created_at is not None and fetched.created_at.tzinfo is not None
        assert fetched.created_at == fetched.updated_at


def test_create_an_existing_id_conflicts(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1"), "alice")
    with pytest.raises(EntryConflict):
        store.create(faq("faq-1", "另一个标题"), "bob")
    assert store.get("faq-1").title == "身份证丢了怎么补办"
    assert len(store.revisions("faq-1")) == 1


def test_get_unknown_id_is_not_found(store: KnowledgeBaseStore) -> None:
    with pytest.raises(EntryNotFound) as caught:
        store.get("nope")
    assert isinstance(caught.value, KnowledgeBaseError)


def test_update_changes_only_the_fields_set_and_bumps_version(store: KnowledgeBaseStore) -> None:
    created = store.create(faq("faq-1", keywords=["身份证"], department="市公安局"), "alice")
    updated = store.update("faq-1", EntryUpdate(text="可在网上申请补办。"), "bob")
    assert updated.text == "可在网上申请补办。"
    assert (updated.title, updated.keywords, updated.department) == (
        created.title, ["身份证"], "市公安局")
    assert updated.version == 2
    assert updated.created_at == created.created_at
    assert updated.updated_at is not None and created.updated_at is not None
    assert updated.updated_at >= created.updated_at
    assert store.get("faq-1") == updated


def test_update_can_clear_an_optional_field(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1", department="市公安局"), "alice")
    assert store.update("faq-1", EntryUpdate(department=None), "bob").department is None


def test_update_with_no_change_writes_no_revision(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1"), "alice")
    same = store.update("faq-1", EntryUpdate(title="身份证丢了怎么补办"), "bob")
    assert same.version == 1
    assert len(store.revisions("faq-1")) == 1


def test_update_that_breaks_the_schema_is_invalid(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1"), "alice")
    with pytest.raises(InvalidEntry):
        store.update("faq-1", EntryUpdate(guide=GuideDetails(steps=["预约"])), "bob")
    with pytest.raises(InvalidEntry):
        store.update("faq-1", EntryUpdate(title=None), "bob")
    assert store.get("faq-1").version == 1


def test_update_unknown_id_is_not_found(store: KnowledgeBaseStore) -> None:
    with pytest.raises(EntryNotFound):
        store.update("nope", EntryUpdate(text="x"), "bob")


def test_stale_expected_version_conflicts(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1"), "alice")
    store.update("faq-1", EntryUpdate(text="第二版"), "bob", expected_version=1)
    with pytest.raises(EntryConflict) as caught:
        store.update("faq-1", EntryUpdate(text="基于旧版本的修改"), "carol", expected_version=1)
    assert caught.value.current_version == 2
    with pytest.raises(EntryConflict):
        store.delete("faq-1", "carol", expected_version=1)
    assert store.get("faq-1").text == "第二版"


def test_concurrent_editors_with_the_same_version_one_wins(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1"), "alice")
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def edit(n: int) -> None:
        barrier.wait()
        try:
            patch = EntryUpdate(text=f"编辑{n}的答案")
            store.update("faq-1", patch, f"editor-{n}", expected_version=1)
            outcomes.append("ok")
        except EntryConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["ok"]
    assert [r.version for r in store.revisions("faq-1")] == [1, 2]


def test_concurrent_unconditional_updates_lose_nothing(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1"), "alice")

    def edit(n: int) -> None:
        for round_ in range(5):
            store.update("faq-1", EntryUpdate(text=f"{n}-{round_}"), f"editor-{n}")

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("faq-1").version == 21
    assert [r.version for r in store.revisions("faq-1")] == list(range(1, 22))


def test_every_write_is_a_revision_with_author_action_and_snapshot(
    store: KnowledgeBaseStore
) -> None:
    store.create(faq("faq-1"), "alice")
    store.update("faq-1", EntryUpdate(text="新的答案"), "bob")
    store.delete("faq-1", "carol")
    revisions = store.revisions("faq-1")
    assert [(r.version, r.author, r.action) for r in revisions] == [
        (1, "alice", "create"), (2, "bob", "update"), (3, "carol", "delete")]
    assert revisions[0].snapshot is not None and revisions[0].snapshot["text"] == "到派出所补办。"
    assert revisions[1].snapshot is not None and revisions[1].snapshot["text"] == "新的答案"
    assert revisions[2].snapshot is None
    assert all(r.created_at.tzinfo is not None for r in revisions)
    assert revisions[0].created_at <= revisions[1].created_at <= revisions[2].created_at


def test_delete_removes_the_entry_but_keeps_history(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1"), "alice")
    store.delete("faq-1", "bob")
    with pytest.raises(EntryNotFound):
        store.get("faq-1")
    with pytest.raises(EntryNotFound):
        store.delete("faq-1", "bob")
    assert store.count() == 0
    assert [r.action for r in store.revisions("faq-1")] == ["create", "delete"]


def test_revisions_of_an_unknown_id_are_empty(store: KnowledgeBaseStore) -> None:
    assert store.revisions("nope") == []


def test_restore_an_old_version_is_a_new_version(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1"), "alice")
    store.update("faq-1", EntryUpdate(text="改错了的答案"), "bob")
    restored = store.restore("faq-1", 1, "carol")
    assert restored.text == "到派出所补办。"
    assert restored.version == 3
    assert store.revisions("faq-1")[-1].action == "restore"


def test_restore_re_creates_a_deleted_entry_and_continues_its_history(
    store: KnowledgeBaseStore, samples: list[EntryCreate]
) -> None:
    guide = samples[0]
    store.create(guide, "alice")
    store.delete(guide.id, "bob")
    restored = store.restore(guide.id, 1, "carol")
    assert restored.guide == guide.guide
    assert restored.version == 3
    assert [r.action for r in store.revisions(guide.id)] == ["create", "delete", "restore"]
    assert store.get(guide.id) == restored


def test_create_after_delete_continues_the_version_numbers(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1"), "alice")
    store.delete("faq-1", "bob")
    assert store.create(faq("faq-1", "重新建立"), "carol").version == 3


def test_restore_missing_or_deleted_versions_is_not_found(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1"), "alice")
    store.delete("faq-1", "bob")
    with pytest.raises(RevisionNotFound):
        store.restore("faq-1", 9, "carol")
    with pytest.raises(RevisionNotFound, match="deletion"):
        store.restore("faq-1", 2, "carol")
    with pytest.raises(EntryNotFound):
        store.restore("never-existed", 1, "carol")


def test_list_filters_searches_and_pages(
    store: KnowledgeBaseStore, samples: list[EntryCreate]
) -> None:
    store.upsert_many(samples, "loader")
    assert [e.id for e in store.list()] == sorted(s.id for s in samples)
    assert [e.id for e in store.list(kind="guide")] == ["guide-juzhuzheng"]
    assert [e.id for e in store.list(status="draft")] == ["faq-hukou-2"]
    assert [e.id for e in store.list(query="居住证")] == ["guide-juzhuzheng"]  # title and questions
    assert [e.id for e in store.list(query="在哪办")] == ["faq-shebao-1"]  # in a similar question
    assert [e.id for e in store.list(query="贷款额度")] == ["policy-gjj-2024"]  # a keyword
    assert [e.id for e in store.list(query="FAQ-SHEBAO")] == ["faq-shebao-1"]  # id, any case
    assert store.list(query="100%_") == []  # LIKE wildcards are literal
    assert store.count() == 5 and store.count(kind="faq") == 3 and store.count(query="户口") == 1
    page = [e.id for e in store.list(offset=1, limit=2)]
    assert page == sorted(s.id for s in samples)[1:3]
    with pytest.raises(ValueError):
        store.list(limit=0)


def test_iter_all_yields_every_entry_across_batches(store: KnowledgeBaseStore) -> None:
    store.upsert_many([faq(f"faq-{n:04d}", f"问题{n}") for n in range(1203)], "loader")
    ids = [entry.id for entry in store.iter_all()]
    assert ids == [f"faq-{n:04d}" for n in range(1203)]


def test_author_is_required(store: KnowledgeBaseStore) -> None:
    with pytest.raises(InvalidEntry):
        store.create(faq("faq-1"), "  ")


def test_timestamps_are_utc(store: KnowledgeBaseStore) -> None:
    before = dt.datetime.now(dt.UTC)
    entry = store.create(faq("faq-1"), "alice")
    assert entry.created_at is not None and entry.created_at.utcoffset() == dt.timedelta(0)
    assert before <= entry.created_at <= dt.datetime.now(dt.UTC)


def test_details_survive_storage(store: KnowledgeBaseStore, samples: list[EntryCreate]) -> None:
    guide, policy = samples[0], samples[1]
    store.create(guide, "alice")
    store.create(policy, "alice")
    assert store.get(guide.id).guide == guide.guide
    assert store.get(policy.id).policy == policy.policy
    patch = EntryUpdate(guide=GuideDetails(materials=[Material(name="户口簿")]))
    patched = store.update(guide.id, patch, "bob")
    assert patched.guide is not None and [m.name for m in patched.guide.materials] == ["户口簿"]


def test_recently_read_entries_follow_every_write_of_this_store(store: KnowledgeBaseStore) -> None:
    store.create(faq("faq-1"), "alice")
    assert store.get("faq-1").version == 1  # now kept
    store.update("faq-1", EntryUpdate(text="可在网上申请补办。"), "bob")
    assert store.get("faq-1").text == "可在网上申请补办。"
    store.delete("faq-1", "bob")
    with pytest.raises(EntryNotFound):
        store.get("faq-1")
    store.restore("faq-1", 1, "carol")
    assert store.get("faq-1").text == "到派出所补办。"


def test_a_write_by_another_process_is_seen_within_the_cache_lifetime(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, editor = KnowledgeBaseStore(engine), KnowledgeBaseStore(engine)  # two processes
    editor.create(faq("faq-1"), "alice")
    assert server.get("faq-1").version == 1
    editor.update("faq-1", EntryUpdate(text="新的答案。"), "bob")
    assert server.get("faq-1").version == 1  # within ENTRY_CACHE_TTL_S: the kept copy
    monkeypatch.setattr(store_module, "ENTRY_CACHE_TTL_S", 0.0)
    assert server.get("faq-1").text == "新的答案。"
