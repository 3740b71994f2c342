"""Slow down password guessing: after a few failed sign-ins a name (and, more loosely, a client
address) is refused for a while, whatever password comes next.

Kept in memory, per server process: enough against one client guessing through one server. Several
servers behind a load balancer each count on their own; put a rate limit in the proxy as well.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

NAME_FAILURES = 5  # per name and window: enough for typos, far too few for guessing
ADDRESS_FAILURES = 20  # per client address: one office may share an address
WINDOW_SECONDS = 15 * 60


class SignInThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic, window: float = WINDOW_SECONDS,
                 per_name: int = NAME_FAILURES, per_address: int = ADDRESS_FAILURES):
        self._clock, self._window = clock, window
        self._limits = {"name": per_name, "address": per_address}
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(name: str, address: str | None) -> list[tuple[str, str]]:
        keys = [("name", name.strip().lower())]
        if address:
            keys.append(("address", address))
        return keys

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def wait_seconds(self, name: str, address: str | None) -> int:
        """Seconds until this name and address may try again; 0 when they may now."""
        now = self._clock()
        with self._lock:
            wait = 0.0
            for key in self._keys(name, address):
                times = self._recent(key, now)
                if len(times) >= self._limits[key[0]]:
                    wait = max(wait, times[0] + self._window - now)
            return int(wait) + 1 if wait > 0 else 0

    def failed(self, name: str, address: str | None) -> None:
        now = self._clock()
        with self._lock:
            for key in self._keys(name, address):
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(("name", name.strip().lower()), None)


def client_address(request) -> str | None:
    return request.client.host if request.client else None
