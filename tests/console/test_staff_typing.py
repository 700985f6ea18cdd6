"""The person holding a conversation types in the console; the web citizen's widget is told
(`typing`, author `staff`). Nobody else's typing reaches the citizen."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.console.people import OWN, messages, open_staff_socket, say
from tests.live_server import citizen_hello, read_until


def test_staff_typing_reaches_the_web_citizen(web: TestClient, staff_member: Any) -> None:
    sun, other = staff_member("staff", "孙丽"), staff_member("staff", "周强")
    desk, elsewhere = open_staff_socket(sun), open_staff_socket(other)
    try:
        with web.websocket_connect("/ws/chat?site=demo", headers=OWN) as citizen:
            citizen_hello(citizen)
            read_until(citizen, lambda f: f["type"] == "state")
            asked = say(citizen, "转人工")
            conversation_id = messages(asked, "citizen")[0]["conversation_id"]
            item = sun.queue_item(conversation_id)
            assert sun.post(f"/api/staff/handoffs/{item['id']}/claim").status_code == 200
            read_until(citizen, lambda f: f["type"] == "state" and f["mode"] == "human")

            desk.send_json({"type": "typing", "handoff_id": item["id"], "on": True})
            shown = read_until(citizen, lambda f: f["type"] == "typing")[-1]
            assert shown == {"type": "typing", "author": "staff", "on": True}
            desk.send_json({"type": "typing", "handoff_id": item["id"], "on": False})
            hidden = read_until(citizen, lambda f: f["type"] == "typing")[-1]
            assert hidden == {"type": "typing", "author": "staff", "on": False}

            # not theirs, or malformed: ignored, and the socket stays up
            elsewhere.send_json({"type": "typing", "handoff_id": item["id"], "on": True})
            elsewhere.send_json({"type": "typing", "handoff_id": "x", "on": "yes"})
            elsewhere.send_json({"type": "heartbeat", "status": "online"})
            read_until(elsewhere, lambda f: f["type"] == "pong")
            citizen.send_json({"type": "ping"})
            assert citizen.receive_json() == {"type": "pong"}
    finally:
        desk.__exit__(None, None, None)
        elsewhere.__exit__(None, None, None)
