"""Errors of the knowledge base; HTTP status codes are chosen in routes, not here.

    KnowledgeBaseError
    ├── EntryNotFound        no entry with that id
    │   └── RevisionNotFound   no such version, or the version is a deletion
    ├── EntryConflict        the id exists, or `expected_version` is stale
    ├── InvalidEntry         content the schema rejects (also a ValueError)
    ├── ImportFailed         a file that cannot be imported; `.errors` lists the rows
    └── StoreUnavailable     the database cannot be reached; retry later
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    """Why one row of an import file was rejected; `line` counts from 1."""

    line: int
    id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" ({self.id})" if self.id else "")
        return f"{where}: {self.reason}"


class KnowledgeBaseError(Exception):
    """Root of every error the knowledge base raises on purpose."""


class EntryNotFound(KnowledgeBaseError):
    def __init__(self, entry_id: str, message: str | None = None) -> None:
        super().__init__(message or f"no entry with id {entry_id!r}")
        self.entry_id = entry_id


class RevisionNotFound(EntryNotFound):
    pass


class EntryConflict(KnowledgeBaseError):
    def __init__(
        self, message: str, *, entry_id: str | None = None, current_version: int | None = None
    ) -> None:
        super().__init__(message)
        self.entry_id = entry_id
        self.current_version = current_version


class InvalidEntry(KnowledgeBaseError, ValueError):
    pass


class ImportFailed(KnowledgeBaseError):
    # Shown at most this many row errors in str(); `.errors` keeps them all.
    SHOWN = 10

    def __init__(self, message: str, errors: Sequence[RowError] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors)

    def __str__(self) -> str:
        lines = [self.message, *(f"  {error}" for error in self.errors[: self.SHOWN])]
        if len(self.errors) > self.SHOWN:
            lines.append(f"  ... and {len(self.errors) - self.SHOWN} more")
        return "\n".join(lines)


class StoreUnavailable(KnowledgeBaseError):
    pass
