"""KnowledgeBaseStore: entries, their revisions and a change feed, on SQLite or PostgreSQL.

Every write runs in one transaction that holds the store's write lock and adds one revision row
per entry it touches (who, what, when, the content afterwards; a deletion has no content). The
lock makes revision ids grow in commit order, so they double as the change feed: an indexer keeps
the last id it has seen and asks `changes_after(seq)`, deletions included, whichever process
wrote. Listeners registered with `subscribe` hear about this process's writes right after commit.
"""

from __future__ import annotations

import builtins
import datetime as dt
import functools
import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, bindparam, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from knowledge_base.db import lock_writes, write_engine, writer_lock
from knowledge_base.errors import (
    EntryConflict,
    EntryNotFound,
    InvalidEntry,
    RevisionNotFound,
    db_reason,
    describe_validation,
    translate_db_errors,
)
from knowledge_base.models import Entry, EntryCreate, EntryKind, EntryStatus, EntryUpdate, Revision
from knowledge_base.tables import (
    EntryRow,
    RevisionRow,
    entry_from_row,
    filter_entries,
    last_versions,
    revision_from_row,
    rows_by_id,
    snapshot_of,
    write_content,
)

logger = logging.getLogger(__name__)

Listener = Callable[[str, str, Entry | None], None]
"""Called after commit with (action, entry id, the entry now or None once deleted)."""

WRITE_LOCK_KEY = 7_210_002  # pg_advisory_xact_lock key of knowledge-base writes
MAX_PAGE = 1_000
_BATCH = 500  # rows per iter_all round trip
_EVENTS = "kb_events"
_VERSIONS = "kb_versions"
ENTRY_CACHE_SIZE = 4096
ENTRY_CACHE_TTL_S = 30.0  # kept entries' lifetime while no FeedFollower follows the store
_WRITTEN_SIZE = 200_000  # entries whose last own write is remembered, to tell feed echoes
_CONTENT_FIELDS = frozenset(EntryCreate.model_fields)
_T = TypeVar("_T")
_ENTRY_BY_ID = select(EntryRow.__table__).where(EntryRow.__table__.c.id == bindparam("id"))


