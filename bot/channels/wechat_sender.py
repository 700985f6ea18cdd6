"""Staff replies to citizens on WeChat: the `OutboundSender` behind the bot's handoff seam.

Staff replies go out through the customer-service message API via the outbox, which keeps
WeChat's 48-hour window and its 5 messages per citizen message. Consecutive staff replies
are merged into as few messages as fit (2048 bytes each) to save that quota, including
into an earlier reply still waiting for the citizen. A reply WeChat will not take (45015,
45047, or outside the window) is held, recorded on the conversation as not delivered with
the reason, and sent after the citizen's next message.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from sqlalchemy import Engine

from bot.channels import texts
from bot.channels.follower import FollowerStore
from bot.channels.outbox import Outbox, OutboxMessage, OutboxStore, TextSender
from bot.channels.wechat_render import render_replies
from bot.conversations import Conversation, ConversationStore, TurnRecord
from bot.messages import Reply

CHANNEL = "wechat"
STAFF_TOOK_OVER = "工作人员已接入，机器人之前准备的答复不再发送"


class StaffTookOver:
    """The bot re-checks the mode before sending anything it prepared: once a staff member
    has claimed the conversation, the citizen hears from that person only. Staff replies
    and the bot's answers in other modes go out as usual."""

    def __init__(self, conversations: ConversationStore) -> None:
        self._conversations = conversations

    def __call__(self, message: OutboxMessage) -> str | None:
        if message.origin == "staff" or message.conversation_id is None:
            return None
        conversation = self._conversations.get(message.conversation_id)
        return STAFF_TOOK_OVER if conversation.mode == "human" else None


class DeliveryRecorder:
    """Writes "not delivered, because ..." on the conversation, where the console shows it."""

    def __init__(self, conversations: ConversationStore) -> None:
        self._conversations = conversations

    def __call__(self, message: OutboxMessage, reason: str) -> None:
        if message.conversation_id is None:
            return
        # Fresh state: record_turns also saves mode and slots from the object we pass.
        conversation = self._conversations.get(message.conversation_id)
        note = texts.NOT_DELIVERED.format(reason=reason)
        meta = {"delivery": "not_delivered", "reason": reason, "outbox_id": message.id,
                "origin": message.origin, "undelivered_text": message.text}
        payload = Reply(note, meta=meta).to_dict()
        turn = TurnRecord("system", note, payload=payload)
        self._conversations.record_turns(conversation, [turn])


class WechatSender:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    @classmethod
    def build(
        cls, client: TextSender, engine: Engine, conversations: ConversationStore
    ) -> WechatSender:
        """A sender with its own outbox (the channel's `sender` shares the webhook's)."""
        outbox = Outbox(OutboxStore(engine), FollowerStore(engine), client,
                        DeliveryRecorder(conversations), StaffTookOver(conversations))
        return cls(outbox)

    async def send(self, conversation: Conversation, replies: Sequence[Reply]) -> None:
        if conversation.channel != CHANNEL:
            raise ValueError(f"conversation {conversation.id} is on {conversation.channel}")
        messages = render_replies(replies)
        if not messages:
            return
        ids = await asyncio.to_thread(
            self._outbox.store.enqueue, conversation.user_id, messages,
            f"staff:{uuid.uuid4().hex}", "staff", conversation.id, True,
        )
        await self._outbox.deliver(ids)

    async def delivery(self, conversation_id: int) -> list[dict[str, object]]:
        """Each outbound message of the conversation with its status and reason."""
        return await asyncio.to_thread(self._outbox.store.statuses, conversation_id)
