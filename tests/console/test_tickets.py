"""No staff online: the citizen is told at once and leaves a message; staff answer the
ticket in the console; the answer reaches the web citizen live and in their history."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.console.people import OWN, messages, say
from tests.live_server import citizen_hello, read_until


def test_ticket_answered_from_the_console_reaches_the_web_citizen(
    web: TestClient, staff_member: Any
) -> None:
    staff = staff_member("staff", "赵敏")  # logged in, but no console open: not online
    with web.websocket_connect("/ws/chat?site=demo", headers=OWN) as citizen:
        welcome = citizen_hello(citizen)
        assert welcome["staff_available"] is False
        read_until(citizen, lambda f: f["type"] == "state")
        asked = say(citizen, "转人工")
        assert "没有工作人员在线" in messages(asked, "bot")[0]["text"]
        citizen.send_json({"type": "leave_message", "client_id": "c-ticket-1",
                           "text": "小区门口的路灯坏了一个月了"})
        left = read_until(citizen, lambda f: f["type"] == "state")
        number = messages(left, "system")[0]["text"].split("编号：")[1][:16]

        listed = {t["number"]: t for t in staff.get("/api/staff/tickets").json()["items"]}
        assert (listed[number]["status"], listed[number]["channel"]) == ("open", "webchat")
        assert listed[number]["matter"] == "小区门口的路灯坏了一个月了"
        answered = staff.post(f"/api/staff/tickets/{number}/answer",
                              {"text": "已转交城管部门，三天内修复。"})
        assert answered.json()["delivery"] == "delivered"
        live = read_until(citizen, lambda f: f["type"] == "message")[-1]
        assert live["author"] == "staff" and "三天内修复" in live["text"] and number in live["text"]
    twice = staff.post(f"/api/staff/tickets/{number}/answer", {"text": "再答一次"})
    assert twice.status_code == 409

    with web.websocket_connect("/ws/chat?site=demo", headers=OWN) as later:  # a reload
        citizen_hello(later, token=welcome["token"])
        history = messages(read_until(later, lambda f: f["type"] == "state"))
    assert any("三天内修复" in m["text"] for m in history)
    ticket = {t["number"]: t for t in staff.get("/api/staff/tickets").json()["items"]}[number]
    assert (ticket["status"], ticket["answered_by"], ticket["delivery"]) == (
        "answered", "赵敏", "delivered")
