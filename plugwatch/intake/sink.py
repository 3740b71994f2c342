"""Events into the store: records read by the platform's importer (plugwatch.sources), scored and stored
by the same pipeline as POST /api/ingest (plugwatch.service.ingest.score_and_store), user reports filed.

Every event ends in exactly one of: stored (or a duplicate of a stored item), a profile update,
dropped (not content: likes, follows, deletes ...; counted), or rejected (with its reason, in the
store's intake_rejects). Under backpressure `cheap=True` scores with the detector's first stage only
and records the items for full scoring later (plugwatch.store.intake_state.defer).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from plugwatch.intake.buffer import Event
from plugwatch.model import Item
from plugwatch.pipeline import score
from plugwatch.service.ingest import _text_problem, item_record, score_and_store
from plugwatch.sources import RecordError, Reject, SourceOptions
from plugwatch.sources.base import FORMATS
from plugwatch.sources.common import FileContext
from plugwatch.store import intake_state, reports
from plugwatch.store.review import ReviewError

log = logging.getLogger(__name__)
PROFILE = "app.bsky.actor.profile"


def cheap_stage(detector):
    """The detector's first stage alone (its gate model over the cheap signals): the same model, no
    text or embedding stages."""
    from plugwatch.detect import Detector

    inner = detector.get() if hasattr(detector, "get") else detector  # a LazyDetector: load it now
    if not isinstance(inner, Detector):
        return detector
    return Detector(inner.model, inner.threshold, use_model=False)


class Sink:
    def __init__(self, store, detector, source: str, kind: str):
        self.store, self.detector, self.source, self.kind = store, detector, source, kind
        self.cheap = cheap_stage(detector) if detector is not None else None
        self._contexts: dict[str, FileContext] = {}

    def _context(self, fmt: str) -> FileContext:
        if fmt not in self._contexts:
            self._contexts[fmt] = FileContext(self.source, SourceOptions(format=fmt, keep_raw=True))
        return self._contexts[fmt]

    def process(self, events: list[Event], cheap: bool = False) -> Counter:
        counts: Counter = Counter(read=len(events))
        stream: list[Item | Reject] = []
        lines: dict[int, Event] = {}
        profiles: list[dict[str, Any]] = []
        rejected: list[tuple[Event, str]] = []
        report_events: list[Event] = []
        for line, ev in enumerate(events, start=1):
            lines[line] = ev
            if ev.problem:
                rejected.append((ev, ev.problem))
            elif ev.kind == "report":
                report_events.append(ev)
            else:
                self._read(ev, line, stream, profiles, rejected, counts)
        if stream:
            detector = self.cheap if cheap else self.detector
            report = score_and_store(self.store, detector, stream, source_name=self.source)
            counts["stored"] += report.stored
            counts["duplicates"] += report.duplicates
            for r in report.rejects:
                ev = lines.get(r.get("line") or 0)
                rejected.append((ev, r["reason"]) if ev else (Event("record", None, "?"), r["reason"]))
            lost = report.rejected - len(report.rejects)  # beyond the report's list: counted, unnamed
            counts["rejected"] += max(lost, 0)
            if cheap and report.ids:
                fmts = {}
                for item in stream:
                    if isinstance(item, Item):
                        fmts[item.id] = lines[item.source.line].fmt if item.source else ""
                with self.store.session() as s:
                    for fmt in sorted(set(fmts.values())):
                        intake_state.defer(s, self.source, fmt, [i for i in report.ids if fmts.get(i) == fmt])
                counts["deferred"] += len(report.ids)
        if profiles:
            with self.store.session() as s:
                intake_state.update_profiles(s, profiles)
            counts["profiles"] += len(profiles)
        for ev in report_events:
            problem = self._file(ev)
            if problem:
                rejected.append((ev, problem))
            else:
                counts["reports"] += 1
        if rejected:
            with self.store.session() as s:
                for ev, reason in rejected:
                    intake_state.reject(s, self.source, ev.key, reason)
                    # the operator's only view of why: `watch` and /api/stats give the count alone
                    log.warning("%s: rejected %s: %s", self.source, ev.key, reason)
            counts["rejected"] += len(rejected)
        return counts

    def _read(self, ev: Event, line: int, stream, profiles, rejected, counts) -> None:
        fmt = FORMATS.get(ev.fmt)
        if fmt is None:
            rejected.append((ev, f"no importer for format {ev.fmt!r}"))
            return
        ctx = self._context(ev.fmt)
        try:
            items = fmt.to_items(ev.payload, line, ctx)
        except RecordError as e:
            rejected.append((ev, str(e)))
            return
        except Exception as e:  # noqa: BLE001 - an importer's bug costs this event, not the stream
            log.exception("reading event %s failed", ev.key)
            rejected.append((ev, f"could not read it: {type(e).__name__}: {e}"))
            return
        found = [i for i in items if not isinstance(i, Reject)]
        rejected.extend((ev, r.reason) for r in items if isinstance(r, Reject))  # one bad post of a page
        if found:
            stream.extend(found)
            return
        if len(found) < len(items):
            return
        profile = _bluesky_profile(ev.payload, ctx) if ev.fmt == "bluesky" else None
        if profile is None:
            counts["dropped"] += 1  # not content: likes, follows, deletes, identity events ...
        elif isinstance(profile, str):
            rejected.append((ev, profile))
        else:
            profiles.append(profile)

    def _file(self, ev: Event) -> str | None:
        p = ev.payload
        try:
            self.store.transact(lambda s: reports.file_report(
                s, reporter=p["reporter"], reason=p["reason"], filed_by=self.source, item_id=p.get("item_id"),
                account_key=p.get("account"), text=p.get("text") or "", source=self.source,
                external_id=p.get("external_id")))
        except ReviewError as e:
            return f"report not filed: {e}"
        return None

    def rescore(self, limit: int) -> int:
        """Score fully up to `limit` items stored with the cheap stage's verdict; returns how many."""
        with self.store.session() as s:
            rows = [(d.id, d.item_id, d.format) for d in intake_state.deferred_batch(s, self.source, limit)]
            raws = intake_state.raw_records(s, [item_id for _, item_id, _ in rows])
        if not rows:
            return 0
        items: list[Item] = []
        for _, item_id, fmt_name in rows:
            fmt, raw = FORMATS.get(fmt_name), raws.get(item_id)
            if fmt is None or raw is None:
                continue  # nothing to read it again from: it keeps the cheap verdict
            try:
                found = fmt.to_items(raw, 0, self._context(fmt_name))
            except Exception:  # noqa: BLE001
                continue
            items.extend(i for i in found if not isinstance(i, Reject) and i.id == item_id)
        records = [item_record(x.item, x.identifiers, x.verdict) for x in score(items, self.detector)
                   if not isinstance(x, Reject)]
        for rec in records:
            rec.pop("source", None)
        self.store.transact(lambda s: (intake_state.rescored(s, records), intake_state.done_deferred(s, [r[0] for r in rows])))
        return len(rows)


def _bluesky_profile(event: Any, ctx: FileContext) -> dict[str, Any] | str | None:
    """A profile update as the account row it changes; None for anything else that is not content."""
    if not isinstance(event, dict) or event.get("kind") != "commit":
        return None
    commit = event.get("commit") or {}
    if commit.get("collection") != PROFILE or commit.get("operation") not in ("create", "update"):
        return None
    did, record = event.get("did"), commit.get("record")
    if not isinstance(did, str) or not isinstance(record, dict):
        return "Bluesky profile update without a DID or a record"
    handle = ctx.state.get("bluesky_handles", {}).get(did)
    row = {"author": f"bluesky:{(handle or did).lower()}", "platform": "bluesky",
           "account": {"handle": handle, "native_id": did, "display_name": record.get("displayName"),
                       "bio": record.get("description")}}
    for name in ("display_name", "bio"):
        value = row["account"][name]
        if value is not None and (not isinstance(value, str) or _text_problem(value)):
            return f"profile {name}: " + (_text_problem(value) if isinstance(value, str) else "not text")
    return row
