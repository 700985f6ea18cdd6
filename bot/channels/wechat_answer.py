"""What to answer a WeChat message or event, as rendered WeChat texts.

Text and recognised voice go to the dialogue; menu clicks become a knowledge-base entry,
an intent or a fixed reply; media get a polite, useful reply (or go to staff while a
conversation is with them); subscribe, scan and location are recorded.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Protocol

from bot import texts as bot_texts
from bot.channels import texts
from bot.channels.follower import Follower, FollowerStore
from bot.channels.wechat_inbound import WechatInbound
from bot.channels.wechat_menu import Menu
from bot.channels.wechat_render import render_replies
from bot.conversations import ConversationStore
from bot.dialogue import Outcome
from bot.messages import MAX_MESSAGE_CHARS, InboundMessage, clean_text, has_words

CHANNEL = "wechat"
# "江南省临江市滨江区市民大道100号" -> "滨江区"
_DISTRICT = re.compile(r"(?:省|市|自治区)?([\u4e00-\u9fff]{1,6}?(?:区|县|旗))")
MEDIA_LABELS = {"image": "图片", "video": "视频", "shortvideo": "小视频", "link": "链接",
                "location": "位置", "voice": "语音"}
INTERACTIONS = frozenset({"subscribe", "subscribe_scan", "scan", "click"})


class MessageHandler(Protocol):
    """The dialogue core (`bot.dialogue.Bot`), synchronous."""

    def handle(self, msg: InboundMessage) -> Outcome: ...


@dataclass(frozen=True)
class Answer:
    messages: tuple[str, ...]  # WeChat texts, each within 2048 bytes; () = stay silent
    conversation_id: int | None = None


def is_interaction(inbound: WechatInbound) -> bool:
    """Opens WeChat's 48-hour customer-service window (a view or location report does not)."""
    return inbound.msg_type != "event" or inbound.event in INTERACTIONS


def region_of(label: str) -> str | None:
    match = _DISTRICT.search(label.split("市", 1)[-1]) or _DISTRICT.search(label)
    return match.group(1) if match else None


class WechatAnswerer:
    def __init__(
        self, handler: MessageHandler, conversations: ConversationStore,
        followers: FollowerStore, menu: Menu, max_chars: int = MAX_MESSAGE_CHARS,
        executor: Executor | None = None,
    ) -> None:
        self._handler, self._conversations = handler, conversations
        self._followers, self._menu, self._max_chars = followers, menu, max_chars
        # Slow answers get their own threads, so the quick database work that every
        # request needs within WeChat's window never queues behind them.
        self._executor = executor

    async def answer(self, inbound: WechatInbound, follower: Follower | None) -> Answer:
        if inbound.msg_type == "event":
            return await self._event(inbound, follower)
        if inbound.msg_type in ("text", "voice"):
            return await self._words(inbound, follower)
        if await self._with_staff(inbound.openid):
            return await self._forward_media(inbound, follower)
        return await self._media(inbound)

    async def ask(self, inbound: WechatInbound, text: str, follower: Follower | None) -> Answer:
        region = follower.region if follower else None
        msg = InboundMessage(CHANNEL, inbound.openid, text, inbound.dedup_key, region)
        loop = asyncio.get_running_loop()
        handle_async = getattr(self._handler, "handle_async", None)  # the Bot: see its docs
        if handle_async is not None:
            outcome = await handle_async(
                msg, lambda task: loop.run_in_executor(self._executor, task)
            )
        else:
            outcome = await loop.run_in_executor(self._executor, self._handler.handle, msg)
        return Answer(tuple(render_replies(outcome.replies)), outcome.conversation_id)

    async def _words(self, inbound: WechatInbound, follower: Follower | None) -> Answer:
        text = clean_text(inbound.content)
        if inbound.msg_type == "voice" and not text:
            return Answer((texts.VOICE_UNCLEAR,))
        if not text:
            return Answer((bot_texts.EMPTY_MESSAGE,))
        if len(text) > self._max_chars:
            return Answer((texts.TOO_LONG.format(limit=self._max_chars),))
        if not has_words(text):
            return Answer((bot_texts.SYMBOLS_ONLY,))
        return await self.ask(inbound, text, follower)

    async def _with_staff(self, openid: str) -> bool:
        conversation = await asyncio.to_thread(self._conversations.open, CHANNEL, openid)
        return conversation.mode in ("queued", "human")

    async def _forward_media(self, inbound: WechatInbound, follower: Follower | None) -> Answer:
        """Staff should see what the citizen sent; the dialogue records it and stays silent."""
        label = MEDIA_LABELS.get(inbound.msg_type, inbound.msg_type)
        shown = ("Title", "Url", "Label", "PicUrl")
        detail = " ".join(v for k, v in inbound.extra.items() if k in shown)
        return await self.ask(inbound, f"[{label}] {detail}".strip(), follower)

    async def _media(self, inbound: WechatInbound) -> Answer:
        kind, extra = inbound.msg_type, inbound.extra
        if kind == "image":
            return Answer((texts.IMAGE,))
        if kind in ("video", "shortvideo"):
            return Answer((texts.VIDEO,))
        if kind == "link":
            return Answer((texts.LINK.format(title=extra.get("Title") or "链接"),))
        if kind == "location":
            return await self._location(inbound)
        return Answer((texts.UNSUPPORTED,))

    async def _location(self, inbound: WechatInbound) -> Answer:
        label = inbound.extra.get("Label", "")
        region = region_of(label)
        x, y = _number(inbound.extra.get("Location_X")), _number(inbound.extra.get("Location_Y"))
        await asyncio.to_thread(self._followers.set_location, inbound.openid, region, x, y)
        place = label or (f"{x},{y}" if x is not None else "您发送的位置")
        return Answer((texts.LOCATION.format(place=place),))

    async def _event(self, inbound: WechatInbound, follower: Follower | None) -> Answer:
        event, openid, key = inbound.event, inbound.openid, inbound.event_key
        if event in ("subscribe", "subscribe_scan"):
            scene = key if event == "subscribe_scan" else None
            await asyncio.to_thread(self._followers.subscribed, openid, scene)
            return Answer((self._welcome(scene),))
        if event == "unsubscribe":
            await asyncio.to_thread(self._followers.unsubscribed, openid)
        elif event == "scan" and key:
            await asyncio.to_thread(self._followers.set_entry_point, openid, key)
            place = self._menu.place(key)
            return Answer((texts.SCAN_AGAIN.format(place=place),) if place else ())
        elif event == "location":
            extra = inbound.extra
            lat, lng = _number(extra.get("Latitude")), _number(extra.get("Longitude"))
            await asyncio.to_thread(self._followers.set_location, openid, None, lat, lng)
        elif event == "click":
            return await self._click(inbound, follower)
        return Answer(())  # view, unsubscribe, location reports and unknown events: no reply

    async def _click(self, inbound: WechatInbound, follower: Follower | None) -> Answer:
        action = self._menu.action(inbound.event_key)
        if action is None:
            return Answer((texts.UNSUPPORTED,))
        utterance = action.utterance()
        if utterance is None:
            return Answer((action.value,))
        return await self.ask(inbound, utterance, follower)

    def _welcome(self, scene: str | None) -> str:
        place = self._menu.place(scene) if scene else None
        parts = [texts.WELCOME_ENTRY.format(place=place)] if place else []
        parts.append(texts.WELCOME)
        if self._menu.welcome_services:
            parts.append(texts.WELCOME_SERVICES.format(services="、".join(self._menu.welcome_services)))
        return "\n".join(parts)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
