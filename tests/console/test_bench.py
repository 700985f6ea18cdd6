"""The handoff benchmark at a tiny size against a live server: it completes, every citizen
reaches the staff screen and gets the staff reply, and nothing is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from bot.console.bench import bench_console, report
from server import create_app
from settings import Settings
from tests.console.people import PASSWORD, add_user
from tests.live_server import serve_in_thread


@pytest.fixture
def live(console_settings: Settings, console_services: Any) -> Iterator[str]:
    with serve_in_thread(create_app(console_settings, services=console_services)) as url:
        yield url


def test_three_citizens_one_staff_member(live: str, console_services: Any) -> None:
    user = add_user(console_services)
    result = asyncio.run(bench_console(live, [(user.username, PASSWORD)], citizens=3,
                                       timeout_s=60))
    assert result["errors"] == 0, result["error_samples"]
    assert (result["citizens"], result["staff"]) == (3, 1)
    assert result["on_a_screen"] == result["on_every_screen"] == 3
    assert result["replies_received"] == 3
    assert "staff reply sent -> citizen widget" in report(result)
