"""The entries an index holds and which dense vectors belong to each.

Every `DenseText` of an entry gets its own int64 vector id in FAISS; the catalog
maps ids back to (entry, text), so a hit can say what matched (a similar question,
the title) and an edit knows which vectors to drop.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from retrieval.document import DenseText, IndexedEntry
from retrieval.errors import IndexCorrupt


@dataclass(frozen=True)
class VectorOwner:
    entry_id: str
    text: DenseText


class Catalog:
    """Mutable table of indexed entries; callers serialise edits (see `ReadWriteLock`)."""

    def __init__(self) -> None:
        self.entries: dict[str, IndexedEntry] = {}
        # The service guides alone, in the same order: a matter's menu looks through these
        # only (a 20,000-entry FAQ import holds none, and scanning it cost 4 ms a question).
        self.guides: dict[str, IndexedEntry] = {}
        self.vector_ids: dict[str, tuple[int, ...]] = {}
        self.owners: dict[int, VectorOwner] = {}
        self.next_vector_id = 0

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self.entries

    def allocate(self, count: int) -> tuple[int, ...]:
        """Fresh vector ids; ids are never reused, so a stale id cannot alias."""
        start, self.next_vector_id = self.next_vector_id, self.next_vector_id + count
        return tuple(range(start, start + count))

    def put(self, entry: IndexedEntry, vector_ids: tuple[int, ...]) -> tuple[int, ...]:
        """Store `entry` with its vector ids; returns the ids it replaced."""
        old = self.drop(entry.entry_id)
        self.entries[entry.entry_id] = entry
        if entry.kind == "guide":
            self.guides[entry.entry_id] = entry
        self.vector_ids[entry.entry_id] = vector_ids
        for vector_id, text in zip(vector_ids, entry.dense_texts, strict=True):
            self.owners[vector_id] = VectorOwner(entry.entry_id, text)
        return old

    def drop(self, entry_id: str) -> tuple[int, ...]:
        """Forget `entry_id`; returns its vector ids (empty if unknown)."""
        self.entries.pop(entry_id, None)
        self.guides.pop(entry_id, None)
        old = self.vector_ids.pop(entry_id, ())
        for vector_id in old:
            self.owners.pop(vector_id, None)
        return old

    def to_json(self) -> dict[str, Any]:
        rows = [asdict(e) | {"vector_ids": list(self.vector_ids[e.entry_id])}
                for e in self.entries.values()]
        return {"next_vector_id": self.next_vector_id, "entries": rows}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Catalog:
        catalog = cls()
        try:
            for row in data["entries"]:
                catalog.put(*entry_from_row(dict(row)))
            catalog.next_vector_id = int(data["next_vector_id"])
        except (KeyError, TypeError, ValueError) as error:
            raise IndexCorrupt(f"unreadable catalog: {error}") from error
        return catalog


def entry_from_row(row: dict[str, Any]) -> tuple[IndexedEntry, tuple[int, ...]]:
    vector_ids = tuple(int(i) for i in row.pop("vector_ids"))
    row["dense_texts"] = tuple(DenseText(**t) for t in row["dense_texts"])
    row["questions"], row["keywords"] = tuple(row["questions"]), tuple(row["keywords"])
    if row.get("expires_on"):
        row["expires_on"] = dt.date.fromisoformat(str(row["expires_on"]))
    return IndexedEntry(**row), vector_ids


def catalog_path(directory: Path) -> Path:
    return directory / "catalog.json"
