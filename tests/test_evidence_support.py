"""Shared set-up for the evidence, legal and privacy tests: a store with users, items and decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from plugwatch.store import review as rv
from plugwatch.store.users import add_user
from plugwatch.wiring import open_store

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def record(n: int, author: str = "telegram:shop_one", text: str | None = None, idents=(), created="2025-02-01T10:00:00+00:00"):
    return {
        "id": f"telegram:{n}", "platform": "telegram", "item_kind": "post", "author": author,
        "created_at": created, "text": text or f"pressed bars {n} wickr: shop_one_{n}", "url": None,
        "reply_to": None, "identifiers": [{"type": t, "value": c, "canonical": c, "valid": True, "span": [0, 1]}
                                          for t, c in idents],
        "score": 0.93, "flagged": True, "kind": "offer", "drugs": ["oxycodone"],
        "reasons": [{"signal": "drug_term", "meaning": "names a drug", "text": "bars", "span": [8, 12]}],
        "account": {"handle": author.split(":", 1)[1], "native_id": None, "display_name": "Shop",
                    "bio": "DM me", "created_at": None, "followers": 120},
        "raw": {"id": n, "from": "Shop", "text": text or f"pressed bars {n}"},
    }


def use_signing_key(folder: Path, monkeypatch) -> Path:
    """A package-signing key (and the key folder for the audit head log) under `folder`, set in the
    environment as an operator would; returns the private key's path (the public key is beside it)."""
    from plugwatch.evidence.signing import KEY_ENV, generate_keypair

    key = folder / "evidence-signing.key"
    generate_keypair(key)
    monkeypatch.setenv(KEY_ENV, str(key))
    monkeypatch.setenv("PLUGWATCH_KEY_DIR", str(folder))
    return key


def make_store(url: str):
    """Store with users rev (reviewer), lead1 (lead), ann and bob (legal), root (admin)."""
    store = open_store(url)
    with store.session() as s:
        for name, role in (("rev", "reviewer"), ("lead1", "lead"), ("ann", "legal"), ("bob", "legal"),
                           ("root", "admin")):
            add_user(s, name, role)
    return store


def user(s, name):
    from plugwatch.store.users import get_user

    return get_user(s, name)


def ingest(store, records, now=NOW):
    with store.session() as s:
        rv.ingest_records(s, records, now=now)


def decide(store, item_id, action, who="lead1", now=NOW, reason=None):
    with store.session() as s:
        u = user(s, who)
        rv.claim(s, u, item_id, now=now)
        reason = reason or ("not_drugs" if action == "dismiss" else "drug_sale")
        return rv.decide(s, u, item_id, action, reason, now=now).id


class AuditInserts:
    """Counts the statements that insert audit entries of `action` on `engine` while it is on."""

    def __init__(self, engine, action: str):
        self.engine, self.action, self.n = engine, action, 0

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._see)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._see)

    def _see(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_LOG") and self.action in repr(parameters):
            self.n += 1


def snapshot_deletions(session, actor: str, reason: str, at) -> list[tuple]:
    """The evidence.delete entries deleting every stored snapshot would write, in id order: (actor, action,
    subject, details, at), as audit.append writes them one at a time."""
    from sqlalchemy import select

    from plugwatch.store.evidence_tables import Snapshot

    return [(actor, "evidence.delete", f"snapshot:{x.id}", {"item": x.item_id, "item_class": x.item_class,
                                                             "reason": reason, "manifest_digest": x.manifest_digest}, at)
            for x in session.scalars(select(Snapshot).order_by(Snapshot.id))]


def snapshot_deletion_entries(session) -> list[tuple]:
    """The evidence.delete entries stored, in chain order, as `snapshot_deletions` gives them."""
    from sqlalchemy import select

    from plugwatch.store.schema import AuditEntry

    return [(e.actor, e.action, e.subject, e.details, e.at) for e in
            session.scalars(select(AuditEntry).where(AuditEntry.action == "evidence.delete").order_by(AuditEntry.seq))]
