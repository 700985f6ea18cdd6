"""Rendering the bot's replies as WeChat text: 2048 bytes, continuations the dialogue
understands, numbered choices, links and sources, and XML-safe content."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import xmltodict

from bot.answers import compose_entry
from bot.channels.wechat_inbound import WechatInbound
from bot.channels.wechat_render import (
    SECTION_WORDS,
    cut_to_bytes,
    pack,
    passive_reply,
    render_replies,
    render_reply,
    size,
)
from bot.followup import detect_field
from bot.messages import Card, CardField, Choice, Citation, Link, Reply
from knowledge_base.content_loader import load_content_dir
from knowledge_base.models import Entry

TODAY = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def entries() -> dict[str, Entry]:
    loaded = load_content_dir(Path("knowledge_base/content"))
    return {e.id: Entry(**e.model_dump()) for e in loaded}


def test_every_demo_answer_fits_and_short_ones_are_untouched(entries: dict[str, Entry]) -> None:
    for entry in entries.values():
        reply = compose_entry(entry, TODAY)
        rendered = render_reply(reply)
        assert size(rendered) <= 2048
        assert rendered.startswith(reply.text.strip()[:50])


@pytest.mark.parametrize("limit", [400, 700, 1000, 1300])
def test_long_guide_is_cut_with_follow_ups_the_dialogue_understands(
    entries: dict[str, Entry], limit: int
) -> None:
    reply = compose_entry(entries["guide-id-card-reissue"], TODAY)
    rendered = render_reply(reply, limit)
    assert size(rendered) <= limit
    words = re.findall(r"“([^”]+)”", rendered.split("……")[-1])
    assert words, rendered
    assert all(detect_field(word) is not None for word in words)
    assert not re.search(r"(申请材料|办理流程|办理地点|在线办理)：……", rendered)  # no bare heading


def test_hint_words_are_all_follow_ups() -> None:
    assert all(detect_field(word) is not None for word in SECTION_WORDS.values())


def test_long_text_without_sections_points_to_details_or_the_source() -> None:
    card = Card("某政策", (CardField("状态", "现行有效"),), entry_id="policy-x")
    source = Citation("policy-x", "某政策", "https://example.gov.cn/p?a=1&b=2")
    with_card = render_reply(Reply("长" * 1000, card=card, citations=(source,)))
    assert size(with_card) <= 2048 and "回复“详情”" in with_card
    without_card = render_reply(Reply("长" * 1000, citations=(source,)))
    assert '<a href="https://example.gov.cn/p?a=1&amp;b=2">查看原文</a>' in without_card
    bare = render_reply(Reply("长" * 1000))
    assert size(bare) <= 2048 and "12345" in bare


def test_choices_links_and_citations() -> None:
    reply = Reply(
        "有几项可能相关：",
        choices=(Choice("购买住房提取住房公积金", "/entry a"),
                 Choice("租房提取住房公积金", "/entry b")),
        links=(Link("在线办理", "https://zwfw.example/a"),),
        citations=(Citation("a", "购房提取", "https://zwfw.example/a"), Citation("b", "租房提取")),
    )
    text = render_reply(reply)
    assert "1. 购买住房提取住房公积金\n2. 租房提取住房公积金" in text
    assert '<a href="https://zwfw.example/a">在线办理</a>' in text
    assert "来源：《租房提取》" in text and text.count("https://zwfw.example/a") == 1
    both = (Choice("甲事项", "x"), Choice("乙事项", "y"))
    listed = Reply("请选择：\n1. 甲事项\n2. 乙事项", choices=both)
    assert render_reply(listed) == listed.text


def test_content_cannot_break_out_of_cdata() -> None:
    inbound = WechatInbound("o1", "gh_1", 1, "text")
    text = render_reply(Reply("危险]]><MsgType>image</MsgType>"))
    xml = passive_reply(inbound, text, now=1_700_000_000)
    parsed = xmltodict.parse(xml)["xml"]
    assert parsed["MsgType"] == "text" and parsed["Content"].startswith("危险]]")
    assert parsed["ToUserName"] == "o1" and parsed["FromUserName"] == "gh_1"


def test_pack_and_cut_respect_bytes() -> None:
    assert pack(["一", "二", "三"]) == ["一\n\n二\n\n三"]
    long = ["甲" * 600, "乙" * 600, "丙" * 600]  # 1800 bytes each
    assert [size(m) for m in pack(long)] == [1800, 1800, 1800]
    assert cut_to_bytes("中文字", 4) == "中"
    assert len(render_replies([Reply("a"), Reply("b")])) == 1
