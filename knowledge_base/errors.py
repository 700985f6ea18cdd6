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

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from pydantic import ValidationError
from sqlalchemy import exc as sa_exc

_P = ParamSpec("_P")
_T = TypeVar("_T")


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


def translate_db_errors(method: Callable[_P, _T]) -> Callable[_P, _T]:
    """Raise StoreUnavailable where the database cannot be reached (refused, gone, locked)."""

    @functools.wraps(method)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return method(*args, **kwargs)
        except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                sa_exc.TimeoutError) as exc:
            message = f"knowledge-base database unavailable: {db_reason(exc)}"
            raise StoreUnavailable(message) from exc
        except sa_exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            raise StoreUnavailable(f"knowledge-base database went away: {db_reason(exc)}") from exc

    return guarded


def db_reason(exc: sa_exc.SQLAlchemyError) -> str:
    """The driver's first line, without SQLAlchemy's SQL dump and help link."""
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__


def describe_validation(exc: ValidationError) -> str:
    """A pydantic error as one plain line: `title: String should have at least 1 character`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)
