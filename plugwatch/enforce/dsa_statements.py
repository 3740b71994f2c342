"""DSA statements of reasons (Art. 17 and 24(5) DSA) in the Transparency Database API's schema.

Field names and values follow the database's API documentation ("Creating a Statement", "Statement
Attributes"); tests/dsa_statement.schema.json is a JSON Schema written from it, and every generated
statement is checked against it in the tests. A statement names no person and quotes no post: the
database must not receive personal data.

Which decisions get one: those that restrict (removal of content, suspension of the account). A
warning restricts nothing, so it has no statement; an escalation or a referral is not a decision on
the content.
"""

from __future__ import annotations

import uuid
from typing import Any

from plugwatch.actions import ACTIONS, POLICY_REASONS

CATEGORY = "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS"  # drug sales are unsafe and illegal products
KEYWORDS = ["KEYWORD_REGULATED_GOODS_SERVICES"]
NOT_AUTOMATED = "AUTOMATED_DECISION_NOT_AUTOMATED"  # a reviewer or a lead took every decision
FULLY_AUTOMATED = "AUTOMATED_DECISION_FULLY"  # a policy rule took it (plugwatch.rules)

# effect -> the restriction fields it sets
RESTRICTIONS: dict[str, dict[str, Any]] = {
    "remove_content": {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]},
    "suspend_account": {"decision_account": "DECISION_ACCOUNT_SUSPENDED",
                        "decision_provision": "DECISION_PROVISION_TOTAL_SUSPENSION"},
}
MEDIA_TYPES = {"photo": "CONTENT_TYPE_IMAGE", "image": "CONTENT_TYPE_IMAGE", "gif": "CONTENT_TYPE_IMAGE",
               "video": "CONTENT_TYPE_VIDEO", "audio": "CONTENT_TYPE_AUDIO", "voice": "CONTENT_TYPE_AUDIO"}


def restricts(action: str) -> bool:
    spec = ACTIONS.get(action)
    return bool(spec and spec.final and spec.effect in RESTRICTIONS)


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
          automated: bool = False) -> dict[str, Any]:
    """The statement for `decision` on `item` under the site's DSA settings `dsa` (config.DsaConfig).
    `source`: (source type, trusted flagger's public name) when users reported the item
    (plugwatch.store.reports.notice_source); a reporter who is not a trusted flagger is never named.
    `automated`: a rule applied the action without a person."""
    spec = ACTIONS[decision.action]
    automated_detection = bool(item.flagged)
    policy = POLICY_REASONS.get(decision.policy_reason, decision.policy_reason)
    body: dict[str, Any] = dict(RESTRICTIONS[spec.effect])
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
