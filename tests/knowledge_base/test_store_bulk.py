"""Bulk writes of the store contract: upsert_many and replace_all, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from knowledge_base.errors import InvalidEntry
from knowledge_base.models import EntryCreate, EntryUpdate
from knowledge_base.store import KnowledgeBaseStore, UpsertReport


def test_upsert_creates_updates_and_leaves_identical_entries_alone(
    store: KnowledgeBaseStore, samples: list[EntryCreate]
) -> None:
    assert store.upsert_many(samples, "loader") == UpsertReport(created=5)
    changed = samples[2].model_copy(update={"text": "现在可以全程网办。"})
    report = store.upsert_many([*samples[:2], changed, *samples[3:]], "loader")
    assert report == UpsertReport(updated=1, unchanged=4)
    assert store.get(changed.id).text == "现在可以全程网办。"
    assert store.get(changed.id).version == 2
    assert [r.action for r in store.revisions(changed.id)] == ["import", "import"]
    assert len(store.revisions(samples[0].id)) == 1  # unchanged: no new revision


def test_upsert_twice_is_unchanged(store: KnowledgeBaseStore, samples: list[EntryCreate]) -> None:
    store.upsert_many(samples, "loader")
    seq = store.last_change_seq()
    assert store.upsert_many(samples, "loader") == UpsertReport(unchanged=5)
    assert store.changes_after(seq) == []


def test_upsert_rejects_duplicate_ids_and_writes_nothing(
    store: KnowledgeBaseStore, samples: list[EntryCreate]
) -> None:
    with pytest.raises(InvalidEntry, match="twice"):
        store.upsert_many([samples[0], samples[2], samples[0]], "loader")
    assert store.count() == 0


def test_upsert_after_edit_by_hand_overwrites_it(
    store: KnowledgeBaseStore, samples: list[EntryCreate]
) -> None:
    store.upsert_many(samples, "loader")
    store.update(samples[2].id, EntryUpdate(title="编辑改过的标题"), "editor")
    assert store.upsert_many(samples, "loader") == UpsertReport(updated=1, unchanged=4)
    assert store.get(samples[2].id).title == samples[2].title


def test_replace_all_deletes_what_is_missing_with_revisions(
    store: KnowledgeBaseStore, samples: list[EntryCreate]
) -> None:
    store.upsert_many(samples, "loader")
    changed = samples[0].model_copy(update={"title": "居住证申领"})
    report = store.replace_all([changed, samples[1]], "importer")
    assert report == UpsertReport(updated=1, unchanged=1, deleted=3)
    assert sorted(e.id for e in store.iter_all()) == sorted([samples[0].id, samples[1].id])
    last = store.revisions(samples[2].id)[-1]
    assert (last.action, last.author) == ("delete", "importer")
    assert store.revisions(samples[2].id)[-1].snapshot is None


def test_replace_all_keeps_the_ids_it_is_told_to_keep(
    store: KnowledgeBaseStore, samples: list[EntryCreate]
) -> None:
    store.upsert_many(samples, "loader")
    report = store.replace_all([samples[0]], "importer", keep=[samples[2].id])
    assert report.deleted == 3
    assert sorted(e.id for e in store.iter_all()) == sorted([samples[0].id, samples[2].id])


def test_replace_all_with_nothing_is_refused(
    store: KnowledgeBaseStore, samples: list[EntryCreate]
) -> None:
    store.upsert_many(samples, "loader")
    with pytest.raises(InvalidEntry):
        store.replace_all([], "importer")
    assert store.count() == 5


def test_replace_all_then_restore_brings_an_entry_back(
    store: KnowledgeBaseStore, samples: list[EntryCreate]
) -> None:
    store.upsert_many(samples, "loader")
    store.replace_all(samples[:1], "importer")
    restored = store.restore(samples[3].id, 1, "editor")
    assert restored.model_dump(include=set(EntryCreate.model_fields)) == samples[3].model_dump()


def test_bulk_upsert_of_many_entries(store: KnowledgeBaseStore) -> None:
    entries = [EntryCreate(id=f"faq-{n}", title=f"问题{n}", text=f"答案{n}") for n in range(1500)]
    assert store.upsert_many(entries, "loader").created == 1500
    edited = [e.model_copy(update={"text": "改"}) if n % 100 == 0 else e
              for n, e in enumerate(entries)]
    assert store.upsert_many(edited, "loader") == UpsertReport(updated=15, unchanged=1485)
    assert store.count() == 1500
