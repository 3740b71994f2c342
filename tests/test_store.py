"""Storage on SQLite and PostgreSQL: migrations, time zones, idempotent batch ingest, linking."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from plugwatch.store import review
from plugwatch.store.schema import Account, Item
from plugwatch.store.tables import METADATA
from plugwatch.wiring import open_store


def record(n: int, author: str = "x:seller", flagged: bool = True, score: float = 0.9, idents=(), followers=None,
           kind: str | None = None, raw: dict | None = None) -> dict:
    return {
        "id": f"x:{n}", "platform": "x", "item_kind": "post", "author": author,
        "created_at": "2025-03-02T10:00:00+00:00", "text": f"item {n} tele @plug{n}", "url": None, "reply_to": None,
        "identifiers": [{"type": t, "value": c, "canonical": c, "valid": True, "span": [0, 1]} for t, c in idents],
        "score": score, "flagged": flagged, "kind": kind or ("offer" if flagged else None), "drugs": ["cocaine"],
        "reasons": [{"signal": "cue", "meaning": "price", "text": "item", "span": [0, 4]}],
        "account": {"handle": author.split(":", 1)[1], "native_id": "99" + str(n), "display_name": "Seller",
                    "bio": None, "created_at": None, "followers": followers},
        **({"raw": raw} if raw is not None else {}),
    }


def row_counts(session, *tables: str) -> dict[str, int]:
    return {name: session.scalar(select(func.count()).select_from(METADATA.tables[name])) for name in tables}


def test_migrations_create_the_model_schema(db_url):
    store = open_store(db_url)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() is not None
        diff = compare_metadata(MigrationContext.configure(conn), METADATA)
    assert diff == [], f"models and migrations differ: {diff}"
    open_store(db_url)  # a second open is a no-op upgrade


def test_ingest_is_idempotent_and_batched(db_url):
    store = open_store(db_url)
    recs = [record(i, author=f"x:s{i % 3}", flagged=i % 2 == 0, idents=[("telegram", f"telegram:plug{i % 4}")])
            for i in range(40)]
    with store.session() as s:
        first = review.ingest_records(s, recs + recs[:5])  # repeats inside one batch too
    assert (first.stored, first.duplicates, first.queued) == (40, 5, 20)
    with store.session() as s:
        again = review.ingest_records(s, recs)
    assert (again.stored, again.duplicates, again.queued) == (0, 40, 0)
    with store.session() as s:
        counts = row_counts(s, "items", "review_tasks", "accounts", "identifiers", "item_identifiers",
                            "account_identifiers")
    # plug0..plug3 each used by the accounts whose items carry it: i % 4 and i % 3 give all 12 pairs
    assert counts == {"items": 40, "review_tasks": 20, "accounts": 3, "identifiers": 4, "item_identifiers": 40,
                      "account_identifiers": 12}


def test_ingest_keeps_record_raw_and_aware_times(db_url):
    store = open_store(db_url)
    with store.session() as s:
        review.ingest_records(s, [record(1, raw={"id_str": "1", "user": {"email": "a@b.c"}}, followers=1200)])
    with store.session() as s:
        item = s.get(Item, "x:1")
        assert item.raw == {"id_str": "1", "user": {"email": "a@b.c"}}
        assert item.record["text"] == "item 1 tele @plug1" and "raw" not in item.record
        assert item.created_at == datetime(2025, 3, 2, 10, 0, tzinfo=UTC)
        assert item.received_at.tzinfo is not None
        account = s.get(Account, "x:seller")
        assert account.followers == 1200 and account.native_id == "991"


def test_account_update_keeps_known_fields(db_url):
    store = open_store(db_url)
    with store.session() as s:
        review.ingest_records(s, [record(1, followers=50)])
    later = record(2, followers=None)
    later["account"]["display_name"] = "New name"
    with store.session() as s:
        review.ingest_records(s, [later])
    with store.session() as s:
        account = s.get(Account, "x:seller")
        assert account.followers == 50 and account.display_name == "New name"
        assert account.last_seen >= account.first_seen
