"""Freeze an item as evidence: what was received, what plugwatch made of it, why it was actioned.

A snapshot holds raw.json (the record as received), item.json (the normalised scan record),
verdict.json (score and reasons), decision.json (who decided what, under which policy),
account.json and network.json (the author and linked accounts at that moment) and media/* (files
found locally), each with its SHA-256 in a manifest chained to the previous snapshot's manifest.

Which decisions freeze: remove, warn, suspend and refer act against a person and may be
challenged (appeal, court), so what they rested on is kept as it was. Dismiss keeps nothing (least
data). Escalate hands the item to a lead whose final decision freezes it; freezing both would keep
two copies of the same evidence.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from plugwatch.actions import names_where
from plugwatch.detect.tactics import techniques_for_record
from plugwatch.evidence.canon import pretty_json
from plugwatch.evidence.chain import manifest_digest, snapshot_manifest
from plugwatch.store import audit
from plugwatch.store.evidence_tables import ChainLink, Snapshot, SnapshotFile, SnapshotIdentifier
from plugwatch.store.schema import Decision, Item, User, utcnow

FREEZE_ACTIONS = frozenset(names_where("freezes_evidence"))
# Snapshots frozen for legal process, not for a moderation decision: a disclosure to law enforcement and a
# legal hold. That they exist may be under a non-disclosure order: a subject-access export leaves them out.
DISCLOSURE_CLASS, HOLD_CLASS = "disclosure", "hold"
LEGAL_PROCESS_CLASSES = frozenset({DISCLOSURE_CLASS, HOLD_CLASS})
MEDIA_ENV = "PLUGWATCH_MEDIA_DIR"
MAX_MEDIA_BYTES = 100 * 1024 * 1024
_CHAIN_LOCK = 0x706C7577  # "pluw": one advisory lock id for the chain head on PostgreSQL


class EvidenceError(Exception):
    """A request plugwatch cannot carry out (unknown item, ...): shown as one line."""


class NotFound(EvidenceError):
    """What the request names does not exist (no such item, request, hold, snapshot or account)."""


class TamperedEvidence(EvidenceError):
    """Stored evidence fails its integrity check: `problems` lists (where, what) for each failure."""

    def __init__(self, problems: list[tuple[str, str]], what: str = "stored evidence fails its integrity check"):
        self.problems, self.what = problems, what
        super().__init__(f"{what}: " + "; ".join(f"{where}: {why}" for where, why in problems))


def on_decision(session: Session, decision: Decision) -> None:
    """After-decision hook (wired in plugwatch.wiring): runs in the deciding transaction."""
    if decision.action in FREEZE_ACTIONS:
        freeze(session, decision.item_id, item_class=decision.action, decision=decision, now=decision.created_at)


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _media_roots(item: Item) -> list[Path]:
    roots = []
    if os.environ.get(MEDIA_ENV):
        roots.append(Path(os.environ[MEDIA_ENV]).expanduser())
    source = (item.record or {}).get("source") or {}
    if isinstance(source, dict) and isinstance(source.get("path"), str) and source["path"] not in ("-", ""):
        roots.append(Path(source["path"]).expanduser().parent)  # a Telegram export keeps photos/ beside result.json
    return [r.resolve() for r in roots if r.is_dir()]


def _media_candidates(raw: Any) -> list[str]:
    """File references in a raw record: Telegram's photo/file/thumbnail, or media[].path/file/name."""
    found: list[str] = []
    if not isinstance(raw, dict):
        return found
    for key in ("photo", "file", "thumbnail"):
        if isinstance(raw.get(key), str):
            found.append(raw[key])
    for m in raw.get("media") or ():
        if isinstance(m, dict):
            for key in ("path", "file", "name"):
                if isinstance(m.get(key), str):
                    found.append(m[key])
    return found


def _media_files(item: Item) -> dict[str, bytes]:
    """Media the raw record points at and that exists locally, inside an allowed folder only: a
    record is untrusted input and must not make plugwatch copy /etc/passwd into evidence."""
    roots = _media_roots(item)
    files: dict[str, bytes] = {}
    if not roots:
        return files
    for ref in _media_candidates(item.raw):
        if "://" in ref or ref.startswith("(File "):
            continue
        for root in roots:
            path = (root / ref).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                continue
            if path.stat().st_size > MAX_MEDIA_BYTES:
                break
            name = f"media/{path.name}"
            n = 2
            while name in files:
                name, n = f"media/{n}-{path.name}", n + 1
            files[name] = path.read_bytes()
            break
    return files


def _lock_chain(session: Session) -> ChainLink | None:
    """The current chain head, with concurrent freezers queued behind this transaction. The audit
    head is locked first: a decision's freeze runs after the decision's audit entry, so every
    transaction must take the two in that order or two of them can deadlock."""
    audit.lock_head(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK})
    # SQLite: every transaction is BEGIN IMMEDIATE (plugwatch.store), so it is already serialised.
    return session.scalars(select(ChainLink).order_by(ChainLink.seq.desc()).limit(1)).first()


