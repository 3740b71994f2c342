"""Tables of acting on platforms: the transactional outbox of effects, notices, statements of reasons.

Outbox rows and notices point at their decision, so erasing an item or an account (store/erase.py)
takes them along. A statement of reasons holds no personal data (the DSA Transparency Database must
not receive any) and keeps no foreign key: its PUID must stay unique and never be reused, so the row
outlives the item it was about.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from plugwatch.store.schema import NEVER_REUSED, Base, utcnow

# pending: waits for a worker (or for next_attempt_at after a failure: `failed`); sending: a worker holds
# it until locked_until; delivered: the platform accepted it; logged: dry run, recorded and not sent;
# dead: gave up after max attempts or a permanent refusal; held: waits for a lead to release it;
# cancelled: the decision was overturned before anything was sent.
EFFECT_STATES = ("pending", "sending", "delivered", "logged", "failed", "dead", "held", "cancelled")


class PlatformEffect(Base):
    """One operation on one connected platform, written in the deciding transaction."""

    __tablename__ = "platform_effects"
    __table_args__ = (Index("ix_platform_effects_due", "state", "next_attempt_at"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(300), index=True)
    backend: Mapped[str] = mapped_column(String(80))  # the name in the site configuration
    effect: Mapped[str] = mapped_column(String(40))  # platform-neutral (plugwatch.actions.EFFECTS) or dsa_statement
    operation: Mapped[str] = mapped_column(String(60))  # the platform's operation, or `log` (dry run)
    reverses: Mapped[int | None] = mapped_column(Integer)  # the effect this one undoes (appeal overturned)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # what is sent; never a credential
    shadow: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(80))
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)  # scrubbed of configured secrets
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the platform's answer, in short


class Notice(Base):
    """What the affected account is told, in plain language; kept whether or not a platform delivers it."""

    __tablename__ = "enforcement_notices"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(300), index=True)
    account_key: Mapped[str | None] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # the template: remove, warn, suspend, reversed
    language: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    automated_decision: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatementOfReasons(Base):
    """A DSA statement of reasons (Art. 17, 24(5)) as the Transparency Database API takes it."""

    __tablename__ = "dsa_statements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    puid: Mapped[str] = mapped_column(String(500), unique=True)
    decision_id: Mapped[int] = mapped_column(Integer, index=True)  # no foreign key: see the module's note
    action: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(80))
    source_type: Mapped[str] = mapped_column(String(40))
    automated_detection: Mapped[bool] = mapped_column(Boolean)
    automated_decision: Mapped[str] = mapped_column(String(40))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
