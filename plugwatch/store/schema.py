"""Tables of the review service. Portable types only: the same models and migrations run on an
embedded SQLite file and on PostgreSQL. Every timestamp is stored and returned as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from plugwatch.actions import ACTION_NAMES, ADMIN, INGEST, LEAD, LEGAL, REVIEWER

ROLES = (REVIEWER, LEAD, ADMIN, LEGAL)
# Machines: an `ingest` token may only send items in. It cannot sign in to the web pages.
MACHINE_ROLES = (INGEST,)
ALL_ROLES = ROLES + MACHINE_ROLES
ACTIONS = ACTION_NAMES
TASK_STATES = ("pending", "claimed", "decided", "escalated", "appealed")
APPEAL_STATES = ("open", "upheld", "overturned")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """DateTime(timezone=True) that always hands back aware UTC (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Tables whose ids are named outside their row (audit entries, notices, webhooks and platform
# idempotency keys, DSA statements, holds, custody logs) and whose rows can be deleted (erasure,
# retention, a revoked indicator): on SQLite, AUTOINCREMENT so a deleted row's id is never given
# to a new row (without it SQLite hands out max(rowid) + 1, the newest deleted id again). PostgreSQL
# sequences never go back; the option is SQLite's only. Migration 0011 made the existing tables so.
NEVER_REUSED = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column()  # None: never (tokens issued before 0010)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSession(Base):
    """A signed-in browser. The cookie carries a random session id; only its SHA-256 is kept, so a
    copy of the database holds no usable session. Deleting the row signs the browser out at once."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Account(Base):
    __tablename__ = "accounts"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # platform:handle
    platform: Mapped[str] = mapped_column(String(40))
    handle: Mapped[str | None] = mapped_column(String(200))
    native_id: Mapped[str | None] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(Text)
    bio: Mapped[str | None] = mapped_column(Text)
    followers: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime | None] = mapped_column()  # on the platform
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    network_id: Mapped[str | None] = mapped_column(String(100), index=True)
    suspended_at: Mapped[datetime | None] = mapped_column()


class Item(Base):
    __tablename__ = "items"

    id: Mapped[str] = mapped_column(String(300), primary_key=True)  # platform:native_id
    platform: Mapped[str] = mapped_column(String(40))
    account_key: Mapped[str | None] = mapped_column(ForeignKey("accounts.key"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # post, comment, reply, ...
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    reply_to: Mapped[str | None] = mapped_column(String(300), index=True)
    created_at: Mapped[datetime | None] = mapped_column()  # on the platform
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    score: Mapped[float | None] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    offer_kind: Mapped[str | None] = mapped_column(String(20))  # offer / request
    drugs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    identifiers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)  # the scan record
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the record as received
    reach: Mapped[int | None] = mapped_column(Integer)


class Identifier(Base):
    __tablename__ = "identifiers"
    __table_args__ = (UniqueConstraint("type", "canonical", name="uq_identifiers_type_canonical"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(20))
    canonical: Mapped[str] = mapped_column(String(400))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class ItemIdentifier(Base):
    __tablename__ = "item_identifiers"

    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    identifier_id: Mapped[int] = mapped_column(ForeignKey("identifiers.id"), primary_key=True, index=True)


class AccountIdentifier(Base):
    __tablename__ = "account_identifiers"

    account_key: Mapped[str] = mapped_column(ForeignKey("accounts.key", ondelete="CASCADE"), primary_key=True)
    identifier_id: Mapped[int] = mapped_column(ForeignKey("identifiers.id"), primary_key=True, index=True)
    # The account posted it in a way that ties the identifier to them (an offer's contact, not a buyer
    # naming a seller or an @reply), so it may join seller networks: see plugwatch.store.linking.
    links: Mapped[bool] = mapped_column(Boolean, default=False)


class ReviewTask(Base):
    __tablename__ = "review_tasks"
    __table_args__ = (Index("ix_review_tasks_state_priority", "state", "priority"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), unique=True)
    group_key: Mapped[str] = mapped_column(String(300), index=True)  # network id, else account key
    # Ordering key: higher first. It already contains the waiting time (see review.priority_key).
    priority: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    # What the task goes back to when a claim is released or runs out: pending, escalated or appealed.
    open_state: Mapped[str] = mapped_column(String(20), default="pending")
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column()
    claimed_until: Mapped[datetime | None] = mapped_column()
    required_role: Mapped[str | None] = mapped_column(String(20))  # lead: routed, escalated or appealed to leads
    # The role the routing (a policy rule, `queue: leads`) gave the task when it was queued. Kept as it
    # was when required_role changes, so the task's appeals need that role too (review/appeals.py).
    routed_role: Mapped[str | None] = mapped_column(String(20))
    routed_by: Mapped[str | None] = mapped_column(String(80))  # the rule that did, to tell a refused reviewer
    excluded_reviewer: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # appeals: not the first one
    # A policy rule asked for two independent reviewers (plugwatch.rules `require_two_reviewers`): the first
    # reviewer's decision is an opinion (ReviewOpinion) and `first_opinion_by` says whose.
    two_reviewers: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    first_opinion_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    reopened_at: Mapped[datetime | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column(index=True)


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("review_tasks.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))
    policy_reason: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    handling_seconds: Mapped[float | None] = mapped_column(Float)  # from the claim to this decision
    waiting_seconds: Mapped[float | None] = mapped_column(Float)  # from entering (or re-entering) the queue
    # The appeal this decision answered. No foreign key: appeals point at decisions already.
    appeal_id: Mapped[int | None] = mapped_column(Integer, index=True)


class ReviewOpinion(Base):
    """A reviewer's decision on a two-reviewer task that is not (yet) final: the first opinion, or a
    second that disagreed with it (then the task went to a lead). Nothing follows from an opinion: no
    strike, evidence freeze, platform effect or notice (those follow the final Decision only)."""

    __tablename__ = "review_opinions"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("review_tasks.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))
    policy_reason: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Strike(Base):
    __tablename__ = "strikes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_key: Mapped[str] = mapped_column(ForeignKey("accounts.key"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()  # an upheld appeal against it


class Appeal(Base):
    __tablename__ = "appeals"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    filed_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()


class AuditEntry(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(400))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last entry's seq and hash, so deleting the newest entries is detected too."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
