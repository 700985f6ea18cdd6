"""Answering within WeChat's window: retry storms, the slow path on verified and unverified
accounts, and deduplication that survives a restart."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.channels import texts
from bot.channels.follower import FollowerStore
from bot.channels.inbox import InboxStore
from bot.channels.wechat import WechatChannel
from bot.channels.wechat_inbound import parse_inbound
from tests.channels.wechat_fake import FakeWechat
from tests.channels.wechat_peer import new_openid, text_xml

QUESTION = "身份证丢了怎么补办"


async def timed(coro: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = await coro
    return result, time.monotonic() - started


async def wait_for(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


def citizen_turns(stack: Any, openid: str) -> list[str]:
    conversation = stack.conversations.open("wechat", openid)
    return [t.text for t in stack.conversations.history(conversation.id) if t.author == "citizen"]


async def test_retry_storm_gives_one_turn_and_the_same_reply_thrice(
    wechat: Any, stack: Any
) -> None:
    async with wechat(delay_s=0.5) as h:
        openid = new_openid()
        xml = text_xml(openid, QUESTION)
        replies = await asyncio.gather(*(h.ask(xml) for _ in range(3)))
        assert replies[0] is not None and "身份证" in replies[0]
        assert replies[0] == replies[1] == replies[2]
        assert len(h.handler.calls) == 1
        assert citizen_turns(stack, openid) == [QUESTION]
        assert await h.ask(xml) == replies[0]  # a late retry gets the cached reply


async def test_verified_slow_answer_goes_out_once_through_the_api(
    wechat: Any, stack: Any, fake_wechat: FakeWechat
) -> None:
    async with wechat(delay_s=6.0, verified=True) as h:
        openid = new_openid()
        xml = text_xml(openid, QUESTION)
        reply, took = await timed(h.ask(xml))
        assert reply is None and took < 4.5  # "success" in time; WeChat will not retry
        retry, took = await timed(h.ask(xml))  # a stray retry must not answer again
        assert retry is None and took < 4.5
        await wait_for(lambda: fake_wechat.texts_to(openid))
        await h.channel.scheduler.drain()
        await asyncio.sleep(0.3)
        sent = fake_wechat.texts_to(openid)
        assert len(sent) == 1 and "身份证" in sent[0]
        assert any(t["touser"] == openid for t in fake_wechat.typing)
        assert len(h.handler.calls) == 1
        assert citizen_turns(stack, openid) == [QUESTION]
        assert await h.ask(xml) is None and len(fake_wechat.texts_to(openid)) == 1


async def test_unverified_slow_answer_is_held_and_picked_up(
    wechat: Any, stack: Any, fake_wechat: FakeWechat
) -> None:
    async with wechat(delay_s=6.5, verified=False) as h:
        openid = new_openid()
        xml = text_xml(openid, QUESTION)

        async def attempt(number: int) -> tuple[str | None, float]:
            await asyncio.sleep(0.05 * number)  # in order, as WeChat's retries arrive
            return await timed(h.ask(xml))

        first, second, last = await asyncio.gather(attempt(0), attempt(1), attempt(2))
        assert last[0] == texts.PICKUP_INVITE and last[1] < 4.5
        assert first[0] is None and second[0] is None  # held open until WeChat gave up
        await h.channel.scheduler.drain()
        h.handler.delay_s = 0
        picked = await h.ask(text_xml(openid, "1"))
        assert picked is not None and picked.startswith(texts.PICKUP_HEAD.strip())
        assert "身份证" in picked
        assert citizen_turns(stack, openid) == [QUESTION]  # "1" was not a new question
        normal = await h.ask(text_xml(openid, QUESTION))
        assert normal is not None and not normal.startswith(texts.PICKUP_HEAD.strip())
        assert fake_wechat.texts_to(openid) == []


async def test_deduplication_survives_a_restart(wechat: Any, stack: Any) -> None:
    openid = new_openid()
    xml = text_xml(openid, QUESTION)
    async with wechat() as before:
        answer = await before.ask(xml)
    async with wechat() as after:  # a new process: nothing in memory
        assert isinstance(after.channel, WechatChannel)
        assert await after.ask(xml) == answer
        assert after.handler.calls == []
    assert citizen_turns(stack, openid) == [QUESTION]


async def test_an_answer_promised_to_the_outbox_survives_a_crash(
    wechat: Any, stack: Any, fake_wechat: FakeWechat
) -> None:
    """The process died after replying "success" and before answering: the next start
    answers through the outbox, once, however often it restarts."""
    openid = new_openid("crash")
    xml = text_xml(openid, QUESTION)
    key = parse_inbound(xml).dedup_key
    inbox = InboxStore(stack.engine)
    inbox.arrive(key, openid, xml)
    inbox.set_delivery(key, "outbox")
    FollowerStore(stack.engine).interacted(openid)
    for _ in range(2):
        async with wechat(verified=True) as h:
            await wait_for(lambda: fake_wechat.texts_to(openid))
            await h.channel.scheduler.drain()
    sent = fake_wechat.texts_to(openid)
    assert len(sent) == 1 and "身份证" in sent[0]
    assert citizen_turns(stack, openid) == [QUESTION]


async def test_a_held_answer_that_is_gone_is_said_so(wechat: Any, stack: Any) -> None:
    openid = new_openid("lost")
    FollowerStore(stack.engine).set_pickup(openid, "msg:1")  # purged, or lost in a crash
    async with wechat() as h:
        assert await h.ask(text_xml(openid, "1")) == texts.PICKUP_LOST
        assert "身份证" in (await h.ask(text_xml(openid, QUESTION)) or "")
    assert FollowerStore(stack.engine).get(openid).pickup_key is None  # type: ignore[union-attr]
