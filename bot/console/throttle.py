"""Failed console logins per client address, in a sliding window (per process).

The per-account lock-out stops guessing one account's password; this stops one address
from trying password after password across many accounts."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_ADDRESSES = 10_000  # beyond this, addresses with no recent failure are forgotten


class LoginThrottle:
    def __init__(
        self, limit: int = 20, window_s: float = 600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be >= 1 and window_s > 0")
        self._limit, self._window, self._clock = limit, window_s, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> float | None:
        """Seconds until `address` may try again, or None while it may."""
        with self._lock:
            seen = self._recent(address)
            if len(seen) < self._limit:
                return None
            return max(seen[0] + self._window - self._clock(), 1.0)

    def failed(self, address: str) -> None:
        with self._lock:
            if len(self._failures) >= MAX_ADDRESSES:
                self._forget_quiet()
            self._failures.setdefault(address, deque()).append(self._clock())

    def _recent(self, address: str) -> deque[float]:
        seen = self._failures.get(address, deque())
        cutoff = self._clock() - self._window
        while seen and seen[0] <= cutoff:
            seen.popleft()
        if not seen:
            self._failures.pop(address, None)
        return seen

    def _forget_quiet(self) -> None:
        for address in list(self._failures):
            self._recent(address)
