"""Who may see which fields: least data by role, applied to every item and account the API returns.

Reviewers and leads see what a decision needs: the text, handle, display name, bio, identifiers,
reasons and linked accounts. The record as received (`raw`, which may hold e-mail addresses, IPs,
device data), an account's platform-internal id and bulk exports are for `legal` and `admin`.
A redacted view lists what it left out under `redacted`, so a page can say so.
"""

from __future__ import annotations

import copy
from typing import Any

from plugwatch.service.permissions import allowed

ITEM_FIELDS = ("raw",)  # in view["item"]
ACCOUNT_FIELDS = ("native_id",)  # in view["account"] and every linked account


def can_see_all(role: str) -> bool:
    return allowed("records.full", role)


def redact_account(account: dict[str, Any] | None, role: str) -> dict[str, Any] | None:
    if account is None or can_see_all(role):
        return account
    out = dict(account)
    for name in ACCOUNT_FIELDS:
        out.pop(name, None)
    return out


def redact_item(view: dict[str, Any], role: str) -> dict[str, Any]:
    """A copy of an `item_view` (or any dict with item / account / network parts) fit for `role`."""
    if can_see_all(role):
        return view
    out = copy.copy(view)
    hidden: list[str] = []
    if isinstance(out.get("item"), dict):
        out["item"] = dict(out["item"])
        for name in ITEM_FIELDS:
            if out["item"].pop(name, None) is not None:
                hidden.append(f"item.{name}")
    if isinstance(out.get("account"), dict):
        if any(out["account"].get(n) is not None for n in ACCOUNT_FIELDS):
            hidden.extend(f"account.{n}" for n in ACCOUNT_FIELDS)
        out["account"] = redact_account(out["account"], role)
    if isinstance(out.get("network"), list):
        out["network"] = [redact_account(a, role) for a in out["network"]]
    out["redacted"] = hidden
    return out
