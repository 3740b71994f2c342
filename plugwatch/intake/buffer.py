"""What a connector hands to scoring, and the bounded buffer between them.

A connector puts events in; when the buffer is full it waits (it stops reading its socket, so the
platform's server holds what follows) instead of dropping anything. Scoring takes them out in
batches, in the order they came.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Event:
    kind: str  # "record": a platform record read as `fmt`; "report": a user report (plugwatch.intake.sink)
    payload: Any  # the decoded record
    key: str  # names the event in rejects (e.g. the post's id or the relay's time)
    fmt: str = ""
    cursor: str | None = None  # where to resume once this event is stored
    event_time: float | None = None  # unix seconds when the platform saw it: lag = now - this
    problem: str | None = None  # known bad already (not JSON ...): rejected with this reason


class BoundedBuffer:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items: deque[Event] = deque()
        self._cond = threading.Condition()
        self.peak = 0

    def __len__(self) -> int:
        return len(self._items)

    def offer(self, event: Event) -> bool:
        """Add without waiting; False when full."""
        with self._cond:
            if len(self._items) >= self.capacity:
                return False
            self._add(event)
            return True

    def put(self, event: Event, stop: threading.Event | None = None) -> bool:
        """Add, waiting while the buffer is full; False only when `stop` was set meanwhile."""
        with self._cond:
            while len(self._items) >= self.capacity:
                if stop is not None and stop.is_set():
                    return False
                self._cond.wait(0.1)
            self._add(event)
            return True

    def _add(self, event: Event) -> None:
        self._items.append(event)
        self.peak = max(self.peak, len(self._items))
        self._cond.notify_all()

    def take(self, n: int, timeout: float) -> list[Event]:
        """Up to `n` events, waiting up to `timeout` seconds for the first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._items:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._cond.wait(left)
            out = [self._items.popleft() for _ in range(min(n, len(self._items)))]
            self._cond.notify_all()
            return out
