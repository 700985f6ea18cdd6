"""`HandoffDesk`: what staff do with a handed-over conversation, end to end.

Mode changes run under the bot's per-citizen lock (`Bot.citizen_lock`), so a message being
answered at that moment cannot write back a mode it read before staff took over; the handoff
row itself changes only through the conditional UPDATEs of `HandoffStore`. Replies reach the
citizen through the channel's `OutboundSender`; every action lands in the audit log and is
announced to the open consoles.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.console import texts
from bot.console.accounts import StaffUser
from bot.console.hub import StaffHub
from bot.console.presence import Clock, utc_now
from bot.console.records import RecordStore
from bot.console.store import Handoff, HandoffStore
from bot.conversations import Conversation, ConversationStore, TurnRecord
from bot.dialogue import Bot, Outcome
from bot.handoff import OutboundSender
from bot.messages import Reply

log = logging.getLogger("wenzheng.console")
T = TypeVar("T")


class DeskRefused(Exception):
    """An action staff may not take now; `message` is for the console, `status` for HTTP."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class SlaPolicy:
    wait_alert: dt.timedelta = dt.timedelta(minutes=5)  # the queue highlights it
    idle_release: dt.timedelta = dt.timedelta(minutes=10)  # unanswered citizen: back to queue
    citizen_silent: dt.timedelta = dt.timedelta(minutes=15)  # then the handoff resolves
    queue_expire: dt.timedelta = dt.timedelta(hours=4)  # nobody claimed it: leave a message


