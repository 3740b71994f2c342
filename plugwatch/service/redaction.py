"""Who may see which fields: least data by role, applied to every item and account the API returns.

Reviewers and leads see what a decision needs: the text, handle, display name, bio, identifiers,
reasons and linked accounts. The record as received (`raw`, which may hold e-mail addresses, IPs,
device data), an account's platform-internal id and bulk exports are for `legal` and `admin`
(`records.full` in plugwatch.service.permissions). An account known only by its platform id has
that id in its key (`telegram:user6120044871`): the others see such keys as stable pseudonyms
(plugwatch.service.pseudonyms). A redacted view lists what it left out under `redacted`, so a page
can say so.
"""

from __future__ import annotations

import copy
from typing import Any

from plugwatch.actions import allowed
from plugwatch.service.pseudonyms import keys_in, keys_without_handle, replace_keys

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
    if isinstance(out.get("two_reviewers"), dict) and not allowed("opinions.read", role):
        # Independent review: that a first opinion exists, never whose or what it was.
        out["two_reviewers"] = {k: v for k, v in out["two_reviewers"].items() if k != "opinions"}
        hidden.append("two_reviewers.opinions")
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


PSEUDONYM_NOTE = "platform ids in account keys (shown as pseudonyms)"


def pseudonymise_keys(session, view: Any, role: str, pseudonyms) -> Any:
    """`view` (an item view, a queue, an account view) with the keys of accounts known only by their
    platform id replaced by pseudonyms, unless `role` may see full records."""
    if can_see_all(role):
        return view
    hidden = keys_without_handle(session, keys_in(view))
    out = replace_keys(view, {k: pseudonyms.pseudonym(k) for k in hidden})
    if hidden and isinstance(out, dict) and isinstance(out.get("redacted"), list):
        out["redacted"] = [*out["redacted"], PSEUDONYM_NOTE]
    return out
