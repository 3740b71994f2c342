"""Slow down password guessing: after a few failed sign-ins a name *from one client address* (and,
more loosely, the address for every name) is refused for a while, whatever password comes next.

Counting by name and address together means a stranger who fails a known user's (or a TAXII
partner's) sign-in five times locks out only themselves: the real user, from their usual address,
signs in as before, and a partner's automated feed keeps working. The price: guesses spread over
many addresses are slowed per address only (IPv6 addresses count per /64 network, what one client
usually holds); rate-limit sign-ins in the proxy as well.

An attempt is counted *before* the password is checked (and taken back when it was right), so
parallel requests cannot all slip in before the first failure is recorded.

Kept in memory, per server process: enough against one client guessing through one server. Several
servers behind a load balancer each count on their own; put a rate limit in the proxy as well.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable

NAME_FAILURES = 5  # per name and client address, per window: enough for typos, far too few for guessing
ADDRESS_FAILURES = 20  # per client address, any names: looser, one office may share an address
WINDOW_SECONDS = 15 * 60
MAX_KEYS = 100_000  # memory bound under a flood of distinct names and addresses


class SignInThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic, window: float = WINDOW_SECONDS,
                 per_name: int = NAME_FAILURES, per_address: int = ADDRESS_FAILURES, max_keys: int = MAX_KEYS):
        self._clock, self._window, self._max_keys = clock, window, max_keys
        self._limits = {"name": per_name, "address": per_address}  # "name" keys are (name, address) pairs
        self._attempts: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._swept = clock()

    @staticmethod
    def _keys(name: str, address: str | None) -> list[tuple[str, str]]:
        address = network_of(address) if address else ""
        keys = [("name", f"{name.strip().lower()}\x1f{address}")]
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
        """The attempt was right: the name starts afresh from this address, and the address gets its
        attempt back."""
        with self._lock:
            keys = self._keys(name, address)
            self._attempts.pop(keys[0], None)
            times = self._attempts.get(keys[1]) if len(keys) > 1 else None
            if times:
                times.pop()


def network_of(address: str) -> str:
    """The unit one client holds: an IPv4 address, or an IPv6 /64 (anything else as given)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_address(request) -> str | None:
    return request.client.host if request.client else None
