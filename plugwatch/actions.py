"""Review actions and who may do what, declared once.

In the manner of Osprey's effects: an action says what it means (final or not, a strike, a
suspension, whether it freezes evidence and confirms a violation that partners may be told of), who
may take it and which policy reasons fit it. The store enforces it, the API and the pages list it,
evidence freezes by it and sharing exports by it. What an action does on a connected platform is declared
here too: its platform-neutral `effect` (EFFECTS), the effect that undoes it when an appeal overturns it,
whether a worker may deliver it unattended, and the key of the notice the affected account gets. The
site configuration (plugwatch.enforce.config) maps each effect to an operation per connected platform.

A new action is one `Action(...)` line below (plus a migration if the database constrains the names).
"""

from __future__ import annotations

from dataclasses import dataclass

REVIEWER, LEAD, ADMIN, LEGAL, INGEST = "reviewer", "lead", "admin", "legal", "ingest"
ROLES = (REVIEWER, LEAD, ADMIN, LEGAL, INGEST)

# Policy reasons a decision cites. A dismissal cites a "not a violation" reason, an enforcement cites a
# violation; escalations may cite anything, since the reviewer is unsure.
POLICY_REASONS = {
    "drug_sale": "offers controlled substances for sale",
    "drug_solicitation": "asks to buy controlled substances",
    "counterfeit_pills": "offers pressed or counterfeit pills",
    "paraphernalia_sale": "offers equipment for making or taking drugs (pill presses, ...)",
    "off_platform_redirect": "sends buyers to another app or channel to deal",
    "harm_reduction": "not a violation: harm reduction, treatment or safety information",
    "news_or_discussion": "not a violation: news, research, policy or personal talk about drugs",
    "legal_product": "not a violation: a legal product (alcohol, CBD where legal, pharmacy)",
    "not_drugs": "not a violation: not about drugs at all",
    "needs_lead": "unsure or severe: needs a lead's decision",
    "imminent_harm": "threat to life or a minor involved: disclosure to law enforcement",
}
ESCALATION_REASONS = ("needs_lead", "imminent_harm")


@dataclass(frozen=True)
class Action:
    name: str
    roles: tuple[str, ...]  # who may take it (heavy actions need a lead; a reviewer escalates instead)
    reason_groups: tuple[str, ...]  # which policy reasons fit: violation / none / escalation
    label: str  # the reviewer's button
    key: str  # its keyboard shortcut on the review pages
    done: str  # what the reviewer is told afterwards
    final: bool = True  # ends the review (an escalation hands it on instead)
    strike: bool = False  # counts against the account
    suspends: bool = False  # suspends the account (lifted if overturned on appeal)
    freezes_evidence: bool = False  # acts against a person: the item is frozen in the deciding transaction
    confirms: bool = False  # confirms a violation: its identifiers may be shared, partners' matches agreed
    effect: str | None = None  # what it does on a connected platform (a key of EFFECTS), if anything
    reverse_effect: str | None = None  # what undoes that effect when an appeal overturns the decision
    automatable: bool = True  # a worker may deliver the effect unattended; False: held until a lead releases it
    notice: str | None = None  # key of the notice template the affected account gets (plugwatch.enforce.notices)

    @property
    def needs_lead(self) -> bool:
        """Heavy: a reviewer cannot take it (the pages mark its button)."""
        return REVIEWER not in self.roles


_REVIEW = (REVIEWER, LEAD)
_ENFORCE = dict(strike=True, freezes_evidence=True, confirms=True)

# Effects on a connected platform, platform-neutral: effect -> what it acts on (the item or its account).
EFFECTS: dict[str, str] = {
    "remove_content": "content", "restore_content": "content",
    "warn_account": "account", "withdraw_warning": "account",
    "suspend_account": "account", "unsuspend_account": "account",
}

ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("dismiss", _REVIEW, ("none",), "Dismiss: no violation", "d", "dismissed"),
    Action("remove", _REVIEW, ("violation",), "Remove the item", "r", "removed", **_ENFORCE,
           effect="remove_content", reverse_effect="restore_content", notice="remove"),
    Action("warn", _REVIEW, ("violation",), "Warn the account", "w", "account warned", **_ENFORCE,
           effect="warn_account", reverse_effect="withdraw_warning", notice="warn"),
    Action("suspend", (LEAD,), ("violation",), "Suspend the account", "s", "account suspended", suspends=True,
           **_ENFORCE, effect="suspend_account", reverse_effect="unsuspend_account", notice="suspend"),
    Action("escalate", (REVIEWER,), ("violation", "escalation", "none"), "Escalate to a lead", "e",
           "escalated to a lead", final=False),
    Action("refer", (LEAD,), ("violation", "escalation"), "Refer for law-enforcement disclosure", "l",
           "referred for law-enforcement disclosure", freezes_evidence=True, confirms=True),
)}
# effect -> the notice template of the action that has it: what a back-end tells when it does just that.
EFFECT_NOTICES: dict[str, str] = {a.effect: a.notice for a in ACTIONS.values() if a.effect and a.notice}
ACTION_NAMES = tuple(ACTIONS)


def names_where(flag: str) -> tuple[str, ...]:
    """The actions with `flag` set, e.g. names_where("confirms")."""
    return tuple(name for name, a in ACTIONS.items() if getattr(a, flag))


def reason_group(code: str) -> str:
    """`violation`, `none` (not a violation) or `escalation` (unsure or severe)."""
    if code in ESCALATION_REASONS:
        return "escalation"
    return "none" if POLICY_REASONS.get(code, "").startswith("not a violation") else "violation"


def reason_fits(action: str, policy_reason: str) -> bool:
    return (policy_reason in POLICY_REASONS and action in ACTIONS
            and reason_group(policy_reason) in ACTIONS[action].reason_groups)


# Who may do what besides deciding: operation -> roles, read by the JSON API, the legal API, the review
# pages and the redaction of views. Change a role's rights here and nowhere else.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "items.add": (ADMIN, INGEST),  # POST /api/ingest
    "queue.work": _REVIEW,  # see the queue, claim, release, decide
    "items.read": (REVIEWER, LEAD, ADMIN, LEGAL),  # an item or account, redacted by role
    "records.full": (LEGAL, ADMIN),  # the raw record as received and platform-internal account ids
    "stats.read": (REVIEWER, LEAD, ADMIN),
    "appeals.file": (LEAD, ADMIN),
    "decisions.export": (ADMIN, LEGAL),
    "legal.use": (LEGAL, ADMIN),  # disclosure requests, holds, subject access, snapshots
    "legal.approve": (LEGAL,),  # approve or reject a disclosure request (not the person who recorded it)
    "pages.use": (REVIEWER, LEAD, ADMIN, LEGAL),  # sign in to the review pages
    "effects.retry": (LEAD, ADMIN),  # send a failed or dead platform effect again, release a held one
    "reports.file": (ADMIN, INGEST),  # POST /api/reports, and read reports' outcomes to tell the reporters
    "reports.reveal": (LEAD, ADMIN),  # who reported an item (audited); reviewers never see it
    # Who gave the opinions on a two-reviewer task and what they were: reviewers see only that a first
    # opinion exists, so the second review is independent (an anchor would make it a rubber stamp).
    "opinions.read": (LEAD, ADMIN, LEGAL),
}


def roles_for(operation: str) -> tuple[str, ...]:
    """The roles allowed `operation` (a KeyError for an operation not in the table: a typo must not
    silently allow nobody or everybody)."""
    return PERMISSIONS[operation]


def allowed(operation: str, role: str) -> bool:
    return role in PERMISSIONS[operation]
