"""Bluesky through Jetstream: JSON events over a WebSocket (https://github.com/bluesky-social/jetstream).

    wss://HOST/subscribe?wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.actor.profile
                        [&wantedDids=did:plc:...][&cursor=<unix microseconds>]

Every event carries `time_us`, the relay's time; Jetstream replays from a `cursor` in that unit. The
checkpoint is the `time_us` of the last stored event, so a restart resumes there (minus
`rewind_seconds`, so nothing in flight falls in the gap; what is read twice is stored once, by id).
A dropped connection is retried after 1, 2, 4 ... seconds (up to `backoff_max`, with jitter), from the
last event read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from urllib.parse import urlencode

from plugwatch.intake.buffer import Event
from plugwatch.intake.config import SourceConfig

log = logging.getLogger(__name__)
MAX_MESSAGE = 2**22  # bytes: Jetstream events are small; a huge frame is refused, not buffered


def decode(message: str | bytes) -> Event:
    """One Jetstream message as an event; one that is not a JSON event is rejected with the reason."""
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as e:
            return Event("record", None, "?", "bluesky", problem=f"not UTF-8 text: {e.reason} at byte {e.start}")
    try:
        event = json.loads(message)
    except ValueError as e:
        return Event("record", None, f"?:{message[:40]}", "bluesky", problem=f"not JSON: {e}")
    if not isinstance(event, dict) or not isinstance(event.get("time_us"), int):
        return Event("record", None, f"?:{message[:40]}", "bluesky", problem="not a Jetstream event (no time_us)")
    commit = event.get("commit") if isinstance(event.get("commit"), dict) else {}
    key = f"{event.get('did')}/{commit.get('collection', event.get('kind'))}/{commit.get('rkey', '')}@{event['time_us']}"
    return Event("record", event, key, "bluesky", cursor=str(event["time_us"]), event_time=event["time_us"] / 1e6)


class Jetstream:
    def __init__(self, cfg: SourceConfig, runner, cursor: str | None = None):
        self.cfg, self.runner = cfg, runner
        self.last = int(cursor) if cursor and cursor.isdigit() else None  # time_us of the last event read
        self.connections = 0

    def url(self) -> str:
        params = [("wantedCollections", c) for c in self.cfg.collections] + [("wantedDids", d) for d in self.cfg.dids]
        if self.last is not None:
            params.append(("cursor", str(max(self.last - int(self.cfg.rewind_seconds * 1e6), 0))))
        sep = "&" if "?" in self.cfg.url else "?"
        return self.cfg.url + (sep + urlencode(params) if params else "")

    async def run(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidURI, WebSocketException

        backoff = self.cfg.backoff_min
        stop = self.runner.stop
        while not stop.is_set():
            url = self.url()
            try:
                async with connect(url, max_size=MAX_MESSAGE, open_timeout=10, ping_interval=20, ping_timeout=20,
                                   close_timeout=2) as ws:
                    self.connections += 1
                    log.info("%s: connected to %s", self.cfg.name, url)
                    backoff = self.cfg.backoff_min
                    while not stop.is_set():
                        try:
                            message = await asyncio.wait_for(ws.recv(), timeout=0.5)
                        except TimeoutError:
                            continue
                        event = decode(message)
                        if not self.runner.buffer.offer(event) and not await asyncio.to_thread(self.runner.put, event):
                            return  # stopping while the buffer was full: this event is read again on restart
                        if event.cursor is not None:
                            self.last = int(event.cursor)
            except InvalidURI as e:
                from plugwatch.errors import UserError

                raise UserError(f"sources.{self.cfg.name}.url: {e}") from None
            except (OSError, TimeoutError, InvalidHandshake, WebSocketException) as e:
                log.warning("%s: connection lost (%s: %s); reconnecting in %.1f s", self.cfg.name,
                            type(e).__name__, e, backoff)
            if stop.is_set():
                return
            self.runner.reconnected()
            await _sleep(backoff * (1 + random.random() / 4), stop)
            backoff = min(backoff * 2, self.cfg.backoff_max)


async def _sleep(seconds: float, stop) -> None:
    end = asyncio.get_running_loop().time() + seconds
    while not stop.is_set() and asyncio.get_running_loop().time() < end:
        await asyncio.sleep(min(0.1, seconds))