@dataclass(frozen=True)
class UpsertReport:
    """How many entries a bulk write created, changed, left alone and deleted."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass(frozen=True)
class Change:
    """One write in the change feed; `seq` only grows, in commit order."""

    seq: int
    entry_id: str
    action: str  # create / update / delete / restore / import
    version: int
    created_at: dt.datetime

    @property
    def deleted(self) -> bool:
        return self.action == "delete"


class KnowledgeBaseStore:
    """Entries by stable id, with full history. Thread-safe; touches the database lazily."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = write_engine(engine)
        self._listeners: builtins.list[Listener] = []
        self._listeners_lock = threading.Lock()
        self._recent: OrderedDict[str, tuple[float, Entry]] = OrderedDict()
        self._recent_lock = threading.Lock()
        self._generation = 0
        # entry id -> the newest version this store committed: the feed's echo of our writes
        self._written: OrderedDict[str, int] = OrderedDict()
        self._followed = False  # a FeedFollower delivers other processes' writes

    # Reads

    def get(self, entry_id: str) -> Entry:
        """The entry (shared with other callers: do not modify it).

        Every answer the bot gives reads its entry, so recent ones are kept: this store's
        own writes clear them at once; another process's writes (a CLI import beside the
        server, a second server on PostgreSQL) reach them through the change feed when a
        `FeedFollower` follows this store, and otherwise within ENTRY_CACHE_TTL_S."""
        now = time.monotonic()
        with self._recent_lock:
            found = self._recent.get(entry_id)
            if found is not None and (self._followed or now - found[0] < ENTRY_CACHE_TTL_S):
                self._recent.move_to_end(entry_id)
                return found[1]
            generation = self._generation
        entry = self._load(entry_id)
        with self._recent_lock:
            if generation == self._generation:  # no write of ours since the read began
                self._recent[entry_id] = (now, entry)
                while len(self._recent) > ENTRY_CACHE_SIZE:
                    self._recent.popitem(last=False)
        return entry

    @translate_db_errors
    def _load(self, entry_id: str) -> Entry:
        # A Core statement, not an ORM session: a kept entry's first answer reads it, and
        # the session's identity map, cache keys and instance loading were most of the
        # cost (in the served dialogue on the dev base: 0.9 ms a read; alone 0.25 ms).
        with self._engine.connect() as connection:
            row = connection.execute(_ENTRY_BY_ID, {"id": entry_id}).first()
        if row is None:
            raise EntryNotFound(entry_id)
        return entry_from_row(row)

    def _forget_recent(self, written: Mapping[str, int] | None = None) -> None:
        with self._recent_lock:
            self._recent.clear()
            self._generation += 1
            for entry_id, version in (written or {}).items():
                self._written[entry_id] = version
                self._written.move_to_end(entry_id)
            while len(self._written) > _WRITTEN_SIZE:
                self._written.popitem(last=False)

    @translate_db_errors
    def list(
        self,
        kind: EntryKind | str | None = None,
        status: EntryStatus | str | None = None,
        query: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> builtins.list[Entry]:
        """Entries ordered by id; `query` is a case-insensitive substring of id, title, text,
        questions or keywords."""
        if offset < 0 or not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"need offset >= 0 and 1 <= limit <= {MAX_PAGE}")
        stmt = filter_entries(select(EntryRow), kind, status, query)
        with Session(self._engine) as session:
            rows = session.scalars(stmt.order_by(EntryRow.id).offset(offset).limit(limit))
            return [entry_from_row(row) for row in rows]

    @translate_db_errors
    def count(
        self,
        kind: EntryKind | str | None = None,
        status: EntryStatus | str | None = None,
        query: str | None = None,
    ) -> int:
        stmt = filter_entries(select(func.count()).select_from(EntryRow), kind, status, query)
        with Session(self._engine) as session:
            return session.scalar(stmt) or 0

    def iter_all(self) -> Iterator[Entry]:
        """Every entry by id, fetched in batches (no transaction is held between them)."""
        after = ""
        while batch := self._batch_after(after):
            yield from batch
            after = batch[-1].id

    @translate_db_errors
    def revisions(self, entry_id: str) -> builtins.list[Revision]:
        """The history of `entry_id`, oldest first, kept after a delete; [] for unknown ids."""
        stmt = select(RevisionRow).where(RevisionRow.entry_id == entry_id)
        with Session(self._engine) as session:
            rows = session.scalars(stmt.order_by(RevisionRow.version))
            return [revision_from_row(row) for row in rows]

    @translate_db_errors
    def changes_after(self, seq: int = 0, limit: int = MAX_PAGE) -> builtins.list[Change]:
        """Writes committed after `seq`, oldest first; pass the last `seq` seen next time."""
        stmt = select(RevisionRow).where(RevisionRow.id > seq).order_by(RevisionRow.id)
        with Session(self._engine) as session:
            rows = session.scalars(stmt.limit(limit))
            return [Change(r.id, r.entry_id, r.action, r.version, r.created_at) for r in rows]

    @translate_db_errors
    def last_change_seq(self) -> int:
        """Read this before a full rebuild, then follow `changes_after` from it."""
        with Session(self._engine) as session:
            return session.scalar(select(func.max(RevisionRow.id))) or 0

    def catch_up(self, after: int) -> int:
        """Apply what other processes committed after `after`: the kept entries are dropped
        (all of them, as after an own write) and the listeners hear of each changed entry
        (its current content, or None once deleted) as they hear of this store's own writes.
        Returns the last seq read.

        Our own writes come back in the feed too; their listeners were called at commit, so
        a change at or below the version this store last wrote for that entry is skipped."""
        seq, foreign = after, dict[str, str]()
        while True:
            changes = self.changes_after(seq)
            with self._recent_lock:
                for change in changes:
                    if self._written.get(change.entry_id, 0) < change.version:  # not our echo
                        foreign[change.entry_id] = change.action
            seq = changes[-1].seq if changes else seq
            if len(changes) < MAX_PAGE:
                break
        if foreign:
            current = self._load_many(builtins.list(foreign))
            self._forget_recent()
            self._notify([(action if entry_id in current else "delete", entry_id,
                           current.get(entry_id)) for entry_id, action in foreign.items()])
        return seq

    @translate_db_errors
    def _load_many(self, ids: Sequence[str]) -> dict[str, Entry]:
        with Session(self._engine) as session:
            return {entry_id: entry_from_row(row)
                    for entry_id, row in rows_by_id(session, ids).items()}

    def followed(self, on: bool = True) -> None:
        """Whether a FeedFollower delivers other processes' writes: while one does, kept
        entries do not expire by age (they are dropped when the feed shows a change)."""
        with self._recent_lock:
            self._followed = on
            if not on:
                self._recent.clear()

    # Writes: each one a transaction, each entry it touches a revision

    @translate_db_errors
    def create(self, entry: EntryCreate, author: str) -> Entry:
        content, author = _content(entry), _author(author)

        def work(session: Session) -> Entry:
            if session.get(EntryRow, content.id) is not None:
                raise EntryConflict(f"entry {content.id!r} already exists", entry_id=content.id)
            return _insert(session, content, "create", author, _last_version(session, content.id))

        return self._write(work)

    @translate_db_errors
    def update(
        self, entry_id: str, patch: EntryUpdate, author: str, expected_version: int | None = None
    ) -> Entry:
        """Change the fields set in `patch`; EntryConflict when `expected_version` is stale."""
        author = _author(author)

        def work(session: Session) -> Entry:
            row = _require(session, entry_id, expected_version)
            changes = patch.model_dump(exclude_unset=True)
            content = _content({**snapshot_of(entry_from_row(row)), **changes})
            return _apply(session, row, content, "update", author) or entry_from_row(row)

        return self._write(work)

    @translate_db_errors
    def delete(self, entry_id: str, author: str, expected_version: int | None = None) -> None:
        author = _author(author)

        def work(session: Session) -> None:
            _remove(session, _require(session, entry_id, expected_version), author)

        self._write(work)

    @translate_db_errors
    def restore(self, entry_id: str, version: int, author: str) -> Entry:
        """Bring back the content of `version`, as a new version; re-creates a deleted entry."""
        author = _author(author)

        def work(session: Session) -> Entry:
            content = _snapshot_at(session, entry_id, version)
            row = session.get(EntryRow, entry_id)
            if row is not None:
                return _apply(session, row, content, "restore", author) or entry_from_row(row)
            return _insert(session, content, "restore", author, _last_version(session, entry_id))

        return self._write(work)

    @translate_db_errors
    def upsert_many(self, entries: Iterable[EntryCreate], author: str) -> UpsertReport:
        """Create or update each entry; identical content is left alone (no revision)."""
        contents, author = _unique(entries), _author(author)
        return self._write(lambda session: _upsert(session, contents, author))

    @translate_db_errors
    def replace_all(
        self, entries: Iterable[EntryCreate], author: str, keep: Iterable[str] = ()
    ) -> UpsertReport:
        """Make `entries` the whole knowledge base, except that ids in `keep` are not deleted."""
        contents, author, kept = _unique(entries), _author(author), set(keep)
        if not contents:
            raise InvalidEntry("refusing to replace the knowledge base with no entries")

        def work(session: Session) -> UpsertReport:
            report = _upsert(session, contents, author)
            wanted = kept | {content.id for content in contents}
            stale = sorted(set(session.scalars(select(EntryRow.id))) - wanted)
            rows = rows_by_id(session, stale)
            for entry_id in stale:
                _remove(session, rows[entry_id], author)
            return replace(report, deleted=len(stale))

        return self._write(work)

    # Listeners

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call `callback` after each commit of this store; returns the unsubscribe function.

        It runs on the writer's thread: hand slow work (re-embedding) to a queue."""
        with self._listeners_lock:
            self._listeners.append(callback)
        return functools.partial(self._unsubscribe, callback)

    def _unsubscribe(self, callback: Listener) -> None:
        with self._listeners_lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def _notify(self, events: Sequence[tuple[str, str, Entry | None]]) -> None:
        with self._listeners_lock:
            listeners = builtins.list(self._listeners)
        for listener in listeners:
            for action, entry_id, entry in events:
                try:
                    listener(action, entry_id, entry)
                except Exception:  # the write is committed; one bad listener must not hide it
                    logger.exception("knowledge-base listener failed on %s %s", action, entry_id)

    # Plumbing

    def _write(self, work: Callable[[Session], _T]) -> _T:
        try:
            with writer_lock(self._engine), Session(self._writer, expire_on_commit=False) as session:
                with session.begin():
                    lock_writes(session.connection(), WRITE_LOCK_KEY)
                    result = work(session)
                events = session.info.get(_EVENTS, [])
                versions = session.info.get(_VERSIONS, {})
            self._forget_recent(versions)
        except sa_exc.IntegrityError as exc:
            raise EntryConflict(f"conflicting write: {db_reason(exc)}") from exc
        self._notify(events)
        return result

    @translate_db_errors
    def _batch_after(self, after: str) -> builtins.list[Entry]:
        stmt = select(EntryRow).where(EntryRow.id > after).order_by(EntryRow.id).limit(_BATCH)
        with Session(self._engine) as session:
            return [entry_from_row(row) for row in session.scalars(stmt)]


