"""What staff write besides replies: private notes, canned replies, ticket answers; and
what supervisors read: the audit log and today's figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.console.accounts import StaffUser, aware
from bot.console.db import StoreBase, audit
from bot.tables import (
    AuditRow,
    CannedReplyRow,
    ConversationRow,
    HandoffRow,
    RatingRow,
    StaffNoteRow,
    TicketRow,
)


def _iso(value: dt.datetime | None) -> str | None:
    return aware(value).isoformat() if value else None


def _ticket(row: TicketRow, channel: str) -> dict[str, Any]:
    return {"number": row.number, "conversation_id": row.conversation_id, "channel": channel,
            "matter": row.matter, "place": row.place, "phone": row.phone, "status": row.status,
            "created_at": _iso(row.created_at), "answer": row.answer,
            "answered_by": row.answered_by, "answered_at": _iso(row.answered_at),
            "delivery": row.delivery, "delivery_note": row.delivery_note}


class RecordStore(StoreBase):
    # -- notes ---------------------------------------------------------------------------

    def add_note(self, conversation_id: int, author: StaffUser, text: str) -> int:
        def work(session: Session) -> int:
            row = StaffNoteRow(conversation_id=conversation_id, author=author.display_name,
                               text=text)
            session.add(row)
            session.flush()
            audit(session, author.username, "note", conversation_id, note_id=row.id)
            return row.id

        return self._run(work)

    def notes(self, conversation_id: int) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            rows = session.scalars(select(StaffNoteRow).where(
                StaffNoteRow.conversation_id == conversation_id).order_by(StaffNoteRow.id))
            return [{"id": r.id, "author": r.author, "text": r.text,
                     "created_at": _iso(r.created_at)} for r in rows]

        return self._run(work)

    # -- canned replies ------------------------------------------------------------------

    def canned(self) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            rows = session.scalars(select(CannedReplyRow).order_by(CannedReplyRow.title))
            return [{"id": r.id, "title": r.title, "text": r.text} for r in rows]

        return self._run(work)

    def save_canned(self, actor: StaffUser, title: str, text: str, reply_id: int | None) -> int:
        def work(session: Session) -> int:
            row = session.get(CannedReplyRow, reply_id) if reply_id else None
            if row is None:
                row = CannedReplyRow(title=title, text=text, updated_by=actor.username)
                session.add(row)
            row.title, row.text, row.updated_by = title, text, actor.username
            session.flush()
            audit(session, actor.username, "canned_save", canned_id=row.id, title=title)
            return row.id

        return self._run(work)

    def delete_canned(self, actor: StaffUser, reply_id: int) -> bool:
        def work(session: Session) -> bool:
            gone = session.execute(delete(CannedReplyRow).where(
                CannedReplyRow.id == reply_id)).rowcount == 1
            if gone:
                audit(session, actor.username, "canned_delete", canned_id=reply_id)
            return gone

        return self._run(work)

    # -- tickets -------------------------------------------------------------------------

    def tickets(self, limit: int = 200) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            rows = session.execute(
                select(TicketRow, ConversationRow.channel)
                .join(ConversationRow, ConversationRow.id == TicketRow.conversation_id)
                .order_by(TicketRow.id.desc()).limit(limit))
            return [_ticket(row, channel) for row, channel in rows]

        return self._run(work)

    def answer_ticket(self, number: str, actor: StaffUser, text: str) -> dict[str, Any] | None:
        """Store the answer once (an answered ticket keeps its first answer)."""

        def work(session: Session) -> dict[str, Any] | None:
            found = session.execute(
                select(TicketRow, ConversationRow.channel)
                .join(ConversationRow, ConversationRow.id == TicketRow.conversation_id)
                .where(TicketRow.number == number, TicketRow.status == "open")).first()
            if found is None:
                return None
            row, channel = found
            row.status, row.answer, row.answered_by = "answered", text, actor.display_name
            row.answered_at = func.now()
            audit(session, actor.username, "ticket_answer", row.conversation_id, number=number)
            return {"conversation_id": row.conversation_id, "channel": channel}

        return self._run(work)

    def mark_delivery(self, number: str, delivery: str, note: str | None) -> None:
        def work(session: Session) -> None:
            row = session.scalars(select(TicketRow).where(TicketRow.number == number)).one()
            row.delivery, row.delivery_note = delivery, note

        self._run(work)

    # -- audit and figures ---------------------------------------------------------------

    def record(self, actor: str, action: str, conversation_id: int | None = None,
               **detail: Any) -> None:
        self._run(lambda session: audit(session, actor, action, conversation_id, **detail))

    def audit_log(self, limit: int = 200) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            rows = session.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))
            return [{"id": r.id, "actor": r.actor, "action": r.action,
                     "conversation_id": r.conversation_id, "handoff_id": r.handoff_id,
                     "detail": r.detail, "created_at": _iso(r.created_at)} for r in rows]

        return self._run(work)

    def figures(self, since: dt.datetime) -> dict[str, Any]:
        """Today's handoffs: handled, average wait and handling time, ratings."""

        def work(session: Session) -> dict[str, Any]:
            rows = session.scalars(select(HandoffRow).where(HandoffRow.created_at >= since)).all()
            waits = [aware(r.assigned_at) - aware(r.created_at) for r in rows if r.assigned_at]
            handled = [r for r in rows if r.status == "resolved" and r.assigned_at and r.closed_at]
            handling = [aware(r.closed_at) - aware(r.assigned_at) for r in handled]  # type: ignore[arg-type]
            ratings = session.execute(
                select(RatingRow.value, func.count()).where(
                    RatingRow.kind == "satisfaction", RatingRow.created_at >= since)
                .group_by(RatingRow.value)).all()
            return {"handoffs": len(rows), "handled": len(handled),
                    "average_wait_s": _mean(waits), "average_handling_s": _mean(handling),
                    "ratings": {str(v): n for v, n in ratings}}

        return self._run(work)


def _mean(spans: list[dt.timedelta]) -> float | None:
    return round(sum(s.total_seconds() for s in spans) / len(spans), 1) if spans else None
