"""Who of the staff is online now (per process, from their console sockets' heartbeats)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.console.hours import ServiceHours

STATUSES = ("online", "away", "offline")
# A console sends a heartbeat every 20 s; three missed ones and the person counts as offline.
HEARTBEAT_TIMEOUT = dt.timedelta(seconds=60)
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class _Seen:
    status: str
    at: dt.datetime
    sockets: int = 0


class StaffRoster:
    """Implements the web chat's `StaffPresence`: someone online, and within service hours."""

    def __init__(self, hours: ServiceHours, clock: Clock = utc_now) -> None:
        self._hours, self._clock = hours, clock
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.Lock()

    def connect(self, username: str) -> None:
        with self._lock:
            seen = self._seen.setdefault(username, _Seen("online", self._clock()))
            seen.sockets += 1
            seen.at = self._clock()

    def disconnect(self, username: str) -> None:
        with self._lock:
            seen = self._seen.get(username)
            if seen is not None:
                seen.sockets -= 1
                if seen.sockets <= 0:
                    del self._seen[username]

    def heartbeat(self, username: str, status: str | None = None) -> None:
        with self._lock:
            seen = self._seen.get(username)
            if seen is not None:
                seen.at = self._clock()
                if status in STATUSES:
                    seen.status = status

    def status(self, username: str) -> str:
        with self._lock:
            seen = self._seen.get(username)
            if seen is None or self._clock() - seen.at > HEARTBEAT_TIMEOUT:
                return "offline"
            return seen.status

    def online(self) -> list[str]:
        with self._lock:
            names = list(self._seen)
        return [name for name in names if self.status(name) == "online"]

    @property
    def zone(self) -> ZoneInfo:
        return self._hours.zone

    def in_hours(self) -> bool:
        return self._hours.is_open(self._clock())

    def available(self) -> bool:
        return self.in_hours() and bool(self.online())
