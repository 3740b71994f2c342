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