# Writes inside a transaction


def _insert(session: Session, content: EntryCreate, action: str, author: str, last: int) -> Entry:
    now = _now()
    row = EntryRow(id=content.id, version=last + 1, created_at=now, updated_at=now)
    write_content(row, content)
    session.add(row)
    return _record(session, row, action, author)


def _apply(
    session: Session, row: EntryRow, content: EntryCreate, action: str, author: str
) -> Entry | None:
    """Write `content` over the row as a new version; None when nothing would change."""
    if snapshot_of(content) == snapshot_of(entry_from_row(row)):
        return None
    write_content(row, content)
    row.version += 1
    row.updated_at = _now()
    return _record(session, row, action, author)


def _remove(session: Session, row: EntryRow, author: str) -> None:
    session.add(RevisionRow(entry_id=row.id, version=row.version + 1, author=author,
                            action="delete", created_at=_now(), snapshot=None))
    session.info.setdefault(_VERSIONS, {})[row.id] = row.version + 1
    session.delete(row)
    session.info.setdefault(_EVENTS, []).append(("delete", row.id, None))


def _record(session: Session, row: EntryRow, action: str, author: str) -> Entry:
    entry = entry_from_row(row)
    session.add(RevisionRow(entry_id=row.id, version=row.version, author=author, action=action,
                            created_at=row.updated_at, snapshot=snapshot_of(entry)))
    session.info.setdefault(_EVENTS, []).append((action, row.id, entry))
    session.info.setdefault(_VERSIONS, {})[row.id] = row.version
    return entry


