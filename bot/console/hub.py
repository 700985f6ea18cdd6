"""The console's live side: every open staff socket, and events pushed to them.

Events are small ("the queue changed", "conversation 7 has a new turn"); the console then
fetches what it shows through the API, so a missed event costs a refresh, never a wrong view.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("wenzheng.console")
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(eq=False)
class StaffSocket:
    username: str
    supervisor: bool
    send: Send
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class StaffHub:
    def __init__(self) -> None:
        self._sockets: set[StaffSocket] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop that owns the sockets; events from worker threads are handed to it."""
        self._loop = loop

    def add(self, socket: StaffSocket) -> None:
        self._sockets.add(socket)

    def remove(self, socket: StaffSocket) -> None:
        self._sockets.discard(socket)

    def count(self) -> int:
        return len(self._sockets)

    async def publish(self, event: dict[str, Any]) -> None:
        for socket in list(self._sockets):
            try:
                async with socket.lock:
                    await socket.send(event)
            except Exception:  # noqa: BLE001 - a console that went away reconnects and refetches
                self.remove(socket)

    def publish_threadsafe(self, event: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.publish(event), loop)
        except RuntimeError:  # the loop is shutting down
            log.debug("console event dropped: %s", event)
