"""SLA sweeps with an injected clock, service hours, and the bot's own handoff triggers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from bot.console.hours import ServiceHours
from bot.console.presence import StaffRoster
from bot.console.sla import sweep
from tests.console.people import OWN, messages, say
from tests.live_server import citizen_hello, read_until


def ask(web: TestClient, sender: str, text: str) -> list[dict[str, Any]]:
    response = web.post("/api/chat", json={"sender": sender, "message": text})
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def test_overdue_idle_silent_and_unclaimed(web: TestClient, staff_member: Any,
                                           console_services: Any) -> None:
    staff = staff_member("staff", "周杰")
    for sender in ("sla-unclaimed", "sla-idle", "sla-silent"):
        ask(web, sender, "转人工")
    items = {i["user_id"]: i for i in staff.get("/api/staff/queue").json()["items"]}
    unclaimed, idle, silent = (items[s]["id"] for s in ("sla-unclaimed", "sla-idle", "sla-silent"))
    for handoff_id in (idle, silent):
        assert staff.post(f"/api/staff/handoffs/{handoff_id}/claim").status_code == 200
    ask(web, "sla-idle", "有人吗？")  # waits for staff, who never answer
    staff.post(f"/api/staff/handoffs/{silent}/reply", {"text": "请问还有什么问题？"})

    desk = web.app.state.console.desk
    real = desk.clock
    try:
        desk.clock = lambda: real() + dt.timedelta(minutes=6)
        queue = {i["id"]: i for i in staff.get("/api/staff/queue").json()["items"]}
        assert queue[unclaimed]["overdue"] and not queue[idle]["overdue"]
        desk.clock = lambda: real() + dt.timedelta(minutes=20)
        done = dict(web.portal.call(sweep, desk))
        assert (done.get(idle), done.get(silent), done.get(unclaimed)) == (
            "released", "resolved", None)
        desk.clock = lambda: real() + dt.timedelta(hours=5)
        assert dict(web.portal.call(sweep, desk)).get(unclaimed) == "expired"
    finally:
        desk.clock = real
    conversations = console_services.conversations
    assert conversations.latest("rest", "sla-silent").mode == "closed"
    assert "较长时间没有收到您的消息" in conversations.history(
        conversations.latest("rest", "sla-silent").id)[-1].text
    assert conversations.latest("rest", "sla-unclaimed").mode == "bot"
    assert ask(web, "sla-unclaimed", "身份证丢了怎么补办")[0]["custom"]["entry_ids"]


def test_service_hours_holidays_and_workdays() -> None:
    hours = ServiceHours.build("09:00", "17:00", [1, 2, 3, 4, 5], [dt.date(2026, 10, 1)],
                               [dt.date(2026, 10, 10)], "Asia/Shanghai")
    at = lambda day, hour: dt.datetime(2026, 10, day, hour, tzinfo=dt.UTC) - dt.timedelta(hours=8)
    assert hours.is_open(at(9, 10))  # Friday 10:00 local
    assert not hours.is_open(at(9, 17)) and not hours.is_open(at(9, 8))
    assert not hours.is_open(at(1, 10))  # 国庆 holiday on a Thursday
    assert hours.is_open(at(10, 10))  # a Saturday worked in lieu
    assert not hours.is_open(at(11, 10))  # Sunday


def test_presence_needs_a_heartbeat_and_service_hours() -> None:
    now = [dt.datetime(2026, 10, 9, 2, tzinfo=dt.UTC)]  # Friday 10:00 in 临江
    roster = StaffRoster(ServiceHours(), clock=lambda: now[0])
    assert not roster.available()
    roster.connect("wang")
    assert roster.available()
    roster.heartbeat("wang", "away")
    assert not roster.available() and roster.status("wang") == "away"
    roster.heartbeat("wang", "online")
    now[0] += dt.timedelta(seconds=90)  # heartbeats stopped
    assert roster.status("wang") == "offline" and not roster.available()
    roster.heartbeat("wang")
    now[0] += dt.timedelta(hours=8)  # 18:00: after hours
    roster.heartbeat("wang")
    assert roster.status("wang") == "online" and not roster.available()


def test_two_not_helpful_ratings_in_a_row_hand_over(web: TestClient, console_services: Any) -> None:
    with web.websocket_connect("/ws/chat?site=demo", headers=OWN) as citizen:
        citizen_hello(citizen)
        read_until(citizen, lambda f: f["type"] == "state")
        for question in ("身份证丢了怎么补办", "公积金怎么提取"):
            answer = messages(say(citizen, question), "bot")[0]
            citizen.send_json({"type": "feedback", "seq": answer["seq"], "helpful": False})
            read_until(citizen, lambda f: f["type"] == "feedback_ok")
        handed = say(citizen, "还是不明白")
    said = messages(handed, "bot")[0]
    assert "没有工作人员在线" in said["text"]  # nobody online: told at once, may leave a message
    assert [f for f in handed if f["type"] == "state"][-1]["mode"] == "queued"
    waiting = console_services.conversations.queued_handoffs()
    assert [h["reason"] for h in waiting if h["conversation_id"] == said["conversation_id"]] == [
        "not_helpful"]
