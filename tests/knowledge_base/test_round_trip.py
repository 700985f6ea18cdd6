"""Export then import gives back exactly the same entries, in every format."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.errors import KnowledgeBaseError
from knowledge_base.importers import ImportReport, export_file, import_file, read_rows
from knowledge_base.models import EntryCreate
from knowledge_base.store import KnowledgeBaseStore

FORMATS = ["jsonl", "json", "yaml", "csv", "xlsx"]


def contents(store: KnowledgeBaseStore) -> list[dict[str, object]]:
    fields = set(EntryCreate.model_fields)
    return [entry.model_dump(mode="json", include=fields) for entry in store.iter_all()]


@pytest.mark.parametrize("suffix", FORMATS)
def test_export_then_read_gives_the_same_entries(
    store: KnowledgeBaseStore, samples: list[EntryCreate], tmp_path: Path, suffix: str
) -> None:
    store.upsert_many(samples, "loader")
    path = tmp_path / f"export.{suffix}"
    assert export_file(store, path) == len(samples)
    results = list(read_rows(path))
    assert [r.error for r in results] == [None] * len(samples)
    by_id = {sample.id: sample for sample in samples}
    for result in results:
        assert result.entry is not None
        assert result.entry == by_id[result.entry.id]


@pytest.mark.parametrize("suffix", FORMATS)
def test_export_import_round_trip(
    store: KnowledgeBaseStore, samples: list[EntryCreate], tmp_path: Path, suffix: str
) -> None:
    store.upsert_many(samples, "loader")
    before = contents(store)
    path = tmp_path / f"export.{suffix}"
    export_file(store, path)
    assert import_file(store, path, "importer") == ImportReport(unchanged=len(samples))
    store.replace_all(samples[:1], "wipe")
    assert import_file(store, path, "importer", replace=True) == ImportReport(
        updated=0, created=len(samples) - 1, unchanged=1)
    assert contents(store) == before


def test_csv_keeps_simple_lists_readable(
    store: KnowledgeBaseStore, samples: list[EntryCreate], tmp_path: Path
) -> None:
    store.upsert_many(samples, "loader")
    export_file(store, tmp_path / "export.csv")
    text = (tmp_path / "export.csv").read_text(encoding="utf-8-sig")
    assert "居住证|流动人口" in text  # plain lists joined for people editing in Excel
    assert '[""[新生儿]"", ""户口, 申报""]' in text  # ...JSON where a join would not split back


def test_export_replaces_the_file_whole(
    store: KnowledgeBaseStore, samples: list[EntryCreate], tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "export.jsonl"
    path.write_text("旧内容\n" * 100, encoding="utf-8")
    store.upsert_many(samples[:2], "loader")
    export_file(store, path)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2
    assert [p.name for p in path.parent.iterdir()] == ["export.jsonl"]  # no leftovers


def test_export_to_an_unknown_format_is_refused(store: KnowledgeBaseStore, tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="cannot export"):
        export_file(store, tmp_path / "export.txt")
