"""The web chat channel's core, shared by its WebSocket and its SSE + POST transports.

The database is the single source of truth: every message the widget shows is a stored
turn, and a turn's id is its sequence number. Delivering means "send each open widget of
this citizen the turns after the last one it has", so a new connection, a resumed one, a
second tab, a bot answer and a staff reply all take the same path (`deliver`). Open widgets
are tracked per process: run one server process per set of widgets (docs/webchat-protocol.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.channels import texts
from bot.channels.rate_limit import SlidingWindowLimiter
from bot.channels.webchat_frames import BadFrame, Frame, error_frame, message_frame
from bot.channels.webchat_identity import SitePolicy, TokenSigner, WidgetIdentity
from bot.conversations import Conversation, ConversationStore, TurnRecord
from bot.dialogue import Bot
from bot.errors import StorageUnavailable
from bot.followup import parse_phone
from bot.messages import InboundMessage, Reply, clean_text, has_words
from bot.texts import SYMBOLS_ONLY

CHANNEL = "webchat"
HISTORY_PAGE = 100
MAX_PHONE = 32
log = logging.getLogger("wenzheng.webchat")

Send = Callable[[dict[str, Any]], Awaitable[None]]


class StaffPresence(Protocol):
    """Whether anyone can take a conversation now (the staff console implements it)."""

    def available(self) -> bool: ...


class NoStaffOnline:
    def available(self) -> bool:
        return False


@dataclass(eq=False)
class Subscriber:
    """One open widget transport (a socket or an event stream) of one citizen."""

    identity: WidgetIdentity
    send: Send
    last_seq: int = 0
    state_sent: dict[str, Any] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True)
class Limits:
    max_message_chars: int = 2000
    per_connection: tuple[int, float] = (5, 5.0)  # messages, seconds
    per_identity: tuple[int, float] = (30, 60.0)


class WebchatService:
    def __init__(
        self, bot: Bot, conversations: ConversationStore, signer: TokenSigner,
        policy: SitePolicy, staff: StaffPresence | None = None, limits: Limits = Limits(),
    ) -> None:
        self.policy, self.limits = policy, limits
        self._bot, self._conversations, self._signer = bot, conversations, signer
        self._staff = staff or NoStaffOnline()
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._per_connection = SlidingWindowLimiter(*limits.per_connection)
        self._per_identity = SlidingWindowLimiter(*limits.per_identity)

    # -- identity and subscriptions ------------------------------------------------------

    def identify(
        self, site: str, token: str | None, user: str | None = None, user_hash: str | None = None
    ) -> tuple[WidgetIdentity, str]:
        """The citizen behind a hello, and the token the widget keeps from now on."""
        if user:
            identity = self.policy.signed_user(site, user, user_hash or "")
        elif token:
            identity = self._signer.verify(token, site)
        else:
            identity = self._signer.anonymous(site)
        return identity, self._signer.issue(identity)

    async def welcome(self, identity: WidgetIdentity, token: str) -> dict[str, Any]:
        latest = await asyncio.to_thread(self._conversations.user_history, CHANNEL, identity.user_id, 0, 1)
        state = await self._state(identity)
        return {"type": "welcome", "token": token, "seq": latest[-1].id if latest else 0,
                "mode": state["mode"], "staff_available": state["staff_available"]}

    async def attach(self, subscriber: Subscriber) -> None:
        """Register an open widget and send it everything after its `last_seq`."""
        self._subscribers.setdefault(subscriber.identity.user_id, set()).add(subscriber)
        await self._catch_up(subscriber)

    def detach(self, subscriber: Subscriber) -> None:
        group = self._subscribers.get(subscriber.identity.user_id)
        if group is not None:
            group.discard(subscriber)
            if not group:
                del self._subscribers[subscriber.identity.user_id]

    def connections(self) -> int:
        return sum(len(group) for group in self._subscribers.values())

    async def deliver(self, user_id: str) -> None:
        """Send every open widget of this citizen the turns it does not have yet."""
        for subscriber in list(self._subscribers.get(user_id, ())):
            await self._catch_up(subscriber)

    async def staff_changed(self) -> None:
        """Staff presence changed: open widgets waiting for a person get a fresh `state`."""
        for user_id, group in list(self._subscribers.items()):
            for subscriber in list(group):
                async with subscriber.lock:
                    state = await self._state(subscriber.identity)
                    waiting = state["mode"] == "queued" and state != subscriber.state_sent
                    if waiting and await self._send(subscriber, state):
                        subscriber.state_sent = state

    async def broadcast(self, user_id: str, frame: dict[str, Any]) -> None:
        for subscriber in list(self._subscribers.get(user_id, ())):
            await self._send(subscriber, frame)

    async def _send(self, subscriber: Subscriber, frame: dict[str, Any]) -> bool:
        try:
            await subscriber.send(frame)
            return True
        except Exception:  # noqa: BLE001 - a socket that went away: forget it, the citizen resumes
            self.detach(subscriber)
            return False

    async def _catch_up(self, subscriber: Subscriber) -> None:
        async with subscriber.lock:
            user_id = subscriber.identity.user_id
            while True:
                turns = await asyncio.to_thread(
                    self._conversations.user_history, CHANNEL, user_id, subscriber.last_seq,
                    HISTORY_PAGE,
                )
                for turn in turns:
                    if not await self._send(subscriber, message_frame(turn)):
                        return
                    subscriber.last_seq = turn.id
                if len(turns) < HISTORY_PAGE or subscriber.last_seq == 0:
                    break
            state = await self._state(subscriber.identity)
            if state != subscriber.state_sent and await self._send(subscriber, state):
                subscriber.state_sent = state

    async def _state(self, identity: WidgetIdentity) -> dict[str, Any]:
        conversation = await asyncio.to_thread(self._conversations.latest, CHANNEL, identity.user_id)
        mode = conversation.mode if conversation else "bot"
        staff_name = conversation.slots.get("staff_name") if conversation else None
        return {"type": "state", "mode": mode, "staff_name": staff_name,
                "staff_available": self._staff.available()}

    # -- client frames ------------------------------------------------------------------

    async def handle(
        self, identity: WidgetIdentity, frame: Frame, connection_key: str
    ) -> dict[str, Any] | None:
        """Act on one client frame; the frame answered to the sender alone, if any."""
        client_id = frame.data.get("client_id") if isinstance(frame.data.get("client_id"), str) else None
        try:
            handler = getattr(self, f"_on_{frame.type}")
            result: dict[str, Any] | None = await handler(identity, frame, connection_key)
            return result
        except BadFrame as exc:
            log.info("bad web chat frame from %s: %s", identity.user_id, exc)
            return error_frame("bad_frame", texts.WEB_BAD_FRAME, client_id)
        except StorageUnavailable:
            log.warning("web chat: database unavailable")
            return error_frame("unavailable", texts.WEB_UNAVAILABLE, client_id)

    def _citizen_text(self, frame: Frame) -> tuple[str, str, dict[str, Any] | None]:
        """The frame's client id and cleaned text, and the refusal when the text is unfit."""
        client_id, text = frame.client_id(), clean_text(frame.text())
        limit = self.limits.max_message_chars
        if len(text) > limit:
            return client_id, text, error_frame("too_long", texts.TOO_LONG.format(limit=limit), client_id)
        if not text:
            return client_id, text, error_frame("empty", texts.WEB_EMPTY, client_id)
        return client_id, text, None

    def _allow(self, identity: WidgetIdentity, connection_key: str) -> bool:
        return self._per_connection.allow(connection_key) and self._per_identity.allow(
            identity.user_id
        )

    async def _on_message(
        self, identity: WidgetIdentity, frame: Frame, connection_key: str
    ) -> dict[str, Any] | None:
        client_id, text, refused = self._citizen_text(frame)
        if refused is not None:
            return refused
        if not self._allow(identity, connection_key):
            return error_frame("rate_limited", texts.WEB_RATE_LIMITED, client_id)
        if not has_words(text):  # emoji or punctuation only: a kind word, stored like any turn
            await asyncio.to_thread(
                self._reply_directly, identity, text, client_id, lambda _: SYMBOLS_ONLY
            )
        else:
            await self.broadcast(identity.user_id, {"type": "typing", "author": "bot", "on": True})
            message = InboundMessage(CHANNEL, identity.user_id, text, external_id=client_id)
            try:
                await self._bot.handle_async(message)
            finally:
                await self.broadcast(identity.user_id, {"type": "typing", "author": "bot", "on": False})
        await self.deliver(identity.user_id)
        return None

    def _reply_directly(
        self, identity: WidgetIdentity, text: str, client_id: str,
        answer: Callable[[Conversation], str], author: str = "bot",
    ) -> None:
        """Store a citizen turn and a reply that needs no dialogue, once per client id.
        Under the bot's lock for this citizen: a staff change of mode is never overwritten."""
        with self._bot.citizen_lock(CHANNEL, identity.user_id):
            conversation = self._conversations.open(CHANNEL, identity.user_id)
            if self._conversations.replies_to(conversation.id, client_id) is not None:
                return
            said = answer(conversation)
            asked = TurnRecord("citizen", text, external_id=client_id)
            reply = TurnRecord(author, said, payload=Reply(said).to_dict())
            self._conversations.record_exchange(conversation, asked, [reply])

    async def _on_leave_message(
        self, identity: WidgetIdentity, frame: Frame, connection_key: str
    ) -> dict[str, Any] | None:
        client_id, text, refused = self._citizen_text(frame)
        if refused is not None:
            return refused
        phone_text = frame.optional_text("phone", MAX_PHONE)
        phone = parse_phone(phone_text) if phone_text else None
        if phone_text and phone is None:
            return error_frame("bad_phone", texts.WEB_BAD_PHONE, client_id)
        if not self._allow(identity, connection_key):
            return error_frame("rate_limited", texts.WEB_RATE_LIMITED, client_id)

        def ticket(conversation: Conversation) -> str:
            number = self._conversations.create_ticket(conversation.id, text, None, phone)
            self._conversations.cancel_handoffs(conversation)  # back to the bot meanwhile
            return texts.WEB_MESSAGE_LEFT.format(number=number)

        await asyncio.to_thread(self._reply_directly, identity, text, client_id, ticket, "system")
        await self.deliver(identity.user_id)
        return None

    async def _on_feedback(
        self, identity: WidgetIdentity, frame: Frame, connection_key: str
    ) -> dict[str, Any] | None:
        seq, helpful = frame.integer("seq", 1, 2**62), frame.flag("helpful")
        found = await asyncio.to_thread(self._conversations.turn, seq)
        if found is None or found[1].author != "bot" or not await self._owns(identity, found[0]):
            return error_frame("not_found", texts.WEB_NOT_FOUND)
        await asyncio.to_thread(self._conversations.rate_turn, found[0], found[1], helpful)
        return {"type": "feedback_ok", "seq": seq, "helpful": helpful}

    async def _owns(self, identity: WidgetIdentity, conversation_id: int) -> bool:
        conversation = await asyncio.to_thread(self._conversations.get, conversation_id)
        return conversation.channel == CHANNEL and conversation.user_id == identity.user_id

    async def _on_rating(
        self, identity: WidgetIdentity, frame: Frame, connection_key: str
    ) -> dict[str, Any] | None:
        value = frame.integer("value", 1, 5)
        comment = frame.optional_text("comment", 500)
        conversation = await asyncio.to_thread(self._conversations.latest, CHANNEL, identity.user_id)
        if conversation is None:
            return error_frame("not_found", texts.WEB_NOT_FOUND)
        comment = clean_text(comment) if comment else None
        await asyncio.to_thread(self._conversations.rate_conversation, conversation.id, value, comment)
        return {"type": "rating_ok", "conversation_id": conversation.id}

    async def _on_end(
        self, identity: WidgetIdentity, frame: Frame, connection_key: str
    ) -> dict[str, Any] | None:
        await asyncio.to_thread(self._close_latest, identity)
        await self.deliver(identity.user_id)
        return None

    def _close_latest(self, identity: WidgetIdentity) -> None:
        with self._bot.citizen_lock(CHANNEL, identity.user_id):
            conversation = self._conversations.latest(CHANNEL, identity.user_id)
            if conversation is not None:
                self._conversations.close(conversation.id)

    async def _on_ping(
        self, identity: WidgetIdentity, frame: Frame, connection_key: str
    ) -> dict[str, Any] | None:
        return {"type": "pong"}

    async def _on_typing(
        self, identity: WidgetIdentity, frame: Frame, connection_key: str
    ) -> dict[str, Any] | None:
        return None  # the citizen is typing: of use to the staff console, not to the bot


class WebchatSender:
    """`OutboundSender` for staff replies: the console stores the turns, this delivers them
    to the citizen's open widgets (and a closed widget shows them from history later)."""

    def __init__(self, service: WebchatService) -> None:
        self._service = service

    async def send(self, conversation: Conversation, replies: Sequence[Reply]) -> None:
        if conversation.channel != CHANNEL:
            raise ValueError(f"conversation {conversation.id} is on {conversation.channel}")
        await self._service.deliver(conversation.user_id)

    async def typing(self, user_id: str, on: bool) -> None:
        await self._service.broadcast(user_id, {"type": "typing", "author": "staff", "on": on})
