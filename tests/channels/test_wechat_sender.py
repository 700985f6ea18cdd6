"""Staff replies after a handoff reach the (fake) WeChat API; the window, the quota and
WeChat's refusals are recorded on the conversation."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from bot.channels.follower import FollowerStore
from bot.channels.wechat_api import WechatApiClient
from bot.channels.wechat_sender import WechatSender
from bot.messages import Reply
from tests.channels.wechat_fake import FakeWechat
from tests.channels.wechat_peer import APPID, SECRET, new_openid, text_xml


async def handed_off(h: Any, stack: Any, openid: str) -> Any:
    """A citizen who asked for a human: the conversation is with staff, the window open."""
    await h.ask(text_xml(openid, "转人工"))
    conversation = stack.conversations.open("wechat", openid)
    assert conversation.mode == "queued"
    return conversation


def sender_of(h: Any) -> WechatSender:
    assert h.channel.sender is not None
    sender: WechatSender = h.channel.sender
    return sender


def system_notes(stack: Any, conversation_id: int) -> list[Any]:
    return [t for t in stack.conversations.history(conversation_id) if t.author == "system"]


async def test_staff_reply_reaches_wechat(wechat: Any, stack: Any, fake_wechat: FakeWechat) -> None:
    async with wechat(verified=True) as h:
        openid = new_openid("staff")
        conversation = await handed_off(h, stack, openid)
        greeting = "您好，我是工作人员小王，请问有什么可以帮您？"
        await sender_of(h).send(conversation, [Reply(greeting)])
        assert fake_wechat.texts_to(openid) == [greeting]
        statuses = await sender_of(h).delivery(conversation.id)
        assert [s["status"] for s in statuses] == ["sent"]


async def test_consecutive_staff_replies_are_merged(
    wechat: Any, stack: Any, fake_wechat: FakeWechat
) -> None:
    async with wechat(verified=True) as h:
        openid = new_openid("merge")
        conversation = await handed_off(h, stack, openid)
        lines = [Reply(f"第{n}条说明") for n in range(1, 8)]
        await sender_of(h).send(conversation, lines)
        sent = fake_wechat.texts_to(openid)
        assert len(sent) == 1 and sent[0].count("条说明") == 7


async def test_quota_of_five_then_held_until_the_citizen_writes(
    wechat: Any, stack: Any, fake_wechat: FakeWechat
) -> None:
    async with wechat(verified=True) as h:
        openid = new_openid("quota")
        conversation = await handed_off(h, stack, openid)
        sender = sender_of(h)
        for n in range(6):
            await sender.send(conversation, [Reply("x" * 1500 + str(n))])  # too long to merge
        assert len(fake_wechat.texts_to(openid)) == 5
        held = [s for s in await sender.delivery(conversation.id) if s["status"] == "held"]
        assert len(held) == 1 and "条数上限" in str(held[0]["reason"])
        assert "未送达" in system_notes(stack, conversation.id)[-1].text
        await h.ask(text_xml(openid, "好的，我等着"))  # the citizen writes: a fresh quota
        statuses: list[object] = []
        for _ in range(100):  # the outbox worker sends what was held
            statuses = [s["status"] for s in await sender.delivery(conversation.id)]
            if statuses == ["sent"] * 6:
                break
            await asyncio.sleep(0.05)
        assert statuses == ["sent"] * 6
        assert len(fake_wechat.texts_to(openid)) == 6


async def test_45015_and_45047_are_recorded_as_not_delivered(
    wechat: Any, stack: Any, fake_wechat: FakeWechat
) -> None:
    async with wechat(verified=True) as h:
        for code, words in ((45015, "48小时"), (45047, "条数上限")):
            openid = new_openid(str(code))
            conversation = await handed_off(h, stack, openid)
            fake_wechat.fail_next(openid, code)
            await sender_of(h).send(conversation, [Reply("工作人员的回复")])
            assert fake_wechat.texts_to(openid) == []
            [status] = await sender_of(h).delivery(conversation.id)
            assert status["status"] == "held" and str(code) in str(status["reason"])
            note = system_notes(stack, conversation.id)[-1]
            assert words in note.text and note.payload["meta"]["delivery"] == "not_delivered"


async def test_outside_the_48_hour_window_nothing_is_sent(
    wechat: Any, stack: Any, fake_wechat: FakeWechat
) -> None:
    async with wechat(verified=True) as h:
        openid = new_openid("window")
        conversation = await handed_off(h, stack, openid)
        old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=49)
        FollowerStore(stack.engine).interacted(openid, now=old)
        await sender_of(h).send(conversation, [Reply("迟到的回复")])
        assert fake_wechat.texts_to(openid) == []
        assert "48小时" in system_notes(stack, conversation.id)[-1].text


async def test_standalone_sender_and_a_call_that_may_have_arrived(
    stack: Any, fake_wechat: FakeWechat, wechat: Any
) -> None:
    async with wechat(verified=True) as h:
        openid = new_openid("slow")
        conversation = await handed_off(h, stack, openid)
    client = WechatApiClient(APPID, SECRET, base_url=fake_wechat.base_url, timeout_s=0.3)
    sender = WechatSender.build(client, stack.engine, stack.conversations)
    fake_wechat.delays[openid] = 1.0  # WeChat takes it, but we time out waiting
    await sender.send(conversation, [Reply("可能已送达的回复")])
    [status] = await sender.delivery(conversation.id)
    assert status["status"] == "unknown"  # never resent: a duplicate would reach the citizen
    await asyncio.sleep(1.2)
    assert len(fake_wechat.texts_to(openid)) == 1
    await client.aclose()
