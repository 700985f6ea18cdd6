"""Failed logins are limited per client address too, across accounts: one address cannot
try password after password on many accounts; other addresses are not affected."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bot.api.deps import Services
from bot.console.throttle import LoginThrottle
from server import create_app
from tests.console.people import OWN, PASSWORD, add_user, on_duty


def login(client: TestClient, username: str, password: str) -> tuple[int, dict[str, str], str]:
    response = client.post("/api/staff/login", json={"username": username, "password": password},
                           headers=OWN)
    return response.status_code, dict(response.headers), response.json().get("detail", "")


def test_one_address_gets_429_after_too_many_failed_logins(
    console_data_dir: Path, console_services: Services
) -> None:
    user = add_user(console_services, "staff", "钱伟")
    app = create_app(on_duty(console_data_dir, staff_login_ip_limit=3), services=console_services)
    with TestClient(app, client=("203.0.113.7", 5000)) as guesser, \
            TestClient(app, client=("198.51.100.2", 5000)) as colleague:
        for name in ("staff-a", "staff-b", "staff-c"):  # a different account each time
            assert login(guesser, name, "不对的密码-123456")[0] == 401
        status, headers, detail = login(guesser, user.username, PASSWORD)
        assert status == 429  # even the right password, from this address, for now
        assert detail.startswith("这台电脑所在网络的登录失败次数过多") and "分钟后再试" in detail
        assert 1 <= int(headers["retry-after"]) <= 600
        assert login(colleague, user.username, PASSWORD)[0] == 200


def test_the_throttle_forgets_failures_after_its_window() -> None:
    now = [1000.0]
    throttle = LoginThrottle(limit=2, window_s=60, clock=lambda: now[0])
    throttle.failed("a")
    throttle.failed("a")
    assert throttle.retry_after("a") == 60 and throttle.retry_after("b") is None
    now[0] += 30
    assert throttle.retry_after("a") == 30
    now[0] += 31
    assert throttle.retry_after("a") is None
