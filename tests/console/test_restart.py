"""A restart in the middle of a handoff: the queue, the assignments and the staff sessions
are in the database, so a new process carries on where the old one stopped."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from server import build_services, create_app
from tests.console.people import Staff, add_user, log_in, on_duty
from tests.prebuilt import copy_prebuilt


def ask(web: TestClient, sender: str, text: str) -> list[dict]:
    response = web.post("/api/chat", json={"sender": sender, "message": text})
    assert response.status_code == 200, response.text
    body: list[dict] = response.json()
    return body


def test_queue_and_assignments_survive_a_restart(console_prebuilt: Path, tmp_path: Path) -> None:
    settings = on_duty(copy_prebuilt(console_prebuilt, tmp_path / "data"))
    first = build_services(settings)
    with TestClient(create_app(settings, services=first)) as web:
        li = log_in(web, add_user(first, "staff", "李明"))
        ask(web, "waiting-citizen", "转人工")
        ask(web, "served-citizen", "我要人工客服")
        items = {i["user_id"]: i for i in li.get("/api/staff/queue").json()["items"]}
        served = items["served-citizen"]
        assert li.post(f"/api/staff/handoffs/{served['id']}/claim").status_code == 200
    first.engine.dispose()

    second = build_services(settings)  # what a new process builds on the same data dir
    with TestClient(create_app(settings, services=second)) as web:
        li = Staff(web, li.user, li.token, li.csrf)  # the session outlives the process
        items = {i["user_id"]: i for i in li.get("/api/staff/queue").json()["items"]}
        assert items["waiting-citizen"]["status"] == "pending"
        assert (items["served-citizen"]["status"], items["served-citizen"]["staff_name"]) == (
            "assigned", "李明")
        assert ask(web, "served-citizen", "还在吗？") == []  # still with staff: the bot is silent
        reply = li.post(f"/api/staff/handoffs/{served['id']}/reply", {"text": "在的，请讲。"})
        assert reply.status_code == 200 and reply.json() == {"delivered": "stored"}
    second.engine.dispose()
