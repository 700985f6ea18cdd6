"""The handoff lifecycle in the database: pending -> assigned -> resolved, or expired /
cancelled. Every transition is one conditional UPDATE (`WHERE status = ...`), so two staff
members claiming at the same moment cannot both win, whatever the browsers show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.console.accounts import StaffUser, aware
from bot.console.db import StoreBase, audit
from bot.tables import ConversationRow, HandoffRow, TurnRow


@dataclass(frozen=True)
class Handoff:
    id: int
    conversation_id: int
    channel: str
    user_id: str
    reason: str
    status: str
    staff: str | None
    staff_name: str | None
    created_at: dt.datetime
    assigned_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        for key in ("created_at", "assigned_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def _handoff(row: HandoffRow, conversation: ConversationRow) -> Handoff:
    assigned = aware(row.assigned_at) if row.assigned_at else None
    return Handoff(row.id, row.conversation_id, conversation.channel, conversation.user_id,
                   row.reason, row.status, row.staff, row.staff_name, aware(row.created_at),
                   assigned)


def _set_mode(session: Session, conversation_id: int, mode: str, staff_name: str | None) -> None:
    row = session.get(ConversationRow, conversation_id)
    if row is None:
        return
    slots = dict(row.slots or {})
    slots.pop("staff_name", None)
    if staff_name:
        slots["staff_name"] = staff_name
    row.mode, row.slots, row.updated_at = mode, slots, func.now()
    if mode == "closed":
        row.closed_at = func.now()


class HandoffStore(StoreBase):
    def _select(self, *where: Any) -> Any:
        return (select(HandoffRow, ConversationRow)
                .join(ConversationRow, ConversationRow.id == HandoffRow.conversation_id)
                .where(*where).order_by(HandoffRow.id))

    def get(self, handoff_id: int) -> Handoff | None:
        def work(session: Session) -> Handoff | None:
            found = session.execute(self._select(HandoffRow.id == handoff_id)).first()
            return None if found is None else _handoff(*found)

        return self._run(work)

    def open_for(self, conversation_id: int) -> Handoff | None:
        def work(session: Session) -> Handoff | None:
            found = session.execute(self._select(
                HandoffRow.conversation_id == conversation_id,
                HandoffRow.status.in_(("pending", "assigned")))).first()
            return None if found is None else _handoff(*found)

        return self._run(work)

    def with_status(self, *statuses: str, staff: str | None = None) -> list[Handoff]:
        def work(session: Session) -> list[Handoff]:
            where = [HandoffRow.status.in_(statuses)]
            if staff is not None:
                where.append(HandoffRow.staff == staff)
            return [_handoff(*found) for found in session.execute(self._select(*where))]

        return self._run(work)

    def last_questions(self, conversation_ids: list[int]) -> dict[int, str]:
        """Each conversation's latest citizen message (the queue shows it)."""

        def work(session: Session) -> dict[int, str]:
            latest = (select(func.max(TurnRow.id)).where(
                TurnRow.conversation_id.in_(conversation_ids), TurnRow.author == "citizen")
                .group_by(TurnRow.conversation_id))
            rows = session.execute(select(TurnRow.conversation_id, TurnRow.text)
                                   .where(TurnRow.id.in_(latest)))
            return {cid: text for cid, text in rows}

        return self._run(work) if conversation_ids else {}

    def claim(self, handoff_id: int, user: StaffUser) -> bool:
        """First click wins: only a pending handoff can be assigned, in one UPDATE."""

        def work(session: Session) -> bool:
            won = session.execute(
                update(HandoffRow)
                .where(HandoffRow.id == handoff_id, HandoffRow.status == "pending")
                .values(status="assigned", staff=user.username, staff_name=user.display_name,
                        assigned_at=func.now())
            ).rowcount == 1
            if won:
                conversation_id = session.get(HandoffRow, handoff_id).conversation_id  # type: ignore[union-attr]
                _set_mode(session, conversation_id, "human", user.display_name)
                audit(session, user.username, "claim", conversation_id, handoff_id)
            return won

        return self._run(work)

    def transfer(self, handoff_id: int, actor: StaffUser, target: StaffUser | None) -> bool:
        """To another staff member, or back to the queue (`target` None). Only the assignee
        or a supervisor may transfer."""

        def work(session: Session) -> bool:
            where = [HandoffRow.id == handoff_id, HandoffRow.status == "assigned"]
            if not actor.supervisor:
                where.append(HandoffRow.staff == actor.username)
            values: dict[str, Any] = (
                {"status": "pending", "staff": None, "staff_name": None, "assigned_at": None}
                if target is None else
                {"staff": target.username, "staff_name": target.display_name,
                 "assigned_at": func.now()})
            if session.execute(update(HandoffRow).where(*where).values(**values)).rowcount != 1:
                return False
            conversation_id = session.get(HandoffRow, handoff_id).conversation_id  # type: ignore[union-attr]
            mode, name = ("queued", None) if target is None else ("human", target.display_name)
            _set_mode(session, conversation_id, mode, name)
            audit(session, actor.username, "transfer", conversation_id, handoff_id,
                  to=target.username if target else None)
            return True

        return self._run(work)

    def end(self, handoff_id: int, status: str, by: str, reason: str,
            from_states: tuple[str, ...], mode: str) -> bool:
        """resolved / expired / cancelled; the conversation takes `mode`."""

        def work(session: Session) -> bool:
            changed = session.execute(
                update(HandoffRow)
                .where(HandoffRow.id == handoff_id, HandoffRow.status.in_(from_states))
                .values(status=status, closed_at=func.now(), closed_by=by, end_reason=reason)
            ).rowcount == 1
            if changed:
                conversation_id = session.get(HandoffRow, handoff_id).conversation_id  # type: ignore[union-attr]
                _set_mode(session, conversation_id, mode, None)
                audit(session, by, status, conversation_id, handoff_id, reason=reason)
            return changed

        return self._run(work)

    def release(self, handoff_id: int, by: str, reason: str) -> bool:
        """An idle assignment goes back to the queue (the SLA sweep)."""

        def work(session: Session) -> bool:
            changed = session.execute(
                update(HandoffRow).where(HandoffRow.id == handoff_id,
                                         HandoffRow.status == "assigned")
                .values(status="pending", staff=None, staff_name=None, assigned_at=None)
            ).rowcount == 1
            if changed:
                conversation_id = session.get(HandoffRow, handoff_id).conversation_id  # type: ignore[union-attr]
                _set_mode(session, conversation_id, "queued", None)
                audit(session, by, "release", conversation_id, handoff_id, reason=reason)
            return changed

        return self._run(work)

    def activity(self, conversation_id: int, since: dt.datetime) -> dict[str, dt.datetime]:
        """The latest citizen and staff turn times since `since`."""

        def work(session: Session) -> dict[str, dt.datetime]:
            rows = session.execute(
                select(TurnRow.author, func.max(TurnRow.created_at))
                .where(TurnRow.conversation_id == conversation_id,
                       TurnRow.author.in_(("citizen", "staff")))
                .group_by(TurnRow.author))
            seen = {author: aware(at) for author, at in rows if at is not None}
            return {a: max(at, since) for a, at in seen.items()}

        return self._run(work)
