"""The handoff benchmark at a tiny size against a live server: it completes, every citizen
reaches the staff screen and gets the staff reply, and nothing is refused."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from bot.console.bench import bench_console, report
from server import create_app
from settings import Settings
from tests.console.people import PASSWORD, add_user


@pytest.fixture
def live(console_settings: Settings, console_services: Any) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(console_settings, services=console_services),
                            host="127.0.0.1", port=port, log_level="warning", ws_max_size=65_536)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_three_citizens_one_staff_member(live: str, console_services: Any) -> None:
    user = add_user(console_services)
    result = asyncio.run(bench_console(live, [(user.username, PASSWORD)], citizens=3,
                                       timeout_s=60))
    assert result["errors"] == 0, result["error_samples"]
    assert (result["citizens"], result["staff"]) == (3, 1)
    assert result["on_a_screen"] == result["on_every_screen"] == 3
    assert result["replies_received"] == 3
    assert "staff reply sent -> citizen widget" in report(result)
