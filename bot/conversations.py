"""Persistence of conversations, turns, slots, ratings, tickets and handoffs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from bot.errors import ConversationNotFound
from bot.storage import SqlStore
from bot.tables import (
    ConversationRow,
    HandoffRow,
    RatingRow,
    TicketRow,
    TurnRow,
    utcnow,
)

OPEN_HANDOFF_STATES = ("pending", "assigned")


@dataclass
class Conversation:
    id: int
    channel: str
    user_id: str
    mode: str
    slots: dict[str, Any] = field(default_factory=dict)
    fresh: bool = False  # created by this `open`: no turns or ratings yet
    saved: bool = True  # False: opened lazily; the row is written with the first exchange


@dataclass(frozen=True)
class TurnRecord:
    """A turn to persist: one citizen message or one bot/system reply."""

    author: str
    text: str
    payload: dict[str, Any] | None = None
    external_id: str | None = None
    intent: str | None = None
    confidence: float | None = None
    entry_ids: tuple[str, ...] = ()
    answered: bool | None = None


@dataclass(frozen=True)
class StoredTurn:
    id: int
    author: str
    text: str
    payload: dict[str, Any] | None
    entry_ids: tuple[str, ...]
    created_at: dt.datetime
    external_id: str | None = None
    conversation_id: int | None = None
    intent: str | None = None


def _to_conversation(row: ConversationRow) -> Conversation:
    return Conversation(row.id, row.channel, row.user_id, row.mode, dict(row.slots or {}))


# The statements every message runs, built once: parameters go in at execution, so
# SQLAlchemy reuses the compiled form instead of rebuilding and re-keying each statement
# (that was most of a cached answer's time).
_CONVERSATIONS = ConversationRow.__table__
_TURNS = TurnRow.__table__
_LATEST_OPEN = (
    select(_CONVERSATIONS.c.id, _CONVERSATIONS.c.mode, _CONVERSATIONS.c.slots)
    .where(_CONVERSATIONS.c.channel == bindparam("channel"),
           _CONVERSATIONS.c.user_id == bindparam("user_id"),
           _CONVERSATIONS.c.closed_at.is_(None))
    .order_by(_CONVERSATIONS.c.id.desc())
    .limit(1)
)
_NEW_CONVERSATION = insert(_CONVERSATIONS).returning(_CONVERSATIONS.c.id)
_NEW_TURN = insert(_TURNS).returning(_TURNS.c.id)
_SAVE_STATE = update(_CONVERSATIONS).where(_CONVERSATIONS.c.id == bindparam("conversation"))
_ASKED = (
    select(_TURNS.c.id)
    .where(_TURNS.c.conversation_id == bindparam("conversation"),
           _TURNS.c.external_id == bindparam("external_id"), _TURNS.c.author == "citizen")
    .limit(1)
)
_REPLIES = select(_TURNS).where(_TURNS.c.reply_to == bindparam("asked")).order_by(_TURNS.c.id)
_RATINGS = RatingRow.__table__
_NEWEST_PER_ANSWER = (
    select(func.max(_RATINGS.c.id))
    .where(_RATINGS.c.conversation_id == bindparam("conversation"), _RATINGS.c.kind == "helpful")
    .group_by(_RATINGS.c.turn_id)
)
_RECENT_HELPFUL = (  # each rated answer's newest rating: a citizen may change their mind
    select(_RATINGS.c.id, _RATINGS.c.value)
    .where(_RATINGS.c.id.in_(_NEWEST_PER_ANSWER))
    .order_by(_RATINGS.c.id.desc())
    .limit(bindparam("limit"))
)


def _insert_turns(
    connection: Connection, conversation: Conversation, turns: Sequence[TurnRecord],
    reply_to: int | None,
) -> list[int]:
    """Ids in the order given (one statement each: ordered ids on every backend)."""
    now = utcnow()
    return [
        int(connection.execute(_NEW_TURN, {
            "conversation_id": conversation.id, "author": turn.author,
            "channel": conversation.channel, "text": turn.text, "payload": turn.payload,
            "external_id": turn.external_id, "reply_to": reply_to, "intent": turn.intent,
            "confidence": turn.confidence, "entry_ids": list(turn.entry_ids),
            "answered": turn.answered, "created_at": now,
        }).scalar_one())
        for turn in turns
    ]


def _with_row(conversation: Conversation, row_id: int | None) -> Conversation:
    """The conversation as the row `row_id` just written for it within a transaction (the
    object itself takes the id only once that commits); itself when None."""
    return conversation if row_id is None else replace(conversation, id=row_id, saved=True)


def _save_state(connection: Connection, conversation: Conversation) -> None:
    done = connection.execute(_SAVE_STATE, {
        "conversation": conversation.id, "mode": conversation.mode,
        "slots": dict(conversation.slots), "updated_at": utcnow(),
    })
    if done.rowcount == 0:
        raise ConversationNotFound(conversation.id)


def _to_turn(row: Any) -> StoredTurn:
    """From an ORM `TurnRow` or a Core row of the turns table (same attribute names)."""
    return StoredTurn(
        row.id, row.author, row.text, row.payload, tuple(row.entry_ids or ()), row.created_at,
        row.external_id, row.conversation_id, row.intent,
    )


class ConversationStore(SqlStore):
    unavailable = "conversation database unavailable"

    def open(self, channel: str, user_id: str, lazy: bool = False) -> Conversation:
        """The citizen's open conversation on this channel, created when none is open.

        Every message opens its conversation, so this and `record_exchange` use Core
        statements, not ORM sessions (a new citizen's cold message, in process on SQLite:
        9.7 ms of database time with ORM sessions, 4.1 ms like this).

        `lazy`: a new conversation is not written yet (`saved` False, id 0); the first
        `record_exchange` writes it in the same transaction as the exchange, one write
        transaction instead of two for a citizen's first message (opening it 0.79 -> 0.47-0.69
        ms cold, in process on SQLite, three runs). Whoever needs its id before that calls
        `save`."""
        who = {"channel": channel, "user_id": user_id}
        with self._connection(read_only=True) as connection:
            row = connection.execute(_LATEST_OPEN, who).first()
        if row is None and lazy:
            return Conversation(0, channel, user_id, "bot", {}, fresh=True, saved=False)
        if row is None:
            with self._connection() as connection:
                row = connection.execute(_LATEST_OPEN, who).first()  # again, holding the lock
                if row is None:
                    now = utcnow()
                    created = connection.execute(_NEW_CONVERSATION, {
                        **who, "mode": "bot", "slots": {}, "created_at": now, "updated_at": now,
                    }).scalar_one()
                    return Conversation(int(created), channel, user_id, "bot", {}, fresh=True)
        return Conversation(int(row.id), channel, user_id, row.mode, dict(row.slots or {}))

    def get(self, conversation_id: int) -> Conversation:
        def work(session: Session) -> Conversation:
            row = session.get(ConversationRow, conversation_id)
            if row is None:
                raise ConversationNotFound(conversation_id)
            return _to_conversation(row)

        return self._run(work)

    def replies_to(self, conversation_id: int, external_id: str) -> list[StoredTurn] | None:
        """The replies already given to a citizen message, or None when it is new.

        Every WeChat message asks this (WeChat retries by MsgId): Core statements (an ORM
        session before): 0.41 -> 0.14 ms for an answered message, 0.24 -> 0.08 ms for a new one,
        CPU time on SQLite."""
        with self._connection(read_only=True) as connection:
            asked = connection.execute(
                _ASKED, {"conversation": conversation_id, "external_id": external_id}
            ).scalar()
            if asked is None:
                return None
            return [_to_turn(row) for row in connection.execute(_REPLIES, {"asked": asked})]

    def record_exchange(
        self, conversation: Conversation, inbound: TurnRecord, replies: Sequence[TurnRecord]
    ) -> list[int]:
        """Persist a citizen turn, its replies and the conversation state in one transaction
        (a conversation opened lazily is written in it too)."""
        with self._connection() as connection:
            created = self._create(connection, conversation)
            written = _with_row(conversation, created)
            [asked] = _insert_turns(connection, written, [inbound], None)
            ids = _insert_turns(connection, written, replies, asked)
            if created is None:
                _save_state(connection, conversation)
        self._saved(conversation, created)
        return ids

    def record_turns(self, conversation: Conversation, turns: Sequence[TurnRecord]) -> list[int]:
        with self._connection() as connection:
            created = self._create(connection, conversation)
            ids = _insert_turns(connection, _with_row(conversation, created), turns, None)
            if created is None:
                _save_state(connection, conversation)
        self._saved(conversation, created)
        return ids

    def save(self, conversation: Conversation) -> None:
        """Write a lazily opened conversation now (a handoff or ticket needs its id)."""
        if conversation.saved:
            return
        with self._connection() as connection:
            created = self._create(connection, conversation)
        self._saved(conversation, created)

    @staticmethod
    def _create(connection: Connection, conversation: Conversation) -> int | None:
        """The id of the row written for a lazily opened conversation, with its current mode
        and slots; None when it was already saved. Another process that opened one for the
        same citizen meanwhile (read again, holding the write lock) is joined instead."""
        if conversation.saved:
            return None
        who = {"channel": conversation.channel, "user_id": conversation.user_id}
        row = connection.execute(_LATEST_OPEN, who).first()
        if row is not None:
            _save_state(connection, _with_row(conversation, int(row.id)))
            return int(row.id)
        now = utcnow()
        return int(connection.execute(_NEW_CONVERSATION, {
            **who, "mode": conversation.mode, "slots": dict(conversation.slots),
            "created_at": now, "updated_at": now,
        }).scalar_one())

    @staticmethod
    def _saved(conversation: Conversation, created: int | None) -> None:
        """After the commit: the conversation now has its row."""
        if created is not None:
            conversation.id, conversation.saved = created, True

    def history(self, conversation_id: int, after: int = 0, limit: int = 200) -> list[StoredTurn]:
        def work(session: Session) -> list[StoredTurn]:
            rows = session.scalars(
                select(TurnRow)
                .where(TurnRow.conversation_id == conversation_id, TurnRow.id > after)
                .order_by(TurnRow.id)
                .limit(limit)
            )
            return [_to_turn(row) for row in rows]

        return self._run(work)

    def user_history(
        self, channel: str, user_id: str, after: int = 0, limit: int = 100
    ) -> list[StoredTurn]:
        """A citizen's turns across all their conversations on a channel, oldest first.

        `after` > 0: the turns after that id (a resuming client); 0: the latest `limit`."""

        def work(session: Session) -> list[StoredTurn]:
            query = (
                select(TurnRow)
                .join(ConversationRow, ConversationRow.id == TurnRow.conversation_id)
                .where(ConversationRow.channel == channel, ConversationRow.user_id == user_id)
            )
            if after > 0:
                rows = session.scalars(
                    query.where(TurnRow.id > after).order_by(TurnRow.id).limit(limit)
                ).all()
            else:
                rows = session.scalars(query.order_by(TurnRow.id.desc()).limit(limit)).all()
                rows = list(reversed(rows))
            return [_to_turn(row) for row in rows]

        return self._run(work)

    def latest(self, channel: str, user_id: str) -> Conversation | None:
        """The citizen's most recent conversation on a channel, open or closed."""

        def work(session: Session) -> Conversation | None:
            row = session.scalars(
                select(ConversationRow)
                .where(ConversationRow.channel == channel, ConversationRow.user_id == user_id)
                .order_by(ConversationRow.id.desc())
                .limit(1)
            ).first()
            return None if row is None else _to_conversation(row)

        return self._run(work)

    def close(self, conversation_id: int) -> None:
        """End a conversation (the citizen's next message opens a new one)."""

        def work(session: Session) -> None:
            row = session.get(ConversationRow, conversation_id)
            if row is None:
                raise ConversationNotFound(conversation_id)
            if row.closed_at is None:
                row.mode, row.closed_at, row.updated_at = "closed", utcnow(), utcnow()
            self._cancel_handoffs(session, conversation_id)

        self._run(work)

    def cancel_handoffs(self, conversation: Conversation) -> None:
        """Leave the staff queue: back to the bot (a message was left instead)."""

        def work(session: Session) -> None:
            self._cancel_handoffs(session, conversation.id)
            conversation.mode = "bot"
            _save_state(session.connection(), conversation)

        self._run(work)

    @staticmethod
    def _cancel_handoffs(session: Session, conversation_id: int) -> None:
        """The citizen left the queue or ended the conversation: its open handoffs end."""
        rows = session.scalars(
            select(HandoffRow).where(
                HandoffRow.conversation_id == conversation_id,
                HandoffRow.status.in_(OPEN_HANDOFF_STATES),
            )
        )
        for row in rows:
            row.status, row.closed_at, row.closed_by = "cancelled", utcnow(), "citizen"
            row.end_reason = "citizen_left"

    def turn(self, turn_id: int) -> tuple[int, StoredTurn] | None:
        def work(session: Session) -> tuple[int, StoredTurn] | None:
            row = session.get(TurnRow, turn_id)
            return None if row is None else (row.conversation_id, _to_turn(row))

        return self._run(work)

    def rate_turn(self, conversation_id: int, turn: StoredTurn, helpful: bool) -> int:
        """Store helpful / not helpful for each entry the answer used; returns rows written."""

        def work(session: Session) -> int:
            entries: Sequence[str | None] = turn.entry_ids or (None,)
            for entry_id in entries:
                session.add(
                    RatingRow(
                        conversation_id=conversation_id,
                        turn_id=turn.id,
                        entry_id=entry_id,
                        kind="helpful",
                        value=1 if helpful else 0,
                    )
                )
            return len(entries)

        return self._run(work)

    def rate_conversation(self, conversation_id: int, value: int, comment: str | None) -> None:
        """The five-level 好差评 satisfaction rating (5 = 非常满意 ... 1 = 非常不满意)."""

        def work(session: Session) -> None:
            cited = session.scalars(
                select(TurnRow.entry_ids).where(
                    TurnRow.conversation_id == conversation_id, TurnRow.author == "bot"
                )
            )
            entry_ids = list(dict.fromkeys(e for ids in cited for e in (ids or ())))
            session.add(
                RatingRow(
                    conversation_id=conversation_id,
                    kind="satisfaction",
                    value=value,
                    comment=comment,
                    entry_ids=entry_ids,
                )
            )

        self._run(work)

    def create_ticket(
        self, conversation_id: int, matter: str, place: str | None, phone: str | None
    ) -> str:
        def work(session: Session) -> str:
            row = TicketRow(
                number="pending",
                conversation_id=conversation_id,
                matter=matter,
                place=place,
                phone=phone,
                phone_consent=phone is not None,
            )
            session.add(row)
            session.flush()
            row.number = f"LJ{utcnow():%Y%m%d}{row.id:06d}"
            return row.number

        return self._run(work)

    def ticket(self, number: str) -> dict[str, Any] | None:
        def work(session: Session) -> dict[str, Any] | None:
            row = session.scalars(select(TicketRow).where(TicketRow.number == number)).first()
            if row is None:
                return None
            return {
                "number": row.number,
                "matter": row.matter,
                "place": row.place,
                "phone": row.phone,
                "status": row.status,
                "conversation_id": row.conversation_id,
            }

        return self._run(work)

    def citizen_tickets(self, channel: str, user_id: str, number: str | None = None,
                        limit: int = 3) -> list[dict[str, Any]]:
        """The citizen's own tickets on this channel, newest first (one, by its number): a
        number another citizen holds is not found, so nothing of theirs is shown."""

        def work(session: Session) -> list[dict[str, Any]]:
            query = (
                select(TicketRow)
                .join(ConversationRow, ConversationRow.id == TicketRow.conversation_id)
                .where(ConversationRow.channel == channel, ConversationRow.user_id == user_id)
            )
            if number is not None:
                query = query.where(TicketRow.number == number)
            rows = session.scalars(query.order_by(TicketRow.id.desc()).limit(limit))
            return [{
                "number": row.number, "matter": row.matter, "status": row.status,
                "created_at": row.created_at, "answer": row.answer,
                "answered_at": row.answered_at,
            } for row in rows]

        return self._read(work)

    def create_handoff(self, conversation_id: int, reason: str) -> int:
        """A pending handoff; a conversation already waiting or with staff keeps its own."""

        def work(session: Session) -> int:
            open_one = session.scalars(select(HandoffRow.id).where(
                HandoffRow.conversation_id == conversation_id,
                HandoffRow.status.in_(OPEN_HANDOFF_STATES))).first()
            if open_one is not None:
                return open_one
            row = HandoffRow(conversation_id=conversation_id, reason=reason, status="pending")
            session.add(row)
            session.flush()
            return row.id

        return self._run(work)

    def queued_handoffs(self) -> list[dict[str, Any]]:
        def work(session: Session) -> list[dict[str, Any]]:
            rows = session.scalars(
                select(HandoffRow).where(HandoffRow.status == "pending").order_by(HandoffRow.id)
            )
            return [
                {"id": r.id, "conversation_id": r.conversation_id, "reason": r.reason}
                for r in rows
            ]

        return self._run(work)

    def recent_helpful(self, conversation_id: int, limit: int) -> list[tuple[int, int]]:
        """The latest 有用 / 没用 ratings of a conversation, newest first: (rating id, value).

        Asked on every message of a returning citizen: a Core statement (0.32 -> 0.08 ms of
        CPU on SQLite with an ORM session before)."""
        with self._connection(read_only=True) as connection:
            rows = connection.execute(
                _RECENT_HELPFUL, {"conversation": conversation_id, "limit": limit}
            )
            return [(int(i), int(v)) for i, v in rows]

    def rating_summary(self) -> dict[str, int]:
        def work(session: Session) -> dict[str, int]:
            rows = session.execute(
                select(RatingRow.kind, RatingRow.value, func.count()).group_by(
                    RatingRow.kind, RatingRow.value
                )
            )
            return {f"{kind}:{value}": count for kind, value, count in rows}

        return self._run(work)
