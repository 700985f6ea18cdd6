"""The persisted inbox: each citizen message or event once, by its deduplication key.

WeChat retries a message it got no answer to (3 attempts, 5 s apart), and a restart must
not turn a retry into a second question; the row remembers how many attempts arrived,
the rendered answer, and how it went out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.channels.store import TableStore, affected
from bot.channels.tables import WechatInboxRow, utcnow

KEEP = dt.timedelta(days=2)
RESUME_WITHIN = dt.timedelta(hours=24)


@dataclass(frozen=True)
class InboxRecord:
    key: str
    openid: str
    attempts: int
    status: str  # pending / done
    delivery: str | None  # passive / partial / outbox / pickup / silent
    messages: tuple[str, ...]
    conversation_id: int | None


def _record(row: WechatInboxRow) -> InboxRecord:
    return InboxRecord(row.key, row.openid, row.attempts, row.status, row.delivery,
                       tuple(row.messages or ()), row.conversation_id)


class InboxStore(TableStore):
    def arrive(self, key: str, openid: str, inbound: str = "") -> InboxRecord:
        """Count one attempt of `key` (the first creates it); the record after counting."""

        def work(session: Session) -> InboxRecord:
            row = session.get(WechatInboxRow, key)
            if row is None:
                row = WechatInboxRow(key=key, openid=openid, attempts=1, status="pending",
                                     inbound=inbound or None)
                session.add(row)
            else:
                row.attempts += 1
                row.updated_at = utcnow()
            session.flush()
            return _record(row)

        return self._run(work)

    def get(self, key: str) -> InboxRecord | None:
        def work(session: Session) -> InboxRecord | None:
            row = session.get(WechatInboxRow, key)
            return None if row is None else _record(row)

        return self._run(work)

    def finish(self, key: str, messages: tuple[str, ...], conversation_id: int | None) -> None:
        def work(session: Session) -> None:
            row = session.get(WechatInboxRow, key)
            if row is not None:
                row.status, row.messages = "done", list(messages)
                row.conversation_id, row.updated_at = conversation_id, utcnow()

        self._run(work)

    def set_delivery(self, key: str, delivery: str) -> None:
        def work(session: Session) -> None:
            row = session.get(WechatInboxRow, key)
            if row is not None:
                row.delivery, row.updated_at = delivery, utcnow()

        self._run(work)

    def awaiting_outbox(
        self, within: dt.timedelta = RESUME_WITHIN
    ) -> list[tuple[InboxRecord, str]]:
        """Recent messages promised to the outbox, with their XML, to resume after a restart."""

        def work(session: Session) -> list[tuple[InboxRecord, str]]:
            rows = session.scalars(select(WechatInboxRow).where(
                WechatInboxRow.delivery == "outbox",
                WechatInboxRow.created_at > utcnow() - within))
            return [(_record(row), row.inbound or "") for row in rows]

        return self._run(work)

    def purge(self, keep: dt.timedelta = KEEP) -> int:
        """Forget records older than any retry could be."""

        def work(session: Session) -> int:
            cutoff = utcnow() - keep
            return affected(session.execute(
                delete(WechatInboxRow).where(WechatInboxRow.created_at < cutoff)))

        return self._run(work)
