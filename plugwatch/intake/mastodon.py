"""Mastodon through Mastodon.py: a streaming timeline (public, local or a hashtag) and the admin
reports endpoint, polled, so reports filed on the server arrive here as user reports.

The streaming API has no replay, so the checkpoint keeps the newest status id read: after a dropped
connection (and on restart) the gap is filled from the REST timeline (`since_id`) before streaming
again; what arrives twice is stored once, by id. Reports are polled with `since_id` too; the
checkpoint holds both, as JSON: {"status": "...", "report": "..."}.

Feedback: with `resolve_reports = true`, a report whose item got a final decision here is resolved on
the server (POST /api/v1/admin/reports/:id/resolve), so the server's moderators and its reporter-facing
report state see it closed. The outcome is also kept for GET /api/reports.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from typing import Any

from plugwatch.intake.buffer import Event
from plugwatch.intake.config import SourceConfig
from plugwatch.sources.mastodon import global_handle
from plugwatch.store import reports as store_reports
from plugwatch.store.schema import utcnow

log = logging.getLogger(__name__)
BACKFILL_PAGE = 40


class _Stopped(Exception):
    pass


def plain(value: Any) -> Any:
    """A Mastodon.py object as the JSON the server sent (times back to ISO text)."""
    return json.loads(json.dumps(value, default=lambda o: o.isoformat() if isinstance(o, datetime) else str(o)))


def _newer(a: str | None, b: str | None) -> str | None:
    """The larger of two Mastodon ids (numeric strings; longer is larger)."""
    if a is None or b is None:
        return a or b
    return max(a, b, key=lambda v: (len(v), v))


def _time(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class MastodonConnector:
    def __init__(self, cfg: SourceConfig, runner, store, cursor: str | None = None):
        from mastodon import Mastodon

        self.cfg, self.runner, self.store = cfg, runner, store
        try:
            state = json.loads(cursor) if cursor else {}
        except ValueError:
            state = {}
        self.state: dict[str, str | None] = {"status": state.get("status"), "report": state.get("report")}
        self._lock = threading.Lock()
        token = cfg.token.read() if cfg.token is not None else None
        self.api = Mastodon(access_token=token, api_base_url=cfg.url, request_timeout=10, ratelimit_method="throw",
                            version_check_mode="none")
        self.connections = 0

    # -- events -----------------------------------------------------------------------------------
    def _cursor(self) -> str:
        return json.dumps(self.state, sort_keys=True)

    def emit_status(self, status: Any) -> None:
        record = plain(status)
        sid = str(record.get("id")) if isinstance(record, dict) and record.get("id") is not None else None
        with self._lock:
            if sid:
                self.state["status"] = _newer(self.state["status"], sid)
            event = Event("record", record, f"mastodon:{sid}" if sid else "mastodon:?", "mastodon", cursor=self._cursor(),
                          event_time=_time(record.get("created_at")) if isinstance(record, dict) else None)
        if not self.runner.put(event):
            raise _Stopped()

    def emit_report(self, report: Any) -> None:
        r = plain(report)
        rid = str(r.get("id"))
        statuses = [s for s in r.get("statuses") or [] if isinstance(s, dict)]
        for status in statuses:
            self.emit_status(status)
        reporter = (r.get("account") or {}).get("account") or r.get("account") or {}
        target = (r.get("target_account") or {}).get("account") or r.get("target_account") or {}
        who = global_handle(reporter.get("acct"), reporter.get("url"))
        whom = global_handle(target.get("acct"), target.get("url"))
        text = " ".join(x for x in (f"[{r['category']}]" if r.get("category") else "", r.get("comment") or "") if x)
        payload = {"reporter": f"mastodon:{who}" if who else "", "reason": self.cfg.report_reason, "text": text,
                   "external_id": rid, "item_id": f"mastodon:{statuses[0]['id']}" if statuses else None,
                   "account": f"mastodon:{whom}" if whom and not statuses else None}
        with self._lock:
            self.state["report"] = _newer(self.state["report"], rid)
            problem = None if who else "Mastodon report without the reporter's account"
            event = Event("report", payload, f"mastodon-report:{rid}", cursor=self._cursor(),
                          event_time=_time(r.get("created_at")), problem=problem)
        if not self.runner.put(event):
            raise _Stopped()

    # -- the timeline -----------------------------------------------------------------------------
    def _stream(self, listener) -> None:
        kind = self.cfg.stream
        if kind.startswith("hashtag:"):
            self.api.stream_hashtag(kind.split(":", 1)[1], listener)
        else:
            self.api.stream_public(listener, local=kind == "local")

    def _backfill(self) -> None:
        since = self.state["status"]
        if since is None:
            return
        kind = self.cfg.stream
        while True:
            if kind.startswith("hashtag:"):
                page = self.api.timeline_hashtag(kind.split(":", 1)[1], since_id=since, limit=BACKFILL_PAGE)
            else:
                page = self.api.timeline_public(since_id=since, local=kind == "local", limit=BACKFILL_PAGE)
            if not page:
                return
            for status in sorted(page, key=lambda s: (len(str(s["id"])), str(s["id"]))):
                self.emit_status(status)
            if len(page) < BACKFILL_PAGE:
                return
            since = self.state["status"]

    def run_stream(self) -> None:
        from mastodon import StreamListener

        connector = self

        class Listener(StreamListener):
            def on_update(self, status):
                connector.emit_status(status)

            def on_status_update(self, status):
                connector.emit_status(status)  # an edit: stored once by id, like the first version

            def on_delete(self, status_id):
                pass  # a deletion is not content; the item stays as evidence (retention rules apply)

            def on_unknown_event(self, name, unknown_event=None):
                pass

            def handle_heartbeat(self):
                if connector.runner.stop.is_set():
                    raise _Stopped()

        self._loop(lambda: (self._backfill(), self._count_connection(), self._stream(Listener())), "stream")

    def _count_connection(self) -> None:
        self.connections += 1

    # -- reports ----------------------------------------------------------------------------------
    def poll_reports(self) -> None:
        found = self.api.admin_reports(resolved=False, since_id=self.state["report"])
        for report in sorted(found or [], key=lambda r: (len(str(r["id"])), str(r["id"]))):
            if self.state["report"] is None or _newer(self.state["report"], str(report["id"])) != self.state["report"]:
                self.emit_report(report)
        if self.cfg.resolve_reports:
            self.send_feedback()

    def send_feedback(self) -> int:
        """Resolve on the server the reports that got a final decision here."""
        from mastodon import MastodonError

        sent = 0
        with self.store.session() as s:
            for report in store_reports.feedback_due(s, self.cfg.name):
                try:
                    self.api.admin_report_resolve(report.external_id)
                    report.feedback_sent_at, report.feedback_error = utcnow(), None
                    sent += 1
                except MastodonError as e:
                    report.feedback_error = f"{type(e).__name__}: {e}"[:500]
        return sent

    def run_reports(self) -> None:
        def poll_forever():
            while not self.runner.stop.is_set():
                self.poll_reports()
                _sleep(self.cfg.poll_seconds, self.runner.stop)

        self._loop(poll_forever, "reports")

    # -- both --------------------------------------------------------------------------------------
    def _loop(self, work, what: str) -> None:
        from mastodon import MastodonError

        backoff = self.cfg.backoff_min
        while not self.runner.stop.is_set():
            started = time.monotonic()
            try:
                work()
            except _Stopped:
                return
            except (MastodonError, OSError) as e:
                log.warning("%s %s: %s: %s; again in %.1f s", self.cfg.name, what, type(e).__name__, e, backoff)
            if self.runner.stop.is_set():
                return
            if time.monotonic() - started > 60:
                backoff = self.cfg.backoff_min  # it ran a good while: a fresh failure, not a failing server
            self.runner.reconnected()
            _sleep(backoff, self.runner.stop)
            backoff = min(backoff * 2, self.cfg.backoff_max)

    def run(self) -> None:
        threads = []
        if self.cfg.stream != "none":
            threads.append(threading.Thread(target=self.run_stream, name=f"{self.cfg.name}-stream", daemon=True))
        if self.cfg.reports:
            threads.append(threading.Thread(target=self.run_reports, name=f"{self.cfg.name}-reports", daemon=True))
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads) and not self.runner.stop.is_set():
            time.sleep(0.1)
        for t in threads:
            t.join(timeout=5)


def _sleep(seconds: float, stop: threading.Event) -> None:
    stop.wait(seconds)
