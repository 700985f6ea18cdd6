"""The app served by a real uvicorn on a free loopback port, in a thread of the test process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def serve_in_thread(app: Any, log_level: str = "warning") -> Iterator[str]:
    """Yields the base URL while uvicorn serves `app`; stops it afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level,
                            ws_max_size=65_536)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def read_until(ws: Any, done: Any, limit: int = 40) -> list[dict[str, Any]]:
    """Frames from a test WebSocket up to and including the first for which `done` is true."""
    frames = []
    for _ in range(limit):
        frames.append(ws.receive_json())
        if done(frames[-1]):
            return frames
    raise AssertionError(f"condition never met in {frames}")


def citizen_hello(ws: Any, **fields: Any) -> dict[str, Any]:
    """The widget's hello on the demo site; returns the welcome frame."""
    ws.send_json({"type": "hello", "site": "demo", "last_seq": 0, **fields})
    frame: dict[str, Any] = ws.receive_json()
    assert frame["type"] == "welcome", frame
    return frame
