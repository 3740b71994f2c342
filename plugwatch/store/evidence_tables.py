"""Tables of the evidence stage: frozen snapshots, their chain, legal holds, disclosure requests.

Snapshots keep no foreign key to items, decisions or accounts on purpose: evidence must outlive
the live data it was frozen from (an account deleted on request, an item removed by retention).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from plugwatch.store.schema import NEVER_REUSED, Base, utcnow

REQUEST_STATES = ("draft", "approved", "rejected", "exported")
HOLD_TARGETS = ("account", "item", "snapshot")


class ChainLink(Base):
    """One position in the snapshot chain. Holds digests only, so it stays when its snapshot is deleted."""

    __tablename__ = "evidence_chain"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(64))
    prev: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    snapshot_id: Mapped[int | None] = mapped_column(Integer)
    deleted_at: Mapped[datetime | None] = mapped_column()


class Snapshot(Base):
    __tablename__ = "snapshots"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    item_id: Mapped[str] = mapped_column(String(300), index=True)
    account_key: Mapped[str | None] = mapped_column(String(300), index=True)
    decision_id: Mapped[int | None] = mapped_column(Integer)
    item_class: Mapped[str] = mapped_column(String(30), index=True)  # the action that froze it
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    posted_at: Mapped[datetime | None] = mapped_column(index=True)  # the item's own time, for date-range scopes
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    manifest_digest: Mapped[str] = mapped_column(String(64))
    prev_digest: Mapped[str | None] = mapped_column(String(64))


class SnapshotFile(Base):
    __tablename__ = "snapshot_files"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class SnapshotIdentifier(Base):
    """The identifiers a frozen item held, so a request scoped by identifier finds its snapshots."""

    __tablename__ = "snapshot_identifiers"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True)
    type: Mapped[str] = mapped_column(String(20), primary_key=True)
    canonical: Mapped[str] = mapped_column(String(400), primary_key=True, index=True)


class DisclosureRequest(Base):
    __tablename__ = "disclosure_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency: Mapped[str] = mapped_column(String(300))
    legal_basis: Mapped[str] = mapped_column(String(300))
    reference: Mapped[str] = mapped_column(String(300))
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)  # accounts, identifiers, date_from, date_to
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency_reason: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(80))  # approved or rejected by
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str | None] = mapped_column(Text)
    exported_at: Mapped[datetime | None] = mapped_column()
    exports: Mapped[int] = mapped_column(Integer, default=0)


class CustodyEvent(Base):
    __tablename__ = "custody_events"
    __table_args__ = (UniqueConstraint("request_id", "seq", name="uq_custody_events_request_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("disclosure_requests.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    entry: Mapped[dict[str, Any]] = mapped_column(JSON)  # exactly the custody.jsonl line
    hash: Mapped[str] = mapped_column(String(64))


class LegalHold(Base):
    __tablename__ = "legal_holds"
    __table_args__ = (Index("ix_legal_holds_target", "target_type", "target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_type: Mapped[str] = mapped_column(String(20))  # account / item / snapshot
    target: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("disclosure_requests.id"))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(80))
    released_at: Mapped[datetime | None] = mapped_column()