def _decision_view(session: Session, decision: Decision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    reviewer = session.get(User, decision.reviewer_id)
    item = session.get(Item, decision.item_id)
    return {"id": decision.id, "action": decision.action, "policy_reason": decision.policy_reason,
            "note": decision.note, "actor": reviewer.name if reviewer else None,
            "at": _iso(decision.created_at),
            "tactics": techniques_for_record(item.record or {}) if item is not None else []}


def snapshot_files(session: Session, item: Item, decision: Decision | None, now: datetime) -> dict[str, bytes]:
    from plugwatch.store.review import item_view

    view = item_view(session, item.id, now=now)
    record = item.record or {}
    files: dict[str, bytes] = {}
    if item.raw is not None:
        files["raw.json"] = pretty_json(item.raw)
    files["item.json"] = pretty_json(record)
    files["verdict.json"] = pretty_json({
        "score": item.score, "flagged": item.flagged, "kind": item.offer_kind, "drugs": item.drugs,
        "reasons": item.reasons, "model_only": bool(record.get("model_only")),
    })
    files["decision.json"] = pretty_json({"decision": _decision_view(session, decision),
                                          "history": view.get("decisions", []),
                                          "appeals": view.get("appeals", [])})
    files["account.json"] = pretty_json(view.get("account"))
    account = view.get("account") or {}
    files["network.json"] = pretty_json({"account": item.account_key, "network_id": account.get("network_id"),
                                         "members": view.get("network", [])})
    files.update(_media_files(item))
    return files


def freeze(session: Session, item_id: str, *, item_class: str, decision: Decision | None = None,
           actor: str | None = None, now: datetime | None = None) -> Snapshot:
    """Freeze `item_id` now and append it to the chain; audited. Runs inside the caller's transaction."""
    now = now or utcnow()
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"no item {item_id!r} to freeze")
    files = snapshot_files(session, item, decision, now)
    head = _lock_chain(session)
    seq = head.seq + 1 if head else 1
    prev = head.digest if head else None
    decision_info = _decision_view(session, decision)
    manifest = snapshot_manifest(snapshot_id=str(seq), seq=seq, created_at=now.isoformat(), item_id=item.id,
                                 account=item.account_key, item_class=item_class, decision=decision_info,
                                 files=files, prev_digest=prev)
    digest = manifest_digest(manifest)
    snap = Snapshot(id=seq, seq=seq, item_id=item.id, account_key=item.account_key,
                    decision_id=decision.id if decision else None, item_class=item_class, created_at=now,
                    posted_at=item.created_at, manifest=manifest, manifest_digest=digest, prev_digest=prev)
    session.add(snap)
    session.add(ChainLink(seq=seq, digest=digest, prev=prev, created_at=now, snapshot_id=seq))
    session.flush()
    for name, data in files.items():
        meta = manifest["files"][name]
        session.add(SnapshotFile(snapshot_id=seq, name=name, sha256=meta["sha256"], size=meta["size"], content=data))
    idents = {(i.get("type"), i.get("canonical")) for i in item.identifiers or []
              if isinstance(i, dict) and i.get("type") and i.get("canonical")}
    for t, c in sorted(idents):
        session.add(SnapshotIdentifier(snapshot_id=seq, type=t[:20], canonical=c[:400]))
    who = actor or (decision_info or {}).get("actor") or "system"
    audit.append(session, who, "evidence.freeze", f"item:{item.id}",
                 {"snapshot": seq, "item_class": item_class, "manifest_digest": digest,
                  "decision": decision.id if decision else None, "files": len(files)}, at=now)
    session.flush()
    return snap


def _stored_bytes(content: Any) -> bytes | None:
    """A stored file's content as bytes; None when the column holds something else (on SQLite a hand
    edit such as `replace(content, 'a', 'b')` turns the BLOB into TEXT): that file was tampered with."""
    if isinstance(content, bytes):
        return content
    if isinstance(content, bytearray | memoryview):
        return bytes(content)
    return None


def _wrong_type(content: Any) -> str:
    kind = "TEXT" if isinstance(content, str) else type(content).__name__
    return f"stored content is {kind}, not bytes: it was changed outside plugwatch"


def _read_files(session: Session, snapshot_id: int) -> tuple[dict[str, bytes], dict[str, str], list[tuple[str, str]]]:
    """A snapshot's stored files, their recorded SHA-256s, and a problem for each whose content is not bytes."""
    files: dict[str, bytes] = {}
    recorded: dict[str, str] = {}
    unreadable: list[tuple[str, str]] = []
    for f in session.scalars(select(SnapshotFile).where(SnapshotFile.snapshot_id == snapshot_id)):
        data = _stored_bytes(f.content)
        if data is None:
            unreadable.append((f"snapshot {snapshot_id}/{f.name}", _wrong_type(f.content)))
        else:
            files[f.name], recorded[f.name] = data, f.sha256
    return files, recorded, unreadable


