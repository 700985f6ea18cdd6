"""The web widget learns at once when staff come online or leave: a citizen waiting in the
queue gets a fresh `state` frame; a citizen talking to the bot is not disturbed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.console.people import OWN, messages, open_staff_socket, say
from tests.live_server import citizen_hello, read_until


def is_state(frame: dict[str, Any]) -> bool:
    return frame["type"] == "state"


def test_a_waiting_citizen_sees_staff_come_online_and_leave(
    web: TestClient, staff_member: Any
) -> None:
    chen = staff_member("staff", "陈静")  # logged in, console not open yet: not online
    with web.websocket_connect("/ws/chat?site=demo", headers=OWN) as waiting, \
            web.websocket_connect("/ws/chat?site=demo", headers=OWN) as chatting:
        assert citizen_hello(waiting)["staff_available"] is False
        read_until(waiting, is_state)
        citizen_hello(chatting)
        read_until(chatting, is_state)
        asked = say(waiting, "转人工")
        assert "没有工作人员在线" in messages(asked, "bot")[0]["text"]
        assert [f for f in asked if is_state(f)][-1] == {
            "type": "state", "mode": "queued", "staff_name": None, "staff_available": False}

        desk = open_staff_socket(chen)
        try:
            online = read_until(waiting, is_state)[-1]
            assert (online["mode"], online["staff_available"]) == ("queued", True)
            desk.send_json({"type": "heartbeat", "status": "online"})
            read_until(desk, lambda f: f["type"] == "pong")  # every widget has been told by now
            chatting.send_json({"type": "ping"})
            assert chatting.receive_json() == {"type": "pong"}  # in bot mode: no state frame

            desk.send_json({"type": "heartbeat", "status": "away"})  # 离开: nobody to take it
            away = read_until(waiting, is_state)[-1]
            assert (away["mode"], away["staff_available"]) == ("queued", False)
            desk.send_json({"type": "heartbeat", "status": "online"})
            assert read_until(waiting, is_state)[-1]["staff_available"] is True
        finally:
            desk.__exit__(None, None, None)
        gone = read_until(waiting, is_state)[-1]  # the console closed
        assert (gone["mode"], gone["staff_available"]) == ("queued", False)