def _upsert(session: Session, contents: Sequence[EntryCreate], author: str) -> UpsertReport:
    ids = [content.id for content in contents]
    rows, last = rows_by_id(session, ids), last_versions(session, ids)
    outcome = Counter[str]()
    for content in contents:
        row = rows.get(content.id)
        if row is None:
            _insert(session, content, "import", author, last.get(content.id, 0))
            outcome["created"] += 1
        else:
            changed = _apply(session, row, content, "import", author) is not None
            outcome["updated" if changed else "unchanged"] += 1
    return UpsertReport(**outcome)


# Queries inside a transaction


def _require(session: Session, entry_id: str, expected_version: int | None = None) -> EntryRow:
    row = session.get(EntryRow, entry_id)
    if row is None:
        raise EntryNotFound(entry_id)
    if expected_version is not None and row.version != expected_version:
        raise EntryConflict(
            f"entry {entry_id!r} is at version {row.version}, not {expected_version}",
            entry_id=entry_id,
            current_version=row.version,
        )
    return row


def _last_version(session: Session, entry_id: str) -> int:
    """The newest revision's version, so a re-created id continues its history."""
    return last_versions(session, [entry_id]).get(entry_id, 0)


def _snapshot_at(session: Session, entry_id: str, version: int) -> EntryCreate:
    stmt = select(RevisionRow).where(RevisionRow.entry_id == entry_id,
                                     RevisionRow.version == version)
    revision = session.scalars(stmt).one_or_none()
    if revision is None:
        raise RevisionNotFound(entry_id, f"entry {entry_id!r} has no version {version}")
    if revision.snapshot is None:
        raise RevisionNotFound(entry_id, f"version {version} of {entry_id!r} is its deletion")
    return _content(revision.snapshot)


def _content(value: BaseModel | Mapping[str, Any]) -> EntryCreate:
    """Validated editable content; an `Entry` loses its version and timestamps."""
    data = value.model_dump() if isinstance(value, BaseModel) else dict(value)
    try:
        return EntryCreate.model_validate({k: v for k, v in data.items() if k in _CONTENT_FIELDS})
    except ValidationError as exc:
        raise InvalidEntry(describe_validation(exc)) from exc


def _unique(entries: Iterable[EntryCreate]) -> builtins.list[EntryCreate]:
    contents = [_content(entry) for entry in entries]
    seen: set[str] = set()
    for content in contents:
        if content.id in seen:
            raise InvalidEntry(f"entry id {content.id!r} appears twice")
        seen.add(content.id)
    return contents


def _author(author: str) -> str:
    author = (author or "").strip()
    if not 1 <= len(author) <= 200:
        raise InvalidEntry("author must be 1 to 200 characters")
    return author


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
