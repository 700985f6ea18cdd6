"""Every staff route and the staff socket refuse the unauthenticated, the wrong role and a
missing CSRF token. The routes are read from the app itself, so a new one cannot be missed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from bot.console.accounts import AccountStore, LockedOut
from bot.console.auth import require_supervisor
from bot.console.passwords import verify_password
from bot.tables import StaffUserRow
from tests.console.people import OWN, PASSWORD, Staff, add_user

PUBLIC = {"/api/staff/login", "/staff/login", "/staff/assets/{name}"}
SAMPLE = {"{handoff_id}": "1", "{number}": "LJ000", "{reply_id}": "1", "{name}": "x.js"}


def flat_routes(app: Any) -> Iterator[Any]:
    """Every route, looking inside included routers (FastAPI >= 0.16x wraps them)."""
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):
            yield from route.effective_route_contexts()
        else:
            yield route


def staff_routes(app: Any) -> list[tuple[str, str, Any]]:
    found = []
    for route in flat_routes(app):
        original = getattr(route, "original_route", route)
        path = getattr(route, "path", "") or getattr(original, "path", "")  # sockets: ""
        if not path.startswith(("/api/staff", "/staff", "/ws/staff")) or path in PUBLIC:
            continue
        socket = "WebSocket" in type(original).__name__
        methods = ["WS"] if socket else sorted(route.methods)
        found += [(method, concrete(path), route) for method in methods]
    return found


def concrete(path: str) -> str:
    for name, value in SAMPLE.items():
        path = path.replace(name, value)
    return path


def needs_supervisor(route: Any) -> bool:
    dependant = getattr(route, "dependant", None)
    pending = list(dependant.dependencies) if dependant else []
    while pending:
        dependency = pending.pop()
        if dependency.call is require_supervisor:
            return True
        pending += dependency.dependencies
    return False


def call(web: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    response = web.request(method, path, headers=headers, json={}, follow_redirects=False)
    return response.status_code


def test_the_routes_are_enumerated(web: TestClient) -> None:
    routes = staff_routes(web.app)
    assert len(routes) >= 18
    assert [path for method, path, _ in routes if method == "WS"] == ["/ws/staff"]
    assert sum(needs_supervisor(r) for m, _, r in routes if m != "WS") >= 4


def test_unauthenticated_requests_are_refused(web: TestClient) -> None:
    for method, path, _ in staff_routes(web.app):
        if method == "WS":
            assert socket_refused(web, {}, "x"), path
            continue
        status = call(web, method, path, OWN)
        expected = 303 if path == "/staff" else 401
        assert status == expected, (method, path, status)


def test_a_forged_or_expired_cookie_is_refused(web: TestClient, staff_member: Any) -> None:
    staff = staff_member()
    forged = {"cookie": "wz_staff=" + "x" * 43, **OWN}
    assert call(web, "GET", "/api/staff/queue", forged) == 401
    staff.client.app.state.console.accounts._clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    try:
        assert staff.get("/api/staff/me").status_code == 401
    finally:
        staff.client.app.state.console.accounts._clock = lambda: dt.datetime.now(dt.UTC)


def test_state_changes_without_the_csrf_token_are_refused(web: TestClient, staff_member: Any) -> None:
    boss = staff_member("supervisor")
    unsafe = [(m, p) for m, p, _ in staff_routes(web.app) if m not in ("GET", "WS", "HEAD")]
    assert len(unsafe) >= 9
    for method, path in unsafe:
        assert call(web, method, path, boss.headers(csrf=False)) == 403, (method, path)
        wrong = boss.headers() | {"X-CSRF-Token": "not-the-token"}
        assert call(web, method, path, wrong) == 403, (method, path)
    assert socket_refused(web, boss.headers(csrf=False), "wrong-token")


def test_staff_cannot_use_supervisor_routes(web: TestClient, staff_member: Any) -> None:
    staff, boss = staff_member("staff"), staff_member("supervisor")
    guarded = [(m, p) for m, p, r in staff_routes(web.app)
               if m != "WS" and needs_supervisor(r)]
    for method, path in guarded:
        assert call(web, method, path, staff.headers()) == 403, (method, path)
    assert boss.get("/api/staff/overview").status_code == 200
    assert staff.get("/api/staff/queue").status_code == 200


def socket_refused(web: TestClient, headers: dict[str, str], csrf: str) -> bool:
    with web.websocket_connect("/ws/staff", headers={**OWN, **headers}) as ws:
        ws.send_json({"type": "hello", "csrf": csrf})
        try:
            ws.receive_json()
        except WebSocketDisconnect as exc:
            return exc.code == 4401
    return False


def test_a_foreign_origin_cannot_open_the_staff_socket(web: TestClient, staff_member: Any) -> None:
    staff = staff_member()
    headers = staff.headers(csrf=False) | {"origin": "https://evil.example"}
    with web.websocket_connect("/ws/staff", headers=headers) as ws, pytest.raises(
        WebSocketDisconnect
    ) as refused:
        ws.receive_json()
    assert refused.value.code == 4403


def test_login_cookie_logout_and_password_storage(web: TestClient, console_services: Any) -> None:
    user = add_user(console_services)
    response = web.post("/api/staff/login", json={"username": user.username,
                                                  "password": PASSWORD}, headers=OWN)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    web.cookies.clear()
    staff = Staff(web, user, response.cookies.get("wz_staff"), response.json()["csrf"])
    assert staff.post("/api/staff/logout").status_code == 200
    assert staff.get("/api/staff/me").status_code == 401
    with console_services.engine.connect() as connection:
        stored = connection.execute(StaffUserRow.__table__.select().where(
            StaffUserRow.username == user.username)).one()
    assert stored.password_hash.startswith("scrypt$") and PASSWORD not in stored.password_hash
    assert verify_password(PASSWORD, stored.password_hash)
    foreign = {"origin": "https://evil.example"}
    assert web.post("/api/staff/login", json={"username": user.username, "password": PASSWORD},
                    headers=foreign).status_code == 403


def test_repeated_failures_lock_the_account(web: TestClient, console_services: Any) -> None:
    user = add_user(console_services)
    for _ in range(5):
        wrong = web.post("/api/staff/login", json={"username": user.username,
                                                   "password": "wrong password!"}, headers=OWN)
        assert wrong.status_code == 401 and wrong.json()["detail"] == "用户名或密码错误"
    locked = web.post("/api/staff/login", json={"username": user.username, "password": PASSWORD},
                      headers=OWN)
    assert locked.status_code == 429 and "分钟后再试" in locked.json()["detail"]
    def at(minutes: int) -> AccountStore:
        moment = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
        return AccountStore(console_services.engine, clock=lambda: moment)

    assert at(2).authenticate(user.username, "wrong again!!") is None  # lock over: 6th failure
    with pytest.raises(LockedOut) as again:  # the lock doubles
        at(2).authenticate(user.username, PASSWORD)
    assert again.value.until - dt.datetime.now(dt.UTC) > dt.timedelta(minutes=3)
    assert at(5).authenticate(user.username, PASSWORD) == user


def test_unknown_users_get_the_same_answer(web: TestClient) -> None:
    response = web.post("/api/staff/login", json={"username": "nobody", "password": "whatever1"},
                        headers=OWN)
    assert response.status_code == 401 and response.json()["detail"] == "用户名或密码错误"
