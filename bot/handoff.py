"""Handing a conversation from the bot to staff, and back.

The bot decides *when* (a request, or two unanswered questions in a row); the staff
console (its own package) decides *who*. Channels implement `OutboundSender` so staff
replies reach the citizen on whatever channel the conversation came from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from bot.conversations import Conversation, ConversationStore
from bot.messages import Reply

HandoffListener = Callable[[Conversation, str], None]


class OutboundSender(Protocol):
    """Delivers replies that did not originate from a citizen's request (staff replies)."""

    async def send(self, conversation: Conversation, replies: Sequence[Reply]) -> None: ...


class HandoffService:
    def __init__(
        self, conversations: ConversationStore, availability: Callable[[], bool] | None = None
    ) -> None:
        self._conversations = conversations
        self._listeners: list[HandoffListener] = []
        # Whether staff can answer now (online and within service hours); the console sets it.
        self.availability = availability

    def staff_available(self) -> bool:
        return self.availability() if self.availability is not None else True

    def subscribe(self, listener: HandoffListener) -> None:
        self._listeners.append(listener)

    def queue(self, conversation: Conversation, reason: str) -> int:
        """Put the conversation in the staff queue; the caller persists the mode change."""
        self._conversations.save(conversation)  # opened lazily by this very message
        conversation.mode = "queued"
        handoff_id = self._conversations.create_handoff(conversation.id, reason)
        for listener in self._listeners:
            listener(conversation, reason)
        return handoff_id