def load_files(session: Session, snapshot_id: int) -> dict[str, bytes]:
    """The stored files of a snapshot; TamperedEvidence names any whose content is not bytes."""
    files, _, unreadable = _read_files(session, snapshot_id)
    if unreadable:
        raise TamperedEvidence(unreadable, f"snapshot {snapshot_id} fails its integrity check")
    return files


def snapshot_problems(session: Session, snap: Snapshot, link: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Problems of one stored snapshot: its manifest against its digest, its place in the chain (`link`,
    the chain link at its seq, None when there is none), and every stored file against the manifest and
    its recorded SHA-256. Content of the wrong type is reported, never raised."""
    return checked_files(session, snap, link)[0]


def checked_files(session: Session, snap: Snapshot,
                  link: dict[str, Any] | None) -> tuple[list[tuple[str, str]], dict[str, bytes]]:
    """`snapshot_problems` and the files it read (an export packs what it checked, read once)."""
    from plugwatch.evidence.canon import sha256_hex
    from plugwatch.evidence.chain import check_files

    where = f"snapshot {snap.id}"
    problems: list[tuple[str, str]] = []
    if manifest_digest(snap.manifest) != snap.manifest_digest:
        problems.append((where, "manifest changed: its digest no longer matches"))
    if link is None or link["digest"] != snap.manifest_digest:
        problems.append((where, "not in the chain at its position"))
    files, recorded, unreadable = _read_files(session, snap.id)
    stored = [(f"{where}/{name}", "content differs from its recorded SHA-256")
              for name, data in files.items() if sha256_hex(data) != recorded[name]]
    named = {w for w, _ in unreadable}  # a file of the wrong type is named once, not also as missing
    problems += [p for p in check_files(snap.manifest, files, where) if p[0] not in named]
    return problems + unreadable + stored, files


def check_store_chain(session: Session) -> list[tuple[str, str]]:
    """Problems in the stored chain and in the snapshots still present (manifest vs. files vs. chain)."""
    from plugwatch.evidence.chain import check_links

    problems: list[tuple[str, str]] = []
    links = [{"seq": link.seq, "digest": link.digest, "prev": link.prev}
             for link in session.scalars(select(ChainLink).order_by(ChainLink.seq))]
    if links and links[0]["seq"] != 1:
        problems.append(("chain", f"starts at seq {links[0]['seq']}: earlier links were removed"))
    if links and links[0]["seq"] == 1 and links[0]["prev"] is not None:
        problems.append(("chain seq 1", "points at a manifest before the first"))
    problems += check_links(links)
    by_seq = {link["seq"]: link for link in links}
    for snap in session.scalars(select(Snapshot).order_by(Snapshot.seq)):
        problems += snapshot_problems(session, snap, by_seq.get(snap.seq))
    count = session.scalar(select(func.count()).select_from(ChainLink)) or 0
    if links and count != links[-1]["seq"] - links[0]["seq"] + 1:
        problems.append(("chain", "links are missing"))
    return problems


def delete_snapshots(session: Session, doomed: list[tuple[Snapshot, str]], actor: str,
                     now: datetime | None = None) -> None:
    """Delete snapshots, each with its reason, and their files; their chain links stay (digests only),
    marked deleted. One audit entry each (evidence.delete), in the order given, written together: a
    retention batch or a subject's deletion may take hundreds, and appending them one at a time was a
    head lock, insert and flush each."""
    from sqlalchemy import delete, update

    now = now or utcnow()
    for i in range(0, len(doomed), 500):  # IN lists of at most 500, as elsewhere
        snaps = [snap for snap, _ in doomed[i:i + 500]]
        ids = [snap.id for snap in snaps]
        session.execute(delete(SnapshotFile).where(SnapshotFile.snapshot_id.in_(ids)))
        session.execute(delete(SnapshotIdentifier).where(SnapshotIdentifier.snapshot_id.in_(ids)))
        session.execute(update(ChainLink).where(ChainLink.seq.in_([snap.seq for snap in snaps])).values(deleted_at=now)
                        .execution_options(synchronize_session=False))
    audit.append_many(session, actor, [("evidence.delete", f"snapshot:{snap.id}",
                                        {"item": snap.item_id, "item_class": snap.item_class, "reason": reason,
                                         "manifest_digest": snap.manifest_digest}) for snap, reason in doomed], at=now)
    for snap, _ in doomed:
        session.delete(snap)
    session.flush()
