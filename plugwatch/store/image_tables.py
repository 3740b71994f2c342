"""Hash banks in the store: PDQ hashes of known pictures (a seller's menu, a product photo), by bank.

A bank entry holds no personal data: a 256-bit perceptual hash, its label and where it came from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from plugwatch.store.schema import Base, utcnow


class ImageBankEntry(Base):
    __tablename__ = "image_bank_entries"
    __table_args__ = (UniqueConstraint("bank", "pdq", name="uq_image_bank_entries_bank_pdq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank: Mapped[str] = mapped_column(String(120), index=True)
    pdq: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str | None] = mapped_column(String(300))
    variants: Mapped[list[Any]] = mapped_column(JSON, default=list)  # trimmed/cropped hashes (images/pdq.py)
    added_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
