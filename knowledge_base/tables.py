"""SQLAlchemy tables of the knowledge base and their mapping to the pydantic models.

`Base.metadata` is what `migrations/env.py` compares against; the schema itself is created by
the hand-written Alembic revisions, never by `create_all`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Index,
    Integer,
    Row,
    Select,
    String,
    Text,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

from knowledge_base.models import Entry, EntryCreate, EntryKind, EntryStatus, Revision

ID_LENGTH = 128
_IN_CHUNK = 500  # ids per IN (...): far below every backend's parameter limit
_DETAIL_FIELDS = {EntryKind.GUIDE: "guide", EntryKind.POLICY: "policy"}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware one")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Shared by every package whose tables live in the bot's database."""


_Json = JSON(none_as_null=True)
_Id = String(ID_LENGTH)


class EntryRow(Base):
    __tablename__ = "entries"

    id: Mapped[str] = mapped_column(_Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    questions: Mapped[list[str]] = mapped_column(_Json)
    keywords: Mapped[list[str]] = mapped_column(_Json)
    tags: Mapped[list[str]] = mapped_column(_Json)
    department: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), index=True)
    source_url: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(_Json)  # guide or policy, by kind
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class RevisionRow(Base):
    """One write to an entry. Its `id` orders all writes: it is the change feed's sequence."""

    __tablename__ = "entry_revisions"
    # AUTOINCREMENT: SQLite must never hand out an id twice, even after rows are pruned.
    __table_args__ = (
        Index("ix_entry_revisions_entry_id_version", "entry_id", "version", unique=True),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    # No foreign key: revisions outlive the entry they describe.
    entry_id: Mapped[str] = mapped_column(_Id)
    version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(_Json)


def content_of(entry: EntryCreate) -> EntryCreate:
    """The editable content of an entry, without version and timestamps."""
    return EntryCreate.model_validate(entry.model_dump(include=set(EntryCreate.model_fields)))


def snapshot_of(content: EntryCreate) -> dict[str, Any]:
    return content.model_dump(mode="json", include=set(EntryCreate.model_fields))


def write_content(row: EntryRow, content: EntryCreate) -> None:
    """Copy `content` into the row's columns (id, version and timestamps excluded)."""
    data = snapshot_of(content)
    guide, policy = data.pop("guide"), data.pop("policy")
    del data["id"]
    for name, value in data.items():
        setattr(row, name, value)
    row.details = guide if guide is not None else policy


def entry_from_row(row: EntryRow | Row[Any]) -> Entry:
    """An ORM row or a Core row of the entries table."""
    data = {column.key: getattr(row, column.key) for column in EntryRow.__table__.columns}
    details = data.pop("details")
    field = _DETAIL_FIELDS.get(EntryKind(row.kind))
    if field is not None and details is not None:
        data[field] = details
    return Entry.model_validate(data)


def revision_from_row(row: RevisionRow) -> Revision:
    return Revision(
        entry_id=row.entry_id,
        version=row.version,
        author=row.author,
        action=row.action,
        created_at=row.created_at,
        snapshot=row.snapshot,
    )


def rows_by_id(session: Session, ids: Sequence[str]) -> dict[str, EntryRow]:
    rows: dict[str, EntryRow] = {}
    for chunk in _chunks(ids):
        found = session.scalars(select(EntryRow).where(EntryRow.id.in_(chunk)))
        rows.update({row.id: row for row in found})
    return rows


def last_versions(session: Session, ids: Sequence[str]) -> dict[str, int]:
    """The newest revision's version per id, deleted entries included."""
    found: dict[str, int] = {}
    for chunk in _chunks(ids):
        stmt = (select(RevisionRow.entry_id, func.max(RevisionRow.version))
                .where(RevisionRow.entry_id.in_(chunk)).group_by(RevisionRow.entry_id))
        found.update({entry_id: version for entry_id, version in session.execute(stmt)})
    return found


def filter_entries(
    stmt: Select[Any], kind: str | None, status: str | None, query: str | None
) -> Select[Any]:
    """`query`: a case-insensitive substring of id, title, text, questions or keywords."""
    if kind is not None:
        stmt = stmt.where(EntryRow.kind == EntryKind(kind).value)
    if status is not None:
        stmt = stmt.where(EntryRow.status == EntryStatus(status).value)
    needle = (query or "").strip()
    if needle:
        columns = (EntryRow.id, EntryRow.title, EntryRow.text,
                   cast(EntryRow.questions, Text), cast(EntryRow.keywords, Text))
        stmt = stmt.where(or_(*(column.icontains(needle, autoescape=True) for column in columns)))
    return stmt


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]
