"""Local servers speaking the platforms' streaming protocols, for the live-intake tests: a Jetstream
WebSocket server (the `websockets` library) and a Mastodon server (streaming, timelines, admin reports)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

T0 = 1_750_000_000_000_000  # microseconds


def post_event(i: int, did: str = "did:plc:seller", text: str | None = None) -> dict:
    return {"did": did, "time_us": T0 + i * 1000, "kind": "commit",
            "commit": {"rev": f"rev{i}", "operation": "create", "collection": "app.bsky.feed.post", "rkey": f"r{i}",
                       "cid": f"cid{i}", "record": {"$type": "app.bsky.feed.post", "text": text or f"hello there {i}",
                                                    "createdAt": "2025-06-15T10:00:00.000Z", "langs": ["en"]}}}


def post_id(i: int, did: str = "did:plc:seller") -> str:
    return f"bluesky:at://{did}/app.bsky.feed.post/r{i}"


class FakeJetstream:
    """Sends `events` (dicts, or raw strings sent as they are) from the requested cursor on; the first
    connection is dropped (TCP abort, no close frame) after `drop_after` messages."""

    def __init__(self, events: list, drop_after: int | None = None):
        self.events = events
        self.drop_after = drop_after
        self.cursors: list[int | None] = []  # the cursor each connection asked for
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.port = None

    def _time(self, e) -> int:
        return e["time_us"] if isinstance(e, dict) else 0

    async def _handler(self, ws):
        query = parse_qs(urlsplit(ws.request.path).query)
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        self.cursors.append(cursor)
        first = len(self.cursors) == 1
        sent = 0
        for e in list(self.events):
            if cursor is not None and self._time(e) < cursor and isinstance(e, dict):
                continue
            if cursor is not None and not isinstance(e, dict):
                continue  # raw junk was sent on the first connection only
            await ws.send(e if isinstance(e, str) else json.dumps(e))
            sent += 1
            if first and self.drop_after is not None and sent >= self.drop_after:
                await asyncio.sleep(0.05)
                ws.transport.abort()
                return
        await ws.wait_closed()  # then idle, like a quiet firehose, until the server shuts down

    def _serve(self):
        from websockets.asyncio.server import serve

        async def main():
            self.done = asyncio.get_running_loop().create_future()
            async with serve(self._handler, "127.0.0.1", 0) as server:
                self.port = server.sockets[0].getsockname()[1]
                self.ready.set()
                await self.done
                server.close(close_connections=True)
                await server.wait_closed()

        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(main())
        self.loop.close()

    def __enter__(self):
        self.thread.start()
        self.ready.wait(10)
        return f"ws://127.0.0.1:{self.port}/subscribe"

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.done.set_result, None)
        self.thread.join(10)


def status(i: int, acct: str = "dealer", text: str | None = None, **extra) -> dict:
    return {"id": str(100 + i), "created_at": "2025-06-15T10:00:00.000Z", "content": f"<p>{text or f'toot number {i}'}</p>",
            "spoiler_text": "", "visibility": "public", "url": f"https://social.example/@{acct}/{100 + i}",
            "in_reply_to_id": None, "media_attachments": [], "mentions": [], "tags": [], "emojis": [],
            "account": {"id": "9", "username": acct, "acct": acct, "display_name": acct, "url": f"https://social.example/@{acct}",
                        "note": "", "followers_count": 3, "created_at": "2024-01-01T00:00:00.000Z"}, **extra}


class FakeMastodon:
    """The parts of a Mastodon server the connector uses. The first streaming connection sends
    `first` and ends; statuses in `gap` are only in the REST timeline (posted while disconnected);
    later connections send `later`, then heartbeats."""

    def __init__(self, token: str, first: list, gap: list, later: list, reports: list):
        self.token, self.first, self.gap, self.later, self.reports = token, first, gap, later, reports
        self.streams = 0
        self.resolved: list[str] = []
        self.since_ids: list[str | None] = []
        app = self.app = FastAPI()

        @app.middleware("http")
        async def auth(request: Request, call_next):
            if request.url.path != "/api/v1/instance" and request.headers.get("authorization") != f"Bearer {token}":
                return JSONResponse({"error": "The access token is invalid"}, 401)
            return await call_next(request)

        @app.get("/api/v1/instance")
        def instance():
            return {"uri": "social.example", "version": "4.3.0", "urls": {}}

        @app.get("/api/v1/streaming/public")
        @app.get("/api/v1/streaming/public/local")
        @app.get("/api/v1/streaming/hashtag")
        def stream():
            self.streams += 1
            batch = self.first if self.streams == 1 else self.later
            forever = self.streams > 1

            def body():
                for s in batch:
                    yield f"event: update\ndata: {json.dumps(s)}\n\n"
                while forever:
                    time.sleep(0.2)
                    yield ":thump\n"

            return StreamingResponse(body(), media_type="text/event-stream")

        @app.get("/api/v1/timelines/public")
        def timeline(request: Request):
            since = request.query_params.get("since_id")
            self.since_ids.append(since)
            shown = [s for s in self.first + self.gap + (self.later if self.streams > 1 else [])
                     if since is None or int(s["id"]) > int(since)]
            return sorted(shown, key=lambda s: -int(s["id"]))[: int(request.query_params.get("limit", 20))]

        @app.get("/api/v1/admin/reports")
        def admin_reports(request: Request):
            since = request.query_params.get("since_id")
            return [r for r in self.reports if r["id"] not in self.resolved and (since is None or int(r["id"]) > int(since))]

        @app.post("/api/v1/admin/reports/{rid}/resolve")
        def resolve(rid: str):
            self.resolved.append(rid)
            return next(r for r in self.reports if r["id"] == rid)


def admin_report(rid: str, reporter: str, statuses: list, comment: str = "") -> dict:
    def admin_account(acct):
        return {"id": acct, "username": acct, "domain": None, "created_at": "2024-01-01T00:00:00.000Z",
                "account": {"id": acct, "username": acct, "acct": acct, "url": f"https://social.example/@{acct}"}}

    return {"id": rid, "action_taken": False, "category": "other", "comment": comment, "forwarded": False,
            "created_at": "2025-06-15T11:00:00.000Z", "updated_at": "2025-06-15T11:00:00.000Z",
            "account": admin_account(reporter), "target_account": admin_account("dealer"), "statuses": statuses,
            "rules": []}
