"""A WeChat citizen asks for a person through the real webhook (signed and encrypted as
WeChat does); staff claim and reply from the console; the reply reaches the citizen through
the customer-service API of a fake WeChat server on loopback; notes never leave the console;
after 结束服务 the bot answers again. A ticket answered outside WeChat's 48-hour window is
marked undeliverable, with the reason in the console."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from bot.api.deps import Services
from bot.channels.tables import WechatFollowerRow
from server import create_app
from tests.channels.wechat_fake import FakeWechat, FakeWechatServer
from tests.channels.wechat_peer import (
    AES_KEY,
    APPID,
    SECRET,
    TOKEN,
    WechatPeer,
    new_openid,
    text_xml,
)
from tests.console.people import Staff, add_user, log_in, on_duty, open_staff_socket
from tests.live_server import read_until


@pytest.fixture(scope="module")
def fake_wechat() -> Iterator[FakeWechat]:
    with FakeWechatServer(FakeWechat()) as fake:
        yield fake


@pytest.fixture
def wechat_web(console_data_dir: Path, console_services: Services,
               fake_wechat: FakeWechat) -> Iterator[TestClient]:
    """The whole app with the WeChat channel on (a verified account, safe mode)."""
    settings = on_duty(console_data_dir, wechat_token=TOKEN, wechat_appid=APPID,
                       wechat_app_secret=SECRET, wechat_aes_key=AES_KEY, wechat_verified=True,
                       wechat_api_base=fake_wechat.base_url)
    with TestClient(create_app(settings, services=console_services)) as client:
        yield client


class Citizen:
    """A WeChat user writing to the account: pushes go through the real webhook."""

    def __init__(self, client: TestClient) -> None:
        self.client, self.peer, self.openid = client, WechatPeer(), new_openid("con")

    def say(self, text: str) -> str | None:
        params, body = self.peer.push(text_xml(self.openid, text))
        return self.peer.open_reply(self.client.post("/channels/wechat", params=params,
                                                     content=body))


def sent_to(fake: FakeWechat, openid: str, count: int, timeout_s: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while len(fake.texts_to(openid)) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return fake.texts_to(openid)


def staff_on(client: TestClient, services: Services, name: str) -> Staff:
    return log_in(client, add_user(services, "staff", name))


def test_wechat_citizen_to_staff_and_back_to_the_bot(
    wechat_web: TestClient, console_services: Services, fake_wechat: FakeWechat
) -> None:
    li = staff_on(wechat_web, console_services, "李娜")
    desk = open_staff_socket(li)  # online: the citizen is queued, not told to leave a message
    try:
        citizen = Citizen(wechat_web)
        queued = citizen.say("我要转人工")
        assert queued is not None and "正在为您转接人工服务" in queued
        assert "人工服务时间：每天24小时" in queued  # the configured hours (on_duty)
        conversation = console_services.conversations.latest("wechat", citizen.openid)
        assert conversation is not None and conversation.mode == "queued"
        read_until(desk, lambda f: f["type"] == "queue"
                   and f.get("conversation_id") == conversation.id)

        item = li.queue_item(conversation.id)
        assert (item["channel"], item["status"]) == ("wechat", "pending")
        assert li.post(f"/api/staff/handoffs/{item['id']}/claim").status_code == 200
        answer = "您好，我是李娜，请问您想办理什么业务？"
        assert li.post(f"/api/staff/handoffs/{item['id']}/reply",
                       {"text": answer}).json() == {"delivered": "sent"}
        assert sent_to(fake_wechat, citizen.openid, 1) == [answer]
        li.post(f"/api/staff/handoffs/{item['id']}/notes", {"text": "内部备注：需核实户籍"})

        assert citizen.say("我想补办社保卡") is None  # with staff: the bot stays silent
        read_until(desk, lambda f: f["type"] == "message"
                   and f.get("conversation_id") == conversation.id)
        detail = li.get(f"/api/staff/handoffs/{item['id']}").json()
        assert detail["turns"][-1]["text"] == "我想补办社保卡"
        assert [(d["origin"], d["status"]) for d in detail["delivery"]] == [("staff", "sent")]

        assert li.post(f"/api/staff/handoffs/{item['id']}/resolve").status_code == 200
        texts = sent_to(fake_wechat, citizen.openid, 2)
        assert "本次人工服务已结束" in texts[-1]
        again = citizen.say("身份证丢了怎么补办")
        assert again is not None and "身份证" in again  # the bot answers again
    finally:
        desk.__exit__(None, None, None)
    assert all("内部备注" not in text for text in fake_wechat.texts_to(citizen.openid))
    assert len(fake_wechat.texts_to(citizen.openid)) == 2


def test_ticket_answer_outside_the_48_hour_window_is_undeliverable(
    wechat_web: TestClient, console_services: Services, fake_wechat: FakeWechat
) -> None:
    zhao = staff_on(wechat_web, console_services, "赵敏")
    citizen = Citizen(wechat_web)
    citizen.say("你好")
    conversation = console_services.conversations.latest("wechat", citizen.openid)
    assert conversation is not None
    number = console_services.conversations.create_ticket(
        conversation.id, "小区门口的路灯坏了一个月了", "滨江区", None)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=49)
    with console_services.engine.begin() as connection:  # the citizen went quiet two days ago
        connection.execute(update(WechatFollowerRow).where(
            WechatFollowerRow.openid == citizen.openid).values(last_inbound_at=long_ago))

    answered = zhao.post(f"/api/staff/tickets/{number}/answer", {"text": "已转交城管部门。"})
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["delivery"] == "undeliverable" and "48小时" in body["delivery_note"]
    assert fake_wechat.texts_to(citizen.openid) == []
    listed = {t["number"]: t for t in zhao.get("/api/staff/tickets").json()["items"]}[number]
    assert listed["delivery"] == "undeliverable" and "48小时" in listed["delivery_note"]



def outbox_rows(client: TestClient, conversation_id: int, settled: Any,
                timeout_s: float = 10) -> list[dict[str, Any]]:
    """The conversation's outbox rows once `settled(rows)` holds (the outbox runs on its own)."""
    store = client.app.state.wechat_slot.channel.outbox.store  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout_s
    while not settled(rows := store.statuses(conversation_id)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return rows


def test_a_bot_answer_waiting_in_the_outbox_is_withdrawn_once_staff_claim(
    wechat_web: TestClient, console_services: Services, fake_wechat: FakeWechat,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="wenzheng.wechat")
    wu = staff_on(wechat_web, console_services, "吴倩")
    desk = open_staff_socket(wu)
    try:
        citizen = Citizen(wechat_web)
        assert citizen.say("我要转人工") is not None
        conversation = console_services.conversations.latest("wechat", citizen.openid)
        assert conversation is not None
        # A slow answer prepared before the claim waits in the outbox: WeChat was busy.
        fake_wechat.fail_next(citizen.openid, 45009)
        outbox = wechat_web.app.state.wechat_slot.channel.outbox  # type: ignore[attr-defined]
        outbox.store.enqueue(citizen.openid, ["机器人之前准备的答复"], "answer:slow-1", "answer",
                             conversation.id)
        outbox.kick()
        outbox_rows(wechat_web, conversation.id,
                    lambda rows: rows and rows[0]["reason"] is not None)
        item = wu.queue_item(conversation.id)
        assert wu.post(f"/api/staff/handoffs/{item['id']}/claim").status_code == 200
        assert wu.post(f"/api/staff/handoffs/{item['id']}/reply",
                       {"text": "您好，我是吴倩。"}).json() == {"delivered": "sent"}
        rows = outbox_rows(wechat_web, conversation.id,
                           lambda rows: rows[0]["status"] not in ("queued", "sending"))
    finally:
        desk.__exit__(None, None, None)
    assert [(r["origin"], r["status"]) for r in rows] == [("answer", "withdrawn"),
                                                          ("staff", "sent")]
    assert "工作人员已接入" in rows[0]["reason"]
    assert fake_wechat.texts_to(citizen.openid) == ["您好，我是吴倩。"]
    # the outbox logs the row, never the citizen's openid
    assert f"wechat message {rows[0]['id']} withdrawn" in caplog.text
    assert citizen.openid not in caplog.text
