"""Tables of live intake: user reports and their reporters, retaliation flags, connector checkpoints,
rejected events and items waiting for their full scoring.

A reporter's identity (`reporters.key`) lives in this table only: reports point at it by number, and
nothing a reviewer, the reported account or a partner receives reads it (plugwatch.store.reports).
Retention replaces it by a keyed pseudonym once it is no longer needed (plugwatch.evidence.retention).
Reports point at their item, so erasing the item (store/erase.py) takes its reports along.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugwatch.store.schema import NEVER_REUSED, Base, utcnow

OUTCOMES = ("action_taken", "no_action")


class Reporter(Base):
    """Someone who reports: `platform:handle` (or a platform's id for them), their track record and
    whether they are a trusted flagger (DSA Art. 22) and under which public name. Once retention
    replaced the handle (`pseudonymised_at` set), `key` is `hmac-sha256:...` (a keyed pseudonym that
    recognises the person if they report again), `removed:ID` (no key was set) or `merged:ID` (the
    row's reports and record went to the row that already had the same pseudonym)."""

    __tablename__ = "reporters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    reports: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)  # reports that got a final decision
    actioned: Mapped[int] = mapped_column(Integer, default=0)  # ... that ended in an action
    trusted_flagger: Mapped[bool] = mapped_column(Boolean, default=False)
    trusted_name: Mapped[str | None] = mapped_column(String(500))  # the organisation's designated name
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    pseudonymised_at: Mapped[datetime | None] = mapped_column()


class UserReport(Base):
    __tablename__ = "user_reports"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_user_reports_source_external"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id"), index=True)
    item_id: Mapped[str | None] = mapped_column(ForeignKey("items.id"), index=True)  # null: waits for an item
    account_key: Mapped[str | None] = mapped_column(String(300), index=True)  # the reported account
    reason: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(80))  # api, or the connector's name
    external_id: Mapped[str | None] = mapped_column(String(200))  # the platform's report id
    filed_by: Mapped[str] = mapped_column(String(80))  # the user (machine) that sent it
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))  # OUTCOMES, once a final decision was taken
    outcome_at: Mapped[datetime | None] = mapped_column()
    feedback_sent_at: Mapped[datetime | None] = mapped_column()  # told through the platform
    feedback_error: Mapped[str | None] = mapped_column(Text)


class RetaliationFlag(Base):
    """A reported account posted about a reporter, or replied to them with threats, after the report."""

    __tablename__ = "retaliation_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)  # the retaliating post
    report_id: Mapped[int] = mapped_column(ForeignKey("user_reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # mention / reply
    threat_words: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntakeCheckpoint(Base):
    """One row per connector: where to resume, and what it has read, dropped and rejected."""

    __tablename__ = "intake_checkpoints"

    source: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    cursor: Mapped[str | None] = mapped_column(String(200))
    read: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    dropped: Mapped[int] = mapped_column(Integer, default=0)  # not content (likes, deletes ...), counted
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    reports: Mapped[int] = mapped_column(Integer, default=0)
    profiles: Mapped[int] = mapped_column(Integer, default=0)  # profile updates stored on accounts
    deferred: Mapped[int] = mapped_column(Integer, default=0)  # scored by the cheap stage only, so far
    reconnects: Mapped[int] = mapped_column(Integer, default=0)
    lag_seconds: Mapped[float | None] = mapped_column(Float)
    max_lag_seconds: Mapped[float | None] = mapped_column(Float)
    last_event_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntakeReject(Base):
    __tablename__ = "intake_rejects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(80), index=True)
    event_key: Mapped[str | None] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeferredScore(Base):
    """An item stored with the cheap stage's verdict while scoring was behind the stream; the full
    detector scores it again from the record as received (`items.raw`, read as `format`) when the
    stream slows down."""

    __tablename__ = "deferred_scores"
    __table_args__ = (Index("ix_deferred_scores_source_id", "source", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), unique=True)
    source: Mapped[str] = mapped_column(String(80))
    format: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
