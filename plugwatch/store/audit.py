"""Append-only audit log, hash-chained, its head published outside the database.

Each entry's hash covers its own fields and the previous entry's hash, so changing any stored
entry breaks its own hash and removing one breaks the link (and leaves a gap in `seq`). Removing
the newest entries leaves a shorter chain that is valid on its own; the `audit_head` row, written in
the same transaction as every entry, records the newest seq and hash to catch that, and since
someone who can delete rows can move that row back too, every committed head is also appended to a
head log outside the database (plugwatch.store.audit_heads). `verify` compares the chain with the
newest head published for it: a chain that is shorter, or differs at that entry, is reported.

Limit: the head log is only as safe as the place it is kept (another host, an append-only file).
`plugwatch audit verify` prints the head; keeping it elsewhere too (a ticket, a signed e-mail) and
checking it later with `--expect-head SEQ:HASH` does not depend on that file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from plugwatch.store import audit_heads
from plugwatch.store.schema import AuditEntry, AuditHead, utcnow

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    kind: str  # changed / deleted / inserted / truncated
    message: str

    def __str__(self) -> str:
        return self.message


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="microseconds")


def entry_hash(seq: int, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any],
               prev_hash: str) -> str:
    body = json.dumps([seq, _stamp(at), actor, action, subject, details, prev_hash],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def lock_head(session: Session) -> AuditHead:
    """The head row, locked until commit so concurrent appends queue up (SQLite: BEGIN IMMEDIATE)."""
    # populate_existing: a head read earlier in this session without the lock may be stale by now
    stmt = select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        # The first entries of a new database: two transactions must not both create the head row.
        session.execute(insert(AuditHead).values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing())
        return session.scalars(stmt.with_for_update()).one()
    head = session.scalars(stmt).one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def append(session: Session, actor: str, action: str, subject: str, details: dict[str, Any] | None = None,
           at: datetime | None = None) -> AuditEntry:
    details = json.loads(json.dumps(details or {}, default=str))  # exactly what the JSON column gives back
    head = lock_head(session)
    audit_heads.note_append(session, head.seq)
    at = at or utcnow()
    seq = head.seq + 1
    digest = entry_hash(seq, at, actor, action, subject, details, head.hash)
    entry = AuditEntry(seq=seq, at=at, actor=actor, action=action, subject=subject, details=details,
                       prev_hash=head.hash, hash=digest)
    session.add(entry)
    head.seq, head.hash = seq, digest
    session.flush()
    return entry


def append_many(session: Session, actor: str, entries: list[tuple[str, str, dict[str, Any]]],
                at: datetime | None = None) -> None:
    """Append (action, subject, details) entries in this order, the chain as `append` one at a time
    would make it, in one statement: a retention batch writes hundreds, and a round trip and flush for
    each was most of its time."""
    if not entries:
        return
    head = lock_head(session)
    audit_heads.note_append(session, head.seq)
    at = at or utcnow()
    seq, prev, rows = head.seq, head.hash, []
    for action, subject, details in entries:
        details = json.loads(json.dumps(details or {}, default=str))
        seq += 1
        digest = entry_hash(seq, at, actor, action, subject, details, prev)
        rows.append({"seq": seq, "at": at, "actor": actor, "action": action, "subject": subject,
                     "details": details, "prev_hash": prev, "hash": digest})
        prev = digest
    session.execute(insert(AuditEntry), rows)
    head.seq, head.hash = seq, prev
    session.flush()


def head(session: Session) -> tuple[int, str]:
    row = session.get(AuditHead, 1)
    return (row.seq, row.hash) if row else (0, GENESIS)


def verify(session: Session, expect_head: tuple[int, str] | None = None,
           published: bool | Path = True) -> AuditProblem | None:
    """The first problem in the chain, or None when every entry is intact. published=True (the
    default) also compares it with the newest head published in the head log (a Path: that log;
    False: the chain on its own, e.g. to look at a copy of the database)."""
    prev_hash, expected_seq = GENESIS, 1
    wanted = {expect_head[0]} if expect_head else set()
    log = None
    genesis: str | None = None
    if published:
        first = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == 1))
        path = published if isinstance(published, Path) else audit_heads.head_log_path()
        log = audit_heads.read(path, first, audit_heads.database_name(session))
        if log.newest is not None:
            wanted.add(log.newest.seq)
    hashes: dict[int, str] = {}
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000):
        if e.seq > expected_seq:
            missing = f"{expected_seq}" if e.seq == expected_seq + 1 else f"{expected_seq}-{e.seq - 1}"
            return AuditProblem(expected_seq, "deleted", f"audit entry {missing} deleted (next present is {e.seq})")
        if e.seq < expected_seq:
            return AuditProblem(e.seq, "inserted", f"audit entry {e.seq} out of sequence")
        actual = entry_hash(e.seq, e.at, e.actor, e.action, e.subject, e.details, e.prev_hash)
        if actual != e.hash:
            return AuditProblem(e.seq, "changed", f"audit entry {e.seq} changed: its content does not match its hash")
        if e.prev_hash != prev_hash:
            # Its own hash is consistent, so it was re-hashed after the entry before it changed or went.
            return AuditProblem(e.seq, "changed",
                                f"audit entry {e.seq} does not link to entry {e.seq - 1}: the chain was rewritten here")
        if e.seq in wanted:
            hashes[e.seq] = e.hash
        genesis = genesis or e.hash
        prev_hash, expected_seq = e.hash, e.seq + 1
    last = expected_seq - 1
    head_seq, head_hash = head(session)
    if head_seq > last:
        missing = f"{last + 1}" if head_seq == last + 1 else f"{last + 1}-{head_seq}"
        return AuditProblem(last + 1, "deleted", f"audit entry {missing} deleted (the log ends at {last}, "
                                                 f"its head says {head_seq})")
    if head_seq != last or head_hash != prev_hash:
        return AuditProblem(last, "changed", f"audit head does not match entry {last}: the log or its head was changed")
    if expect_head is not None:
        seq, digest = expect_head
        if seq > last:
            return AuditProblem(seq, "deleted", f"audit entry {seq} (the expected head) is missing: the log ends at {last}")
        if hashes.get(seq) != digest:
            return AuditProblem(seq, "changed", f"audit entry {seq} does not have the expected hash {digest[:16]}…: "
                                                "the log was rewritten")
    if log is not None:
        return _against_published(log, last, hashes, genesis)
    return None


def _against_published(log: audit_heads.HeadLog, last: int, hashes: dict[int, str],
                       genesis: str | None) -> AuditProblem | None:
    if log.damaged:
        return AuditProblem(last, "changed", f"the audit head log {log.path} is damaged at {log.damaged}: "
                                             "it can no longer vouch for the log's length")
    top = log.newest
    if top is None:
        if log.other_chain_at is not None:
            what = "is empty" if genesis is None else "starts with a different entry 1"
            return AuditProblem(1, "changed", f"the audit log {what} than the one whose head was published for this "
                                              f"database in {log.path} (last on {log.other_chain_at}): it was "
                                              "deleted or replaced (if the database was re-created on purpose, "
                                              "move that file aside)")
        return None
    where = f"published in {log.path} on {top.at} (line {top.line})"
    if top.seq > last:
        missing = f"{last + 1}" if top.seq == last + 1 else f"{last + 1}-{top.seq}"
        return AuditProblem(last + 1, "deleted", f"audit entry {missing} deleted: the log ends at {last}, but its "
                                                 f"head {top.seq}:{top.hash[:16]}… was {where}")
    if hashes.get(top.seq) != top.hash:
        return AuditProblem(top.seq, "changed", f"audit entry {top.seq} differs from the head {where}: the log "
                                                "was rewritten from there or before")
    return None
