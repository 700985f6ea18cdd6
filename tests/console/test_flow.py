"""A web citizen asks for a person; staff log in, claim, reply, note, resolve; the citizen
gets the reply live, never the note, rates the service and has the bot back afterwards."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.tables import AuditRow, RatingRow
from tests.console.people import OWN, messages, open_staff_socket, say
from tests.live_server import citizen_hello, read_until


def is_state(frame: dict[str, Any]) -> bool:
    return frame["type"] == "state"


def wait_event(ws: Any, kind: str, conversation_id: int) -> dict[str, Any]:
    frames = read_until(ws, lambda f: f["type"] == kind
                        and f.get("conversation_id") == conversation_id)
    return frames[-1]


def test_web_citizen_to_staff_and_back_to_the_bot(
    web: TestClient, staff_member: Any, console_services: Any
) -> None:
    wang = staff_member("staff", "王芳")
    desk = open_staff_socket(wang)
    try:
        with web.websocket_connect("/ws/chat?site=demo", headers=OWN) as citizen:
            welcome = citizen_hello(citizen)
            assert welcome["staff_available"] is True  # 王芳 is online, within hours
            read_until(citizen, is_state)
            asked = say(citizen, "我要转人工")
            conversation_id = messages(asked, "citizen")[0]["conversation_id"]
            assert [f for f in asked if is_state(f)][-1]["mode"] == "queued"
            wait_event(desk, "queue", conversation_id)  # the console hears of it at once

            item = wang.queue_item(conversation_id)
            assert (item["channel"], item["status"]) == ("webchat", "pending")
            assert item["last_question"] == "我要转人工" and item["waiting_s"] >= 0
            claimed = wang.post(f"/api/staff/handoffs/{item['id']}/claim")
            assert claimed.status_code == 200, claimed.text
            state = read_until(citizen, is_state)[-1]
            assert (state["mode"], state["staff_name"]) == ("human", "王芳")

            reply = wang.post(f"/api/staff/handoffs/{item['id']}/reply",
                              {"text": "您好，我是王芳，请问需要办理什么业务？"})
            assert reply.json() == {"delivered": "sent"}
            live = read_until(citizen, lambda f: f["type"] == "message")[-1]
            assert (live["author"], live["staff_name"]) == ("staff", "王芳")
            assert live["text"] == "您好，我是王芳，请问需要办理什么业务？"
            note = wang.post(f"/api/staff/handoffs/{item['id']}/notes",
                             {"text": "内部备注：市民情绪平稳"})
            assert note.status_code == 200

            quiet = say(citizen, "我想问社保卡补办")  # the bot stays silent with staff
            assert [m["author"] for m in messages(quiet)] == ["citizen"]
            wait_event(desk, "message", conversation_id)
            detail = wang.get(f"/api/staff/handoffs/{item['id']}").json()
            authors = [t["author"] for t in detail["turns"]]
            assert authors[:2] == ["citizen", "bot"] and authors[-1] == "citizen"
            assert detail["turns"][1]["intent"] == "request_human"
            assert detail["notes"][0]["text"] == "内部备注：市民情绪平稳"
            assert "social-security" in detail["suggestions"][0]["entry_id"]

            assert wang.post(f"/api/staff/handoffs/{item['id']}/resolve").status_code == 200
            ended = read_until(citizen, lambda f: is_state(f) and f["mode"] == "closed")
            assert "评价" in messages(ended, "system")[-1]["text"]
            citizen.send_json({"type": "rating", "value": 5, "comment": "很耐心"})
            rated = read_until(citizen, lambda f: f["type"] == "rating_ok")[-1]
            assert rated["conversation_id"] == conversation_id
            again = messages(say(citizen, "身份证丢了怎么补办"), "bot")
            assert again and again[0]["card"] is not None  # the bot answers again
            user_id = "demo:" + welcome["token"].split(".")[2]
    finally:
        desk.__exit__(None, None, None)

    seen = console_services.conversations.user_history("webchat", user_id)
    assert all("内部备注" not in t.text for t in seen)  # notes never reach the citizen
    with console_services.engine.connect() as connection:
        rating = connection.execute(select(RatingRow).where(
            RatingRow.conversation_id == conversation_id, RatingRow.kind == "satisfaction")).one()
        actions = connection.execute(select(AuditRow.action).where(
            AuditRow.conversation_id == conversation_id).order_by(AuditRow.id)).scalars().all()
    assert (rating.value, rating.comment) == (5, "很耐心")
    assert actions == ["claim", "reply", "note", "resolved"]


def test_suggestions_answer_the_question_before_the_request_for_a_person(
    web: TestClient, staff_member: Any
) -> None:
    li = staff_member("staff", "李强")
    with web.websocket_connect("/ws/chat?site=demo", headers=OWN) as citizen:
        citizen_hello(citizen)
        read_until(citizen, is_state)
        say(citizen, "租房怎么提取公积金")
        asked = say(citizen, "转人工")
        conversation_id = messages(asked, "citizen")[0]["conversation_id"]
        item = li.queue_item(conversation_id)
        assert li.post(f"/api/staff/handoffs/{item['id']}/claim").status_code == 200
        detail = li.get(f"/api/staff/handoffs/{item['id']}").json()
    assert detail["suggestions"][0]["entry_id"].startswith("guide-housing-fund-withdraw")
