"""Slow down password guessing: after a few failed sign-ins a name (and, more loosely, a client
address) is refused for a while, whatever password comes next.

An attempt is counted *before* the password is checked (and taken back when it was right), so
parallel requests cannot all slip in before the first failure is recorded.

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
MAX_KEYS = 100_000  # memory bound under a flood of distinct names and addresses


class SignInThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic, window: float = WINDOW_SECONDS,
                 per_name: int = NAME_FAILURES, per_address: int = ADDRESS_FAILURES, max_keys: int = MAX_KEYS):
        self._clock, self._window, self._max_keys = clock, window, max_keys
        self._limits = {"name": per_name, "address": per_address}
        self._attempts: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._swept = clock()

    @staticmethod
    def _keys(name: str, address: str | None) -> list[tuple[str, str]]:
        keys = [("name", name.strip().lower())]
        if address:
            keys.append(("address", address))
        return keys

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._attempts.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._attempts[key]
        return times

    def _wait(self, keys: list[tuple[str, str]], now: float) -> int:
        wait = 0.0
        for key in keys:
            times = self._recent(key, now)
            if len(times) >= self._limits[key[0]]:
                wait = max(wait, times[0] + self._window - now)
        return int(wait) + 1 if wait > 0 else 0

    def _sweep(self, now: float) -> None:
        if now - self._swept >= self._window or len(self._attempts) > self._max_keys:
            for key in list(self._attempts):
                self._recent(key, now)
            self._swept = now
        if len(self._attempts) > self._max_keys:  # still too many live keys: forget the stalest
            by_age = sorted(self._attempts, key=lambda k: self._attempts[k][-1])
            for key in by_age[:len(by_age) - self._max_keys]:
                del self._attempts[key]

    def wait_seconds(self, name: str, address: str | None) -> int:
        """Seconds until this name and address may try again; 0 when they may now."""
        with self._lock:
            return self._wait(self._keys(name, address), self._clock())

    def attempt(self, name: str, address: str | None) -> int:
        """Count a sign-in attempt about to be checked; returns the seconds to wait instead (and
        counts nothing) when the name or address is locked out."""
        now = self._clock()
        with self._lock:
            keys = self._keys(name, address)
            if wait := self._wait(keys, now):
                return wait
            for key in keys:
                self._attempts.setdefault(key, deque()).append(now)
            self._sweep(now)
            return 0

    def succeeded(self, name: str, address: str | None) -> None:
        """The attempt was right: the name starts afresh and the address gets its attempt back."""
        with self._lock:
            self._attempts.pop(("name", name.strip().lower()), None)
            times = self._attempts.get(("address", address)) if address else None
            if times:
                times.pop()


def client_address(request) -> str | None:
    return request.client.host if request.client else None
