"""The audit head, published outside the database after commits, so a cut-back log is caught.

Deleting the newest audit entries and moving the `audit_head` row back leaves a chain that is valid
on its own. So every transaction that appends entries also appends the new head to a head log, a
file outside the database (`$PLUGWATCH_AUDIT_HEAD_LOG`, else `audit-heads.jsonl` in the key folder,
see plugwatch.keyfiles), once the commit has succeeded: a rolled-back entry is never
published. `audit verify` compares the database's chain with the newest head published for it.

One line per publication:
    {"at": ..., "database": "<URL or file>", "chain": "<hash of entry 1>", "seq": N, "hash": "<hash of entry N>"}
`chain` tells the chains of several databases apart (one key folder may serve several); `database`
names where it was. With $PLUGWATCH_AUDIT_HEAD_EVERY=N (default 1) a head is published only when the
log passes a multiple of N entries: fewer lines, but up to N-1 newest entries may go unnoticed.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import URL, event, select
from sqlalchemy.orm import Session

from plugwatch.errors import UserError
from plugwatch.keyfiles import key_dir, make_private_dir
from plugwatch.store.schema import AuditEntry, AuditHead

HEAD_LOG_ENV = "PLUGWATCH_AUDIT_HEAD_LOG"
EVERY_ENV = "PLUGWATCH_AUDIT_HEAD_EVERY"
HEAD_LOG_NAME = "audit-heads.jsonl"
_STARTED = "plugwatch.audit.seq_before"  # session.info: the head's seq before this transaction appended
_READY = "plugwatch.audit.publish"  # session.info: the line to write once the commit succeeded
log = logging.getLogger("plugwatch.audit")


def head_log_path() -> Path:
    where = os.environ.get(HEAD_LOG_ENV)
    return Path(where).expanduser() if where else key_dir() / HEAD_LOG_NAME


def every() -> int:
    raw = os.environ.get(EVERY_ENV, "1")
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        log.warning("%s=%r is not a whole number of 1 or more: publishing every head", EVERY_ENV, raw)
        return 1
    return n


def database_name(session: Session) -> str:
    """Where the database is: its URL without the password (a SQLite file as its absolute path)."""
    url = session.get_bind().url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return str(Path(url.database).expanduser().resolve())
    bare = URL.create(url.drivername, url.username, None, url.host, url.port, url.database, url.query)
    return bare.render_as_string(hide_password=False)


# -------------------------------------------------------------------------------------- publishing


def note_append(session: Session, seq_before: int) -> None:
    """Called by audit.append: this transaction adds entries after `seq_before`."""
    session.info.setdefault(_STARTED, seq_before)


@event.listens_for(Session, "before_commit")
def _prepare(session: Session) -> None:
    if _STARTED not in session.info:
        return
    before = session.info.pop(_STARTED)
    session.flush()  # as the commit would; its errors are the commit's
    try:
        _ready(session, before)
    except Exception as e:  # noqa: BLE001 - publishing must never stop the commit it follows
        log.warning("could not prepare the audit head for publication (%s)", e)


def _ready(session: Session, before: int) -> None:
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1)
                           .execution_options(populate_existing=True)).one_or_none()
    if head is None or head.seq <= before:
        return  # the entries were in a savepoint that was rolled back
    n = every()
    if before // n == head.seq // n and before != 0:
        return
    chain = head.hash if head.seq == 1 else session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == 1))
    session.info[_READY] = {"at": datetime.now(UTC).isoformat(timespec="seconds"),
                            "database": database_name(session), "chain": chain, "seq": head.seq,
                            "hash": head.hash}


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    line = session.info.pop(_READY, None)
    if line is not None:
        publish(line)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_STARTED, None)
    session.info.pop(_READY, None)


def publish(line: dict, path: Path | None = None) -> None:
    """Append one head to the log. The commit has happened: a failure here cannot undo it, so it
    is reported (the next publication covers this head too) rather than raised."""
    path = path or head_log_path()
    data = (json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n").encode()
    try:
        make_private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, data)  # one write with O_APPEND: lines of concurrent writers never mix
        finally:
            os.close(fd)
    except Exception as e:  # noqa: BLE001 - whatever stops the write, the commit stands
        log.warning("could not publish audit head %s:%s to %s (%s); a cut-back audit log may go unnoticed "
                    "until the next head is published", line.get("seq"), line.get("hash"), path, e)


# --------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Published:
    seq: int
    hash: str
    at: str
    line: int


@dataclass
class HeadLog:
    path: Path
    newest: Published | None = None  # the newest head published for this chain
    other_chain_at: str | None = None  # when a head of another chain was published for this database
    damaged: str | None = None  # the first line that is not a published head


def read(path: Path, chain: str | None, database: str) -> HeadLog:
    """The newest head published for `chain` in `path` (and whether another chain was published for
    the same database). A missing file is an empty log."""
    result = HeadLog(path)
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return result
    except OSError as e:  # a folder, a file on the way, no permission: the check cannot be made
        raise UserError(f"cannot read the audit head log {path} ({e.strerror}): set {HEAD_LOG_ENV} to the head "
                        "log, or to /dev/null to check the log on its own") from None
    with fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
                seq, digest, line_chain = int(line["seq"]), str(line["hash"]), line.get("chain")
            except (ValueError, KeyError, TypeError):
                result.damaged = result.damaged or f"line {n}"
                continue
            if line_chain == chain and chain is not None:
                if result.newest is None or seq > result.newest.seq:
                    result.newest = Published(seq, digest, str(line.get("at")), n)
            elif line.get("database") == database:
                result.other_chain_at = str(line.get("at"))
    return result