class HandoffDesk:
    def __init__(
        self, bot: Bot, conversations: ConversationStore, handoffs: HandoffStore,
        records: RecordStore, hub: StaffHub, senders: Mapping[str, OutboundSender],
        sla: SlaPolicy = SlaPolicy(), clock: Clock = utc_now,
    ) -> None:
        self.bot, self.conversations, self.handoffs = bot, conversations, handoffs
        self.records, self.hub, self.senders = records, hub, senders
        self.sla, self.clock = sla, clock

    # -- reading -------------------------------------------------------------------------

    async def queue(self) -> list[dict[str, Any]]:
        waiting = await asyncio.to_thread(self.handoffs.with_status, "pending")
        assigned = await asyncio.to_thread(self.handoffs.with_status, "assigned")
        everyone = waiting + assigned
        questions = await asyncio.to_thread(
            self.handoffs.last_questions, [h.conversation_id for h in everyone])
        return [self._row(h, questions.get(h.conversation_id)) for h in everyone]

    def _row(self, handoff: Handoff, question: str | None) -> dict[str, Any]:
        waited = self.clock() - handoff.created_at
        return {**handoff.to_dict(), "waiting_s": max(0, int(waited.total_seconds())),
                "overdue": handoff.status == "pending" and waited > self.sla.wait_alert,
                "last_question": question}

    async def require(self, handoff_id: int) -> Handoff:
        handoff = await asyncio.to_thread(self.handoffs.get, handoff_id)
        if handoff is None:
            raise DeskRefused(texts.NOT_FOUND, 404)
        return handoff

    # -- lifecycle -----------------------------------------------------------------------

    async def locked(self, handoff: Handoff, work: Callable[[], T]) -> T:
        def run() -> T:
            with self.bot.citizen_lock(handoff.channel, handoff.user_id):
                return work()

        return await asyncio.to_thread(run)

    async def claim(self, handoff_id: int, user: StaffUser) -> Handoff:
        handoff = await self.require(handoff_id)
        if not await self.locked(handoff, lambda: self.handoffs.claim(handoff_id, user)):
            raise DeskRefused(texts.ALREADY_TAKEN)
        await self._changed(handoff, "claim", user.username)
        return await self.require(handoff_id)

    async def transfer(self, handoff_id: int, actor: StaffUser, target: StaffUser | None) -> None:
        handoff = await self.require(handoff_id)
        moved = await self.locked(handoff, lambda: self.handoffs.transfer(handoff_id, actor, target))
        if not moved:
            raise DeskRefused(texts.NOT_YOURS, 403)
        await self._changed(handoff, "transfer", target.username if target else None)

    async def resolve(self, handoff_id: int, actor: StaffUser) -> None:
        handoff = await self.assigned_to(handoff_id, actor)
        done = await self.locked(handoff, lambda: self.handoffs.end(
            handoff_id, "resolved", actor.username, "resolved", ("assigned",), "closed"))
        if not done:
            raise DeskRefused(texts.NOT_YOURS, 403)
        await self.tell(handoff.conversation_id, texts.RESOLVED)
        await self._changed(handoff, "resolved", actor.username)

    async def assigned_to(self, handoff_id: int, actor: StaffUser) -> Handoff:
        handoff = await self.require(handoff_id)
        mine = handoff.status == "assigned" and (handoff.staff == actor.username or actor.supervisor)
        if not mine:
            raise DeskRefused(texts.NOT_YOURS, 403)
        return handoff

    async def _changed(self, handoff: Handoff, what: str, who: str | None) -> None:
        await self.hub.publish({"type": "queue", "change": what, "handoff_id": handoff.id,
                                "conversation_id": handoff.conversation_id, "staff": who})
        sender = self.senders.get(handoff.channel)
        if handoff.channel == "webchat" and sender is not None:
            # the widget's state frame (mode, staff name) follows from the catch-up
            conversation = await asyncio.to_thread(self.conversations.get, handoff.conversation_id)
            await self.send_via(sender, conversation, [])

    # -- writing to the citizen ----------------------------------------------------------

    async def reply(self, handoff_id: int, actor: StaffUser, text: str) -> dict[str, Any]:
        handoff = await self.assigned_to(handoff_id, actor)
        reply = Reply(text, meta={"staff_name": actor.display_name})
        turn = TurnRecord("staff", text, payload=reply.to_dict())
        conversation = await self._store_turn(handoff, turn)
        await self.records_action(actor, "reply", handoff)
        delivered = await self._deliver(conversation, [reply])
        await self.hub.publish({"type": "message", "conversation_id": handoff.conversation_id})
        return {"delivered": delivered}

    async def records_action(self, actor: StaffUser, action: str, handoff: Handoff) -> None:
        await asyncio.to_thread(self.records.record, actor.username, action,
                                handoff.conversation_id, handoff_id=handoff.id)

    async def _store_turn(self, handoff: Handoff, turn: TurnRecord) -> Conversation:
        def work() -> Conversation:
            conversation = self.conversations.get(handoff.conversation_id)  # fresh mode, slots
            self.conversations.record_turns(conversation, [turn])
            return conversation

        return await self.locked(handoff, work)

    async def tell(self, conversation_id: int, text: str) -> None:
        """A system turn to the citizen (the handoff ended, a ticket was answered)."""
        conversation = await asyncio.to_thread(self.conversations.get, conversation_id)
        turn = TurnRecord("system", text, payload=Reply(text).to_dict())
        await asyncio.to_thread(self.conversations.record_turns, conversation, [turn])
        await self._deliver(conversation, [Reply(text)])

    async def _deliver(self, conversation: Conversation, replies: list[Reply]) -> str:
        sender = self.senders.get(conversation.channel)
        if sender is None:
            return "stored"  # e.g. the REST channel: the citizen sees it in the history
        return "sent" if await self.send_via(sender, conversation, replies) else "failed"

    @staticmethod
    async def send_via(sender: OutboundSender, conversation: Conversation, replies: list[Reply]) -> bool:
        try:
            await sender.send(conversation, replies)
            return True
        except Exception:  # the turn is stored; the console shows the delivery state
            log.exception("staff reply to conversation %s not sent", conversation.id)
            return False

    async def typing(self, handoff_id: int, actor: StaffUser, on: bool) -> None:
        """Show the citizen that the person is writing, where the channel can."""
        handoff = await self.assigned_to(handoff_id, actor)
        show = getattr(self.senders.get(handoff.channel), "typing", None)
        if show is not None:
            await show(handoff.user_id, on)

    async def note(self, handoff_id: int, actor: StaffUser, text: str) -> int:
        handoff = await self.require(handoff_id)
        note_id = await asyncio.to_thread(self.records.add_note, handoff.conversation_id, actor, text)
        await self.hub.publish({"type": "note", "conversation_id": handoff.conversation_id})
        return note_id

    # -- the bot's side ------------------------------------------------------------------

    def on_exchange(self, conversation: Conversation, outcome: Outcome) -> None:
        """Bot observer (a worker thread): a new waiting conversation, or a citizen's message
        in one staff hold, reaches the consoles at once."""
        if conversation.mode not in ("queued", "human"):
            return
        self.hub.publish_threadsafe({"type": "message", "conversation_id": conversation.id,
                                     "mode": conversation.mode})
        self.hub.publish_threadsafe({"type": "queue", "change": "message",
                                     "conversation_id": conversation.id})
