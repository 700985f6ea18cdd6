"""The complaint / suggestion flow: matter, place (optional), phone (optional, with consent)."""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.conversations import Conversation, ConversationStore
from bot.followup import is_cancel, is_skip, parse_phone
from bot.messages import Reply

MIN_MATTER_CHARS = 8


class TicketFlow:
    """Drives the `pending = {"type": "ticket", ...}` slot of a conversation."""

    def __init__(self, conversations: ConversationStore) -> None:
        self._conversations = conversations

    def start(self, conversation: Conversation, text: str) -> Reply:
        matter = text.strip() if len(text.strip()) >= MIN_MATTER_CHARS else None
        state: dict[str, Any] = {"type": "ticket", "matter": matter, "step": "place"}
        if matter is None:
            state["step"] = "matter"
            conversation.slots["pending"] = state
            return Reply(texts.TICKET_ASK_MATTER)
        conversation.slots["pending"] = state
        return Reply("收到您反映的情况。" + texts.TICKET_ASK_PLACE)

    def advance(self, conversation: Conversation, text: str) -> Reply:
        state: dict[str, Any] = dict(conversation.slots["pending"])
        if is_cancel(text):
            conversation.slots.pop("pending", None)
            return Reply(texts.TICKET_CANCELLED)
        step = state["step"]
        if step == "matter":
            state.update(matter=text.strip(), step="place")
            conversation.slots["pending"] = state
            return Reply(texts.TICKET_ASK_PLACE)
        if step == "place":
            state.update(place=None if is_skip(text) else text.strip(), step="phone")
            conversation.slots["pending"] = state
            return Reply(texts.TICKET_ASK_PHONE)
        return self._take_phone(conversation, state, text)

    def _take_phone(self, conversation: Conversation, state: dict[str, Any], text: str) -> Reply:
        phone = parse_phone(text)
        if phone is None and not is_skip(text):
            if state.get("retried"):
                phone = None  # asked twice: file the ticket without a number rather than loop
            else:
                state["retried"] = True
                conversation.slots["pending"] = state
                return Reply(texts.TICKET_BAD_PHONE)
        self._conversations.save(conversation)
        number = self._conversations.create_ticket(
            conversation.id, state["matter"], state.get("place"), phone
        )
        conversation.slots.pop("pending", None)
        return Reply(texts.TICKET_CREATED.format(number=number), meta={"ticket": number})
