"""Tables of signal sharing: partners, the watch list of their indicators, what we exported, feedback
opinions, and the TAXII collections.

Secrets: a partner's TAXII secret is kept only as its SHA-256 (it is a random 256-bit token). The
per-partner hashing salt is not kept in the database at all: `salt_path` names a file readable by the
service user only, and `salt_id` fingerprints it, so a copy of the database cannot be used to test
guesses against the partner's hashed indicators.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugwatch.store.schema import NEVER_REUSED, Base, utcnow

TRUST_LEVELS = ("auto", "notify-only")
OVERRIDES = ("none", "disabled", "allowed")  # disabled: ignore the entry; allowed: allow-listed, never matches


class Partner(Base):
    __tablename__ = "share_partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    trust: Mapped[str] = mapped_column(String(20), default="notify-only")
    salt_path: Mapped[str | None] = mapped_column(Text)
    salt_id: Mapped[str | None] = mapped_column(String(16))
    secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WatchEntry(Base):
    """One partner indicator: an identifier in the clear (`value`, canonical form) or as a salted hash."""

    __tablename__ = "watch_entries"
    __table_args__ = (
        UniqueConstraint("partner_id", "indicator_id", name="uq_watch_entries_partner_indicator"),
        Index("ix_watch_entries_type_value", "identifier_type", "value"),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("share_partners.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[str] = mapped_column(String(120))
    indicator_modified: Mapped[str | None] = mapped_column(String(40))
    identifier_type: Mapped[str] = mapped_column(String(20))
    value: Mapped[str | None] = mapped_column(String(400))
    value_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    salt_id: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[int | None] = mapped_column(Integer)
    drugs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    tactics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    platforms: Mapped[list[Any]] = mapped_column(JSON, default=list)
    tlp: Mapped[str | None] = mapped_column(String(20))
    first_seen: Mapped[datetime | None] = mapped_column()
    last_seen: Mapped[datetime | None] = mapped_column()
    valid_until: Mapped[datetime | None] = mapped_column(index=True)
    override: Mapped[str] = mapped_column(String(20), default="none")
    override_note: Mapped[str] = mapped_column(Text, default="")
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def hashed(self) -> bool:
        return self.value_hash is not None


class WatchMatch(Base):
    __tablename__ = "watch_matches"
    __table_args__ = (UniqueConstraint("entry_id", "item_id", name="uq_watch_matches_entry_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("watch_entries.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    identifier_type: Mapped[str] = mapped_column(String(20))
    queued: Mapped[bool] = mapped_column(Boolean, default=False)
    matched_at: Mapped[datetime] = mapped_column(default=utcnow)


class SharedIndicator(Base):
    """What we exported: lets a partner's opinion on an indicator id find our identifier again."""

    __tablename__ = "shared_indicators"
    __table_args__ = (UniqueConstraint("indicator_id", "partner_name", name="uq_shared_indicators_id_partner"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(120), index=True)
    partner_name: Mapped[str] = mapped_column(String(80), default="")  # "" for a clear-text export
    identifier_id: Mapped[int | None] = mapped_column(ForeignKey("identifiers.id"))
    identifier_type: Mapped[str] = mapped_column(String(20))
    hashed: Mapped[bool] = mapped_column(Boolean, default=False)
    tlp: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[int | None] = mapped_column(Integer)
    first_exported: Mapped[datetime] = mapped_column(default=utcnow)
    last_exported: Mapped[datetime] = mapped_column(default=utcnow)


class ShareOpinion(Base):
    """Feedback on an indicator, as a STIX opinion: sent by us (out) or received from a partner (in)."""

    __tablename__ = "share_opinions"
    __table_args__ = (UniqueConstraint("stix_id", "direction", name="uq_share_opinions_stix_direction"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stix_id: Mapped[str] = mapped_column(String(160))
    direction: Mapped[str] = mapped_column(String(3))  # in / out
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("share_partners.id", ondelete="SET NULL"))
    indicator_id: Mapped[str] = mapped_column(String(120), index=True)
    opinion: Mapped[str] = mapped_column(String(30))
    explanation: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class TaxiiCollection(Base):
    __tablename__ = "taxii_collections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID, as TAXII wants
    alias: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaxiiAccess(Base):
    __tablename__ = "taxii_access"

    collection_id: Mapped[str] = mapped_column(ForeignKey("taxii_collections.id", ondelete="CASCADE"),
                                               primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("share_partners.id", ondelete="CASCADE"), primary_key=True)
    can_read: Mapped[bool] = mapped_column(Boolean, default=False)
    can_write: Mapped[bool] = mapped_column(Boolean, default=False)


class TaxiiObject(Base):
    __tablename__ = "taxii_objects"
    __table_args__ = (
        UniqueConstraint("collection_id", "stix_id", "version", name="uq_taxii_objects_version"),
        Index("ix_taxii_objects_collection_added", "collection_id", "date_added"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[str] = mapped_column(ForeignKey("taxii_collections.id", ondelete="CASCADE"))
    stix_id: Mapped[str] = mapped_column(String(120), index=True)
    stix_type: Mapped[str] = mapped_column(String(60))
    version: Mapped[str] = mapped_column(String(40))  # `modified`, else `created`, else date_added
    spec_version: Mapped[str] = mapped_column(String(10), default="2.1")
    date_added: Mapped[datetime] = mapped_column()
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class TaxiiStatus(Base):
    __tablename__ = "taxii_status"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    collection_id: Mapped[str] = mapped_column(ForeignKey("taxii_collections.id", ondelete="CASCADE"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("share_partners.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20))  # complete / pending
    request_timestamp: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)  # successes / failures / pendings lists
