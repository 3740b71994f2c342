"""Who may see which fields: least data by role, applied to every item and account the API returns.

Reviewers and leads see what a decision needs: the text, handle, display name, bio, identifiers,
reasons and linked accounts. The record as received (`raw`, which may hold e-mail addresses, IPs,
device data), an account's platform-internal id and bulk exports are for `legal` and `admin`
(`records.full` in plugwatch.service.permissions), and each time they get them unredacted is an audit
entry (`audit_full_read`). An account known only by its platform id has
that id in its key (`telegram:user6120044871`): the others see such keys as stable pseudonyms
(plugwatch.service.pseudonyms). A redacted view lists what it left out under `redacted`, so a page
can say so.

The same ids travel in what the platforms were sent and answered (an effect's dry-run payload names
the account's `native_id`, a Mastodon unsuspend answers `{"account": "<id>"}`, an error may quote
it): `redact_effects` takes them out of the item's effects for the same roles, on the API and the
pages alike.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from plugwatch.actions import allowed
from plugwatch.service.pseudonyms import keys_in, keys_without_handle, replace_keys
from plugwatch.store import audit

ITEM_FIELDS = ("raw",)  # in view["item"]
ACCOUNT_FIELDS = ("native_id",)  # in view["account"] and every linked account


def can_see_all(role: str) -> bool:
    return allowed("records.full", role)


def audit_full_read(session, user, kind: str, key: str, via: str) -> None:
    """Record that `user` read the item or account `key` (kind: "item" or "account") unredacted, as
    personal data beyond what a decision needs is read only by a role that needs it, and audited.
    Redacted reads are not recorded: they show what a decision needs, and claims and decisions are."""
    if can_see_all(user.role):
        audit.append(session, user.name, f"{kind}.view", f"{kind}:{key}", {"via": via})


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


HIDDEN_ID = "[platform id]"
EFFECTS_NOTE = "platform.account ids"  # what `redacted` names when effects had account ids taken out


def _strip_account_ids(value: Any, found: set[str]) -> Any:
    """A copy of `value` without platform account ids: the `native_id` of every `account` object, and
    an `account` given as a bare id (a platform's answer); the ids removed are added to `found`."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "account" and isinstance(v, str | int) and not isinstance(v, bool):
                found.add(str(v))
                out[k] = HIDDEN_ID
            elif k == "account" and isinstance(v, dict):
                inner = {n: x for n, x in v.items() if n not in ACCOUNT_FIELDS}
                found.update(str(v[n]) for n in ACCOUNT_FIELDS if v.get(n) not in (None, ""))
                out[k] = _strip_account_ids(inner, found)
            else:
                out[k] = _strip_account_ids(v, found)
        return out
    if isinstance(value, list):
        return [_strip_account_ids(v, found) for v in value]
    return value


def _scrub_ids(text: str, ids: Iterable[str]) -> str:
    for native in sorted(ids, key=len, reverse=True):
        text = re.sub(rf"(?<![\w:.-]){re.escape(native)}(?![\w])", HIDDEN_ID, text)
    return text


def redact_effects(platform: dict[str, Any], role: str, account_ids: Iterable[str | None] = ()) -> tuple[dict[str, Any], bool]:
    """The item's effects and notices (plugwatch.enforce.status.item_effects) fit for `role`, and whether
    anything was taken out. `account_ids`: the platform ids of the item's account, also blanked out of
    error messages."""
    if can_see_all(role) or not isinstance(platform, dict):
        return platform, False
    found: set[str] = set()
    effects = []
    for effect in platform.get("effects") or []:
        effect = dict(effect)
        if effect.get("response") is not None:
            effect["response"] = _strip_account_ids(effect["response"], found)
        effects.append(effect)
    ids = {str(i) for i in account_ids if i} | found
    changed = bool(found)
    for effect in effects:
        if isinstance(effect.get("error"), str):
            scrubbed = _scrub_ids(effect["error"], ids)
            changed = changed or scrubbed != effect["error"]
            effect["error"] = scrubbed
    return {**platform, "effects": effects}, changed


def effects_for_role(session, platform: dict[str, Any], item_id: str, role: str) -> tuple[dict[str, Any], bool]:
    """`redact_effects` for the item `item_id`, its account's platform id read from the store."""
    if can_see_all(role):
        return platform, False
    from sqlalchemy import select

    from plugwatch.store.schema import Account, Item

    ids = session.scalars(select(Account.native_id).join(Item, Item.account_key == Account.key)
                          .where(Item.id == item_id)).all()
    return redact_effects(platform, role, ids)


def note_effects_redacted(view: dict[str, Any], changed: bool) -> dict[str, Any]:
    if changed:
        view["redacted"] = [*(view.get("redacted") or []), EFFECTS_NOTE]
    return view


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
