"""DSA statements of reasons (Art. 17 and 24(5) DSA) in the Transparency Database API's schema.

Field names and values follow the database's API documentation ("Creating a Statement", "Statement
Attributes"); tests/dsa_statement.schema.json is a JSON Schema written from it, and every generated
statement is checked against it in the tests. A statement names no person and quotes no post: the
database must not receive personal data.

Which decisions get one: those whose effect restricts (removal of content, suspension of the
account, ...), as the platform carried it out. What was done is what the notice to the account says
(plugwatch.enforce.notices): the action's own template, or the one the connected back-end's operation
maps to (plugwatch.enforce.backends.notice_kind). So a removal on Mastodon, whose stock API cannot
delete another account's post (`report_and_warn`: a report to the server's moderators and a warning,
the post stays up), is not stated as content removed: like any warning it restricts nothing and has
no statement (the Transparency Database takes none without a restriction). An escalation or a
referral is not a decision on the content.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from plugwatch.actions import ACTIONS, POLICY_REASONS

CATEGORY = "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS"  # drug sales are unsafe and illegal products
KEYWORDS = ["KEYWORD_REGULATED_GOODS_SERVICES"]
NOT_AUTOMATED = "AUTOMATED_DECISION_NOT_AUTOMATED"  # a reviewer or a lead took every decision
FULLY_AUTOMATED = "AUTOMATED_DECISION_FULLY"  # a policy rule took it (plugwatch.rules)

# What was done (a notice template, plugwatch.enforce.notices.KINDS) -> the restriction fields it sets.
RESTRICTIONS: dict[str, dict[str, Any]] = {
    "remove": {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]},
    "suspend": {"decision_account": "DECISION_ACCOUNT_SUSPENDED",
                "decision_provision": "DECISION_PROVISION_TOTAL_SUSPENSION"},
    # Mastodon: limit (silence) hides the account's posts from everyone who does not follow it
    "silence": {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_DEMOTED"]},
    # Mastodon: disable (freeze) stops the login; the account and its posts stay visible
    "disable": {"decision_account": "DECISION_ACCOUNT_SUSPENDED"},
    # Mastodon: the account's media are shown behind a sensitive-content warning; Ozone: a label on the post
    "sensitive": {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_LABELLED"]},
    "label_post": {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_LABELLED"]},
}
# What restricts nothing: a warning, and a report to a server's moderators with a warning (the post stays up).
NO_RESTRICTION = ("warn", "remove_reported")
MEDIA_TYPES = {"photo": "CONTENT_TYPE_IMAGE", "image": "CONTENT_TYPE_IMAGE", "gif": "CONTENT_TYPE_IMAGE",
               "video": "CONTENT_TYPE_VIDEO", "audio": "CONTENT_TYPE_AUDIO", "voice": "CONTENT_TYPE_AUDIO"}


def restriction(action: str, done: Iterable[str] = ()) -> dict[str, Any]:
    """The restriction fields of a statement for a decision taking `action`, whose effect the back-ends
    carried out as `done` (notice templates; empty: as the action says, e.g. no back-end is connected).
    Empty when nothing restricts: then there is no statement."""
    spec = ACTIONS.get(action)
    if spec is None or not spec.final or spec.effect is None:
        return {}
    fields: dict[str, Any] = {}
    for kind in sorted(set(done) or {spec.notice or action}):
        for key, value in RESTRICTIONS.get(kind, {}).items():
            if isinstance(value, list):
                fields[key] = sorted(set(fields.get(key, [])) | set(value))
            else:
                fields.setdefault(key, value)
    return fields


def restricts(action: str, done: Iterable[str] = ()) -> bool:
    return bool(restriction(action, done))


def new_puid() -> str:
    """Unique within the platform and never reused: random, not derived from a row id that a deleted
    row could hand back."""
    return f"plugwatch-{uuid.uuid4().hex}"


def _content_types(record: dict[str, Any]) -> list[str]:
    types = {"CONTENT_TYPE_TEXT"}
    for m in record.get("media") or ():
        if isinstance(m, dict) and m.get("kind") in MEDIA_TYPES:
            types.add(MEDIA_TYPES[m["kind"]])
    return sorted(types)


def _facts(decision, item, automated_detection: bool, automated: bool = False) -> str:
    found = ("automated detection flagged it" + (f" (score {item.score:.2f})" if item.score is not None else "")
             if automated_detection else "it came to the moderation queue")
    signals = sorted({r.get("meaning") or r.get("signal") for r in (item.reasons or [])[:20]
                      if isinstance(r, dict) and (r.get("meaning") or r.get("signal"))})
    who = (f"A policy rule decided automatically, after {found}, that it" if automated
           else f"A moderator reviewed the post after {found} and decided that it")
    facts = (f"{who} "
             f"{POLICY_REASONS.get(decision.policy_reason, decision.policy_reason)} "
             f"(policy reason: {decision.policy_reason}).")
    if signals:
        facts += " Evidence considered: " + "; ".join(str(s) for s in signals[:8]) + "."
    return facts[:5000]


def build(decision, item, dsa, puid: str, source: tuple[str, str | None] | None = None,
          automated: bool = False, done: Iterable[str] = ()) -> dict[str, Any]:
    """The statement for `decision` on `item` under the site's DSA settings `dsa` (config.DsaConfig).
    `source`: (source type, trusted flagger's public name) when users reported the item
    (plugwatch.store.reports.notice_source); a reporter who is not a trusted flagger is never named.
    `automated`: a rule applied the action without a person. `done`: what the back-ends did (see
    restriction); the decision must restrict."""
    automated_detection = bool(item.flagged)
    policy = POLICY_REASONS.get(decision.policy_reason, decision.policy_reason)
    body: dict[str, Any] = restriction(decision.action, done)
    if not body:
        raise ValueError(f"decision {decision.id} ({decision.action}, done: {sorted(done)}) restricts nothing: "
                         "no statement of reasons")
    body["decision_ground"] = dsa.decision_ground
    if dsa.ground_url:
        body["decision_ground_reference_url"] = dsa.ground_url
    if dsa.decision_ground == "DECISION_GROUND_ILLEGAL_CONTENT":
        body["illegal_content_legal_ground"] = dsa.legal_ground[:500]
        body["illegal_content_explanation"] = f"The post {policy}."[:2000]
    else:
        body["incompatible_content_ground"] = dsa.ground_text[:500]
        body["incompatible_content_explanation"] = f"The post {policy}."[:2000]
        body["incompatible_content_illegal"] = "Yes"
    posted = item.created_at or item.received_at
    body.update({
        "content_type": _content_types(item.record or {}),
        "category": CATEGORY,
        "category_specification": KEYWORDS,
        "territorial_scope": sorted(dsa.territorial_scope),
        "content_date": posted.strftime("%Y-%m-%d"),
        "application_date": decision.created_at.strftime("%Y-%m-%d"),
        "decision_facts": _facts(decision, item, automated_detection, automated),
        "source_type": source[0] if source else dsa.source_type,
        "automated_detection": "Yes" if automated_detection else "No",
        "automated_decision": FULLY_AUTOMATED if automated else NOT_AUTOMATED,
        "puid": puid,
    })
    if source and source[1]:
        body["source_identity"] = source[1][:500]
    return body
