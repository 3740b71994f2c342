"""Who may do what: one table, operation -> roles, read by the JSON API, the legal API, the review
pages and the redaction of views. Change a role's rights here and nowhere else.

Which decision *actions* a role may take (suspend and refer are for leads) is the store's rule
(`plugwatch.store.review.ACTION_ROLES`, enforced by `review.decide`); `queue.work` says who may work
the queue at all.
"""

from __future__ import annotations

PERMISSIONS: dict[str, tuple[str, ...]] = {
    "items.add": ("admin", "ingest"),  # POST /api/ingest
    "queue.work": ("reviewer", "lead"),  # see the queue, claim, release, decide
    "items.read": ("reviewer", "lead", "admin", "legal"),  # an item or account, redacted by role
    "records.full": ("legal", "admin"),  # the raw record as received and platform-internal account ids
    "stats.read": ("reviewer", "lead", "admin"),
    "appeals.file": ("lead", "admin"),
    "decisions.export": ("admin", "legal"),
    "legal.use": ("legal", "admin"),  # disclosure requests, holds, subject access, snapshots
    "legal.approve": ("legal",),  # approve or reject a disclosure request (not the person who recorded it)
    "pages.use": ("reviewer", "lead", "admin", "legal"),  # sign in to the review pages
}


def roles_for(operation: str) -> tuple[str, ...]:
    """The roles allowed `operation` (a KeyError for an operation not in the table: a typo must not
    silently allow nobody or everybody)."""
    return PERMISSIONS[operation]


def allowed(operation: str, role: str) -> bool:
    return role in PERMISSIONS[operation]
