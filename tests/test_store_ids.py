"""Ids named outside their row are never given to another row (SQLite and PostgreSQL).

An audit entry, a notice, a webhook or platform idempotency key, a DSA statement, a hold or a
disclosure request's custody log names a decision, appeal, report, effect or snapshot by its number
and outlives it: an erasure or retention deletes the row, the reference stays. On SQLite a table
without AUTOINCREMENT gives the highest deleted id again (max(rowid) + 1); PostgreSQL sequences never
go back.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text
from test_evidence_support import NOW, decide, ingest, make_store, record, use_signing_key, user

from plugwatch.privacy.subject import delete_subject
from plugwatch.store import make_engine, review, upgrade
from plugwatch.store.evidence_tables import Snapshot
from plugwatch.store.intake_tables import UserReport
from plugwatch.store.reports import file_report
from plugwatch.store.schema import Appeal, Decision
from plugwatch.store.tables import METADATA

# Named by audit entries, notices, webhooks and idempotency keys, DSA statements, holds and custody logs.
KEPT_IDS = ("decisions", "review_opinions", "appeals", "user_reports", "platform_effects", "enforcement_notices",
            "snapshots", "watch_entries")


@pytest.fixture(autouse=True)
def signing_key(tmp_path, monkeypatch):
    return use_signing_key(tmp_path / "keys", monkeypatch)


def _newest(s, model) -> int:
    return s.scalars(select(model.id).order_by(model.id.desc()).limit(1)).one()


def test_ids_of_erased_rows_are_never_given_again(db_url):
    st = make_store(db_url)
    ingest(st, [record(1, author="telegram:stays"), record(2, author="telegram:erased"), record(3, author="telegram:stays")])
    decide(st, "telegram:1", "warn")
    with st.session() as s:
        file_report(s, reporter="telegram:neighbour", reason="drug_sale", filed_by="root", item_id="telegram:2", now=NOW)
    decide(st, "telegram:2", "warn")  # the newest decision, snapshot and report are about the erased account
    with st.session() as s:
        review.file_appeal(s, "telegram:2", "not mine", "telegram:erased", now=NOW)
    with st.session() as s:
        gone = {m.__tablename__: _newest(s, m) for m in (Decision, Snapshot, UserReport, Appeal)}
        delete_subject(s, user(s, "ann"), "telegram:erased", now=NOW)
    with st.session() as s:
        file_report(s, reporter="telegram:neighbour", reason="drug_sale", filed_by="root", item_id="telegram:3", now=NOW)
    decide(st, "telegram:3", "warn")
    with st.session() as s:
        review.file_appeal(s, "telegram:3", "not mine either", "telegram:stays", now=NOW)
    with st.session() as s:
        new = {m.__tablename__: _newest(s, m) for m in (Decision, Snapshot, UserReport, Appeal)}
    assert all(new[t] > gone[t] for t in gone), (gone, new)
    st.dispose()


def test_sqlite_tables_whose_ids_are_named_elsewhere_never_reuse_one(tmp_path):
    declared = {t.name for t in METADATA.sorted_tables if t.dialect_options["sqlite"]["autoincrement"]}
    assert declared == set(KEPT_IDS)
    st = make_store(f"sqlite:///{tmp_path / 'ids.db'}")
    with st.engine.connect() as conn:
        for table in KEPT_IDS:
            ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                               {"t": table}).scalar()
            assert "AUTOINCREMENT" in ddl, table
    st.dispose()


def _sql(conn, statement: str, **params) -> None:
    conn.execute(text(statement), params)


def test_sqlite_upgrade_keeps_every_row_and_gives_no_id_named_before(tmp_path):
    """A database written before AUTOINCREMENT: the upgrade copies the tables without losing a row
    (a snapshot's files point at it ON DELETE CASCADE) and the next ids come after the highest the
    database still names anywhere: a decision deleted before the upgrade, named by a DSA statement."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, url, "0010_token_expiry")
    engine.dispose()
    raw = create_engine(url)  # plain SQLite, as an older plugwatch left the file
    with raw.begin() as conn:
        _sql(conn, "INSERT INTO users (id, name, role, active, created_at) VALUES (1, 'lead1', 'lead', 1, '2025-01-01')")
        _sql(conn, "INSERT INTO accounts (key, platform, first_seen, last_seen) "
                   "VALUES ('telegram:a', 'telegram', '2025-01-01', '2025-01-01')")
        _sql(conn, "INSERT INTO items (id, platform, account_key, kind, text, received_at, flagged, drugs, reasons, "
                   "identifiers, record) VALUES ('telegram:1', 'telegram', 'telegram:a', 'post', 'x', '2025-01-01', 1, "
                   "'[]', '[]', '[]', '{}')")
        _sql(conn, "INSERT INTO review_tasks (id, item_id, group_key, priority, state, open_state, two_reviewers, "
                   "created_at) VALUES (1, 'telegram:1', 'g', 1.0, 'decided', 'pending', 0, '2025-01-01')")
        _sql(conn, "INSERT INTO decisions (id, item_id, task_id, reviewer_id, action, policy_reason, note, created_at) "
                   "VALUES (4, 'telegram:1', 1, 1, 'warn', 'drug_sale', '', '2025-01-01')")
        _sql(conn, "INSERT INTO dsa_statements (id, puid, decision_id, action, category, source_type, "
                   "automated_detection, automated_decision, body, created_at) VALUES (1, 'p-1', 9, 'warn', 'c', "
                   "'s', 0, 'n', '{}', '2025-01-01')")  # decision 9 was erased before the upgrade
        _sql(conn, "INSERT INTO snapshots (id, seq, item_id, item_class, created_at, manifest, manifest_digest) "
                   "VALUES (2, 2, 'telegram:1', 'warn', '2025-01-01', '{}', 'd')")
        _sql(conn, "INSERT INTO snapshot_files (snapshot_id, name, sha256, size, content) "
                   "VALUES (2, 'item.json', 'h', 2, x'7b7d')")
        _sql(conn, "INSERT INTO evidence_chain (seq, digest, created_at, snapshot_id) VALUES (3, 'd', '2025-01-01', 3)")
    raw.dispose()
    engine = make_engine(url)
    upgrade(engine, url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM snapshot_files")).scalar() == 1
        assert conn.execute(text("SELECT id FROM decisions")).scalars().all() == [4]
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # back on for the pooled connection
        _sql(conn, "INSERT INTO decisions (item_id, task_id, reviewer_id, action, policy_reason, note, created_at) "
                   "VALUES ('telegram:1', 1, 1, 'warn', 'drug_sale', '', '2025-01-02')")
        _sql(conn, "INSERT INTO snapshots (seq, item_id, item_class, created_at, manifest, manifest_digest) "
                   "VALUES (4, 'telegram:1', 'warn', '2025-01-02', '{}', 'e')")
        assert conn.execute(text("SELECT max(id) FROM decisions")).scalar() == 10
        assert conn.execute(text("SELECT max(id) FROM snapshots")).scalar() == 4  # snapshot 3 is in the chain
    engine.dispose()
