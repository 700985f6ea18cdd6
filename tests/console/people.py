"""Staff members and citizens for the console tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bot.api.deps import Services
from bot.console.accounts import AccountStore, StaffUser
from settings import Settings
from tests.live_server import read_until

OWN = {"origin": "http://testserver"}
PASSWORD = "一个足够长的测试密码-not-a-secret"
_names = itertools.count(1)
_clients = itertools.count(1)
Frame = dict[str, Any]
ALL_WEEK = [1, 2, 3, 4, 5, 6, 7]


def on_duty(data_dir: Path, **extra: Any) -> Settings:
    """Settings with staff on duty around the clock, every day."""
    return Settings(data_dir=data_dir, staff_hours_open="00:00", staff_hours_close="24:00",
                    staff_weekdays=ALL_WEEK, **extra)


@dataclass
class Staff:
    """A logged-in staff member; requests carry their cookie and CSRF token explicitly, so
    several staff members can share one test client."""

    client: TestClient
    user: StaffUser
    token: str
    csrf: str

    def headers(self, csrf: bool = True) -> dict[str, str]:
        headers = {"cookie": f"wz_staff={self.token}", **OWN}
        return headers | ({"X-CSRF-Token": self.csrf} if csrf else {})

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers())

    def post(self, path: str, body: dict[str, Any] | None = None, csrf: bool = True) -> Any:
        return self.client.post(path, json=body or {}, headers=self.headers(csrf))

    def socket(self) -> Any:
        return self.client.websocket_connect("/ws/staff", headers=self.headers(csrf=False))

    def queue_item(self, conversation_id: int) -> dict[str, Any]:
        items = self.get("/api/staff/queue").json()["items"]
        return next(i for i in items if i["conversation_id"] == conversation_id)


def add_user(services: Services, role: str = "staff", name: str | None = None) -> StaffUser:
    username = f"{role}{next(_names)}"
    return AccountStore(services.engine).add_user(username, PASSWORD, role, name or username)


def log_in(client: TestClient, user: StaffUser, password: str = PASSWORD) -> Staff:
    response = client.post("/api/staff/login", json={"username": user.username,
                                                     "password": password}, headers=OWN)
    assert response.status_code == 200, response.text
    token = response.cookies.get("wz_staff")
    client.cookies.clear()  # each Staff sends its own cookie
    return Staff(client, user, token, response.json()["csrf"])


def open_staff_socket(staff: Staff) -> Any:
    """The staff socket after its CSRF hello; the caller closes it (a context manager)."""
    ws = staff.socket()
    ws.__enter__()
    ws.send_json({"type": "hello", "csrf": staff.csrf})
    assert ws.receive_json()["type"] == "welcome"
    return ws


def say(ws: Any, text: str) -> list[Frame]:
    """A citizen message and every frame it caused (up to the pong of a ping sent after)."""
    ws.send_json({"type": "message", "client_id": f"c-console-{next(_clients)}", "text": text})
    ws.send_json({"type": "ping"})
    return read_until(ws, lambda f: f["type"] == "pong")[:-1]


def messages(frames: list[Frame], author: str | None = None) -> list[Frame]:
    return [f for f in frames if f["type"] == "message" and author in (None, f["author"])]
