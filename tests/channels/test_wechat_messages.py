"""Each kind of WeChat message and event, through the webhook to the real assistant."""

from __future__ import annotations

from typing import Any

from bot.channels import texts
from bot.channels.follower import FollowerStore
from tests.channels.wechat_peer import event_xml, message_xml, new_openid, text_xml


async def test_safe_mode_question_gets_the_knowledge_base_answer(wechat: Any) -> None:
    """As a new user would try it: wechatpy signs and encrypts, and decrypts our reply."""
    async with wechat() as h:
        reply = await h.ask(text_xml(new_openid(), "公积金怎么提取"))
        assert reply is not None and "公积金" in reply
        assert len(reply.encode("utf-8")) <= 2048


async def test_plaintext_mode_question(wechat: Any) -> None:
    async with wechat(safe=False) as h:
        reply = await h.ask(text_xml(new_openid(), "身份证丢了怎么补办"))
        assert reply is not None and "身份证" in reply


async def test_voice_uses_recognition_or_asks_to_type(wechat: Any) -> None:
    async with wechat() as h:
        heard = message_xml(new_openid(), "voice", MediaId="m1", Format="amr",
                            Recognition="身份证丢了怎么补办")
        assert "身份证" in (await h.ask(heard) or "")
        silent = message_xml(new_openid(), "voice", MediaId="m2", Format="amr", Recognition="")
        assert await h.ask(silent) == texts.VOICE_UNCLEAR


async def test_media_get_polite_useful_replies(wechat: Any) -> None:
    async with wechat() as h:
        openid = new_openid()
        image = await h.ask(message_xml(openid, "image", PicUrl="http://x/1.jpg", MediaId="i"))
        assert image == texts.IMAGE
        link = await h.ask(message_xml(openid, "link", Title="社保新规", Description="d",
                                       Url="http://x"))
        assert link is not None and "《社保新规》" in link
        video = await h.ask(message_xml(openid, "video", MediaId="v", ThumbMediaId="t"))
        assert video == texts.VIDEO
        assert h.handler.calls == []


async def test_location_fills_the_region_slot(wechat: Any, stack: Any) -> None:
    async with wechat() as h:
        openid = new_openid()
        reply = await h.ask(message_xml(openid, "location", Location_X="30.27", Location_Y="120.15",
                                        Scale="15", Label="江南省临江市滨江区市民大道100号"))
        assert reply is not None and "滨江区" in reply
        follower = FollowerStore(stack.engine).get(openid)
        assert follower is not None and follower.region == "滨江区"
        await h.ask(text_xml(openid, "身份证丢了怎么补办"))
        conversation = stack.conversations.open("wechat", openid)
        assert conversation.slots.get("region") == "滨江区"


async def test_subscribe_scene_scan_view_location_and_unsubscribe(
    wechat: Any, stack: Any
) -> None:
    followers = FollowerStore(stack.engine)
    async with wechat() as h:
        openid = new_openid()
        welcome = await h.ask(event_xml(openid, "subscribe", EventKey="qrscene_hall_binjiang",
                                        Ticket="t"))
        assert welcome is not None and "滨江区政务服务中心" in welcome and "公积金提取" in welcome
        assert followers.get(openid).entry_point == "hall_binjiang"  # type: ignore[union-attr]
        again = await h.ask(event_xml(openid, "SCAN", EventKey="hall_qingshan", Ticket="t"))
        assert again is not None and "青山区" in again
        assert await h.ask(event_xml(openid, "LOCATION", Latitude="30.1", Longitude="120.2",
                                     Precision="50")) is None
        view = event_xml(openid, "VIEW", EventKey="https://zwfw.linjiang.gov.cn/")
        assert await h.ask(view) is None
        assert await h.ask(event_xml(openid, "unsubscribe")) is None
        assert followers.get(openid).subscribed is False  # type: ignore[union-attr]
        plain = await h.ask(event_xml(new_openid(), "subscribe"))
        assert plain is not None and plain.startswith(texts.WELCOME)


async def test_menu_clicks(wechat: Any, stack: Any) -> None:
    async with wechat() as h:
        openid = new_openid()
        guide = await h.ask(event_xml(openid, "CLICK", EventKey="GUIDE_ID_CARD_REISSUE"))
        assert guide is not None and "居民身份证丢失补领" in guide
        follow_up = await h.ask(text_xml(openid, "要带什么材料"))
        assert follow_up is not None and "材料" in follow_up
        help_text = await h.ask(event_xml(openid, "CLICK", EventKey="HELP"))
        assert help_text is not None and "12345" in help_text
        unknown = await h.ask(event_xml(openid, "CLICK", EventKey="NO_SUCH_KEY"))
        assert unknown == texts.UNSUPPORTED
        human = await h.ask(event_xml(openid, "CLICK", EventKey="REQUEST_HUMAN"))
        assert human is not None and "人工" in human
        assert stack.conversations.open("wechat", openid).mode == "queued"


async def test_with_staff_the_bot_stays_silent_and_media_reaches_staff(
    wechat: Any, stack: Any
) -> None:
    async with wechat() as h:
        openid = new_openid()
        await h.ask(text_xml(openid, "转人工"))
        assert await h.ask(text_xml(openid, "我的低保申请怎么还没批")) is None
        image = message_xml(openid, "image", PicUrl="http://x/p.jpg", MediaId="i")
        assert await h.ask(image) is None
        conversation = stack.conversations.open("wechat", openid)
        history = stack.conversations.history(conversation.id)
        said = [t.text for t in history if t.author == "citizen"]
        assert said[-2:] == ["我的低保申请怎么还没批", "[图片] http://x/p.jpg"]


async def test_rate_limit_answers_with_a_friendly_message(wechat: Any) -> None:
    async with wechat(rate_limit=3) as h:
        openid = new_openid()
        replies = [await h.ask(text_xml(openid, "身份证丢了怎么补办")) for _ in range(4)]
        assert all(r and r != texts.RATE_LIMITED for r in replies[:3])
        assert replies[3] == texts.RATE_LIMITED
        assert len(h.handler.calls) == 3
        other = await h.ask(text_xml(new_openid(), "身份证丢了怎么补办"))
        assert other != texts.RATE_LIMITED


async def test_empty_symbols_and_overlong_text(wechat: Any) -> None:
    async with wechat(max_message_chars=50) as h:
        assert "没有输入" in (await h.ask(text_xml(new_openid(), "   ")) or "")
        assert "文字" in (await h.ask(text_xml(new_openid(), "？？？！！")) or "")
        assert "50" in (await h.ask(text_xml(new_openid(), "办" * 51)) or "")
        assert h.handler.calls == []
