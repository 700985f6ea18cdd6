"""The channel-neutral reply model: its stored form and its round trip."""

from __future__ import annotations

import dataclasses
import json

from bot.messages import Card, CardField, Choice, Citation, Link, Reply, reply_from_dict


def rich_reply() -> Reply:
    return Reply(
        "身份证丢了可以补领。",
        choices=(Choice("要带什么材料", "要带什么材料"), Choice("在哪里办", "在哪里办")),
        card=Card("居民身份证补领", (CardField("申请材料", "户口簿"),
                                    CardField("收费标准", "20元", primary=False)), "guide-id"),
        links=(Link("在线办理", "https://zwfw.example.gov.cn/id"),),
        citations=(Citation("guide-id", "居民身份证补领", None),),
        meta={"intent": "ask_service_guide", "confidence": 0.91, "entry_ids": ("guide-id",),
              "nested": [{"k": (1, 2)}]},
    )


def test_to_dict_is_what_asdict_gives_for_every_field() -> None:
    """to_dict is written out by hand for speed; a field added to a message class and not
    to to_dict shows up here."""
    for reply in (rich_reply(), Reply("你好")):
        assert reply.to_dict() == dataclasses.asdict(reply)
        assert set(reply.to_dict()) == {f.name for f in dataclasses.fields(Reply)}


def test_to_dict_copies_the_meta_instead_of_sharing_it() -> None:
    reply = rich_reply()
    stored = reply.to_dict()
    stored["meta"]["nested"][0]["k"] = ()
    assert reply.meta["nested"][0]["k"] == (1, 2)


def test_a_stored_reply_comes_back_the_same() -> None:
    reply = rich_reply()
    stored = json.loads(json.dumps(reply.to_dict(), ensure_ascii=False))  # as the database keeps it
    back = reply_from_dict(stored)
    assert dataclasses.replace(back, meta={}) == dataclasses.replace(reply, meta={})
    assert back.meta["entry_ids"] == ["guide-id"]
