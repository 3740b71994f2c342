"""The scoring loop behind a connector: batches out of the bounded buffer, scored and stored, the
checkpoint moved in the store after each batch.

Backpressure. When the buffer is half full (the stream is faster than scoring), the batch is
scored by the cheap stage only and its items are recorded for full scoring
later; as soon as the buffer runs low again, those are scored fully, a batch at a time. When the
buffer is full the connector waits (it stops reading its socket). Nothing is dropped: every event is
stored, counted as not content, or rejected with its reason.

Lag: seconds between the moment the platform saw an event (its relay time or post time) and the
moment it was stored; 0 when scoring has caught up with an idle stream.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import UTC, datetime

from plugwatch.intake.buffer import BoundedBuffer, Event
from plugwatch.intake.config import SourceConfig
from plugwatch.intake.sink import Sink
from plugwatch.store import intake_state

log = logging.getLogger(__name__)


class Runner:
    def __init__(self, store, detector, cfg: SourceConfig, clock=time.time):
        self.store, self.cfg, self.clock = store, cfg, clock
        self.buffer = BoundedBuffer(cfg.buffer)
        self.sink = Sink(store, detector, cfg.name, cfg.kind)
        self.stop = threading.Event()
        self.totals: Counter = Counter()
        self.max_lag = 0.0
        self.lag = 0.0
        self._reconnects = 0
        self._lock = threading.Lock()
        self._deferred_left = True  # a previous run may have left items to score fully
        with store.session() as s:
            intake_state.checkpoint(s, cfg.name, cfg.kind)

    # -- the connector's side ---------------------------------------------------------------
    def put(self, event: Event) -> bool:
        """Hand an event to scoring, waiting while the buffer is full; False once stopping."""
        return self.buffer.offer(event) or self.buffer.put(event, self.stop)

    def reconnected(self) -> None:
        with self._lock:
            self._reconnects += 1

    def cursor(self) -> str | None:
        with self.store.session() as s:
            return intake_state.cursor(s, self.cfg.name)

    # -- scoring -------------------------------------------------------------------------------
    def behind(self) -> bool:
        """Scoring is behind the stream: the buffer filled up to half. (Lag alone does not say so: a
        replay from an old cursor is far behind the clock however fast it is scored.)"""
        return len(self.buffer) >= self.buffer.capacity // 2

    def step(self, timeout: float = 0.2) -> bool:
        """Score one batch (or, with nothing waiting, fully score deferred items); False when idle."""
        batch = self.buffer.take(self.cfg.batch, timeout)
        if not batch:
            return self._catch_up(idle=True)
        times = [e.event_time for e in batch if e.event_time is not None]
        cheap = self.behind()
        counts = self._process(batch, cheap)
        if counts is None:
            return True  # the checkpoint stays before these events
        lag = max(self.clock() - times[-1], 0.0) if times else None
        cursor = next((e.cursor for e in reversed(batch) if e.cursor is not None), None)
        self._record(counts, cursor, lag, times[-1] if times else None)
        if cheap:
            self._deferred_left = True
        elif len(self.buffer) < self.cfg.batch:
            self._catch_up(idle=False)
        return True

    def _process(self, batch: list[Event], cheap: bool) -> Counter | None:
        """The batch stored; a failure (the database away) is retried, never skipped: the stream
        waits meanwhile, as the buffer fills."""
        attempt = 0
        while True:
            try:
                return self.sink.process(batch, cheap=cheap)
            except Exception:  # noqa: BLE001 - a database hiccup must not end a long-running process
                attempt += 1
                log.exception("intake %s: storing a batch of %d events failed (attempt %d); retrying",
                              self.cfg.name, len(batch), attempt)
                if self.stop.is_set() and attempt >= 5:
                    log.error("intake %s: stopping with %d events not stored; they are read again from the "
                              "checkpoint on the next start", self.cfg.name, len(batch))
                    return None
                time.sleep(min(2.0 ** attempt, 30.0))

    def _catch_up(self, idle: bool) -> bool:
        done = self.sink.rescore(self.cfg.batch) if self._deferred_left else 0
        if done == 0:
            self._deferred_left = False
            if idle and (self.lag > 0 or self._reconnects):
                # caught up: no longer behind; and a stream that keeps failing reads nothing, so its
                # reconnections are counted here, not only with the next stored batch
                self._record(Counter(), None, 0.0, None)
        return done > 0

    def _record(self, counts: Counter, cursor: str | None, lag: float | None, event_time: float | None) -> None:
        with self._lock:
            reconnects, self._reconnects = self._reconnects, 0
        counts = Counter(counts)
        counts["reconnects"] += reconnects
        self.totals.update(counts)
        if lag is not None:
            self.lag = lag
            self.max_lag = max(self.max_lag, lag)
        seen = datetime.fromtimestamp(event_time, UTC) if event_time is not None else None
        with self.store.session() as s:
            intake_state.advance(s, self.cfg.name, self.cfg.kind,
                                 counts={k: v for k, v in counts.items() if k in intake_state.COUNTERS},
                                 cursor=cursor, lag=lag, last_event_at=seen)

    def run(self) -> None:
        """Score until stopped, then what is still in the buffer (nothing read is left behind)."""
        while not self.stop.is_set() or len(self.buffer):
            try:
                self.step()
            except Exception:  # noqa: BLE001 - a database hiccup must not end a long-running process
                log.exception("intake %s: scoring a batch failed; retrying in 1 s", self.cfg.name)
                time.sleep(1.0)
        if self._reconnects:
            self._record(Counter(), None, None, None)  # those since the last idle moment

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name=f"intake-{self.cfg.name}", daemon=True)
        thread.start()
        return thread
