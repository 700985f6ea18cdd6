"""A citizen looks up their own complaint or suggestion in the chat: every ticket's confirmation
says it can be looked up by its number, and sending the number got "out of scope"."""

from __future__ import annotations

import re

import pytest

from bot import texts
from bot.console.accounts import StaffUser
from bot.console.records import RecordStore
from bot.followup import asks_ticket_progress, ticket_number
from tests.bot.test_chat_api import new_sender, say

STAFF = StaffUser(1, "wang", "王芳", "agent")


@pytest.mark.parametrize(("text", "number", "progress"), [
    ("LJ20261207000001", "LJ20261207000001", False),
    ("查一下工单lj20261207000001", "LJ20261207000001", True),
    ("我的投诉处理得怎么样了", None, True),
    ("我反映的问题有结果了吗", None, True),
    ("投诉了半个月都没人管", None, False),  # a complaint about it, not a lookup
    ("我要投诉", None, False),
])
def test_what_asks_for_a_ticket(text: str, number: str | None, progress: bool) -> None:
    assert ticket_number(text) == number
    assert asks_ticket_progress(text) is progress


async def file_ticket(client, sender: str) -> str:
    await say(client, sender, "我要投诉，我们小区门口的路灯坏了半个月了没人修")
    await say(client, sender, "滨江区江景花园")
    [done] = await say(client, sender, "跳过")
    match = re.search(r"LJ\d{14}", done["text"])
    assert match, done["text"]
    return match.group(0)


async def test_a_citizen_follows_their_ticket_until_it_is_answered(client, services):
    sender = new_sender()
    [none] = await say(client, sender, "我的投诉处理得怎么样了")
    assert none["text"] == texts.TICKET_STATUS_NONE
    number = await file_ticket(client, sender)
    [asked] = await say(client, sender, "我的投诉处理得怎么样了")
    assert asked["custom"]["intent"] == "ticket_status"
    assert number in asked["text"] and "已受理" in asked["text"] and "路灯" in asked["text"]
    [by_number] = await say(client, sender, number)
    assert by_number["text"] == asked["text"]

    records = RecordStore(services.engine)
    assert records.answer_ticket(number, STAFF, "已通知物业和路灯管理所，本周内修复。")
    [answered] = await say(client, sender, f"查一下{number}")
    assert "已于" in answered["text"] and "本周内修复" in answered["text"]
    assert "已受理" not in answered["text"]


async def test_another_citizen_cannot_read_a_ticket_by_its_number(client):
    number = await file_ticket(client, new_sender())
    [other] = await say(client, new_sender(), number)
    assert other["text"] == texts.TICKET_STATUS_NOT_FOUND.format(number=number)
    assert "路灯" not in other["text"]


async def test_a_ticket_number_in_the_middle_of_a_complaint_is_part_of_it(client):
    """The complaint form asks its questions in turn; a number typed as the place is the place."""
    sender = new_sender()
    await say(client, sender, "我要投诉，我们小区门口的路灯坏了半个月了没人修")
    [next_step] = await say(client, sender, "LJ20261207000001旁边")
    assert next_step["text"] == texts.TICKET_ASK_PHONE
