"""The audit chain finds a changed, deleted or inserted entry, on SQLite and PostgreSQL, and via the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update
from typer.testing import CliRunner

from plugwatch.cli import app
from plugwatch.store import audit, users
from plugwatch.store.schema import AuditEntry, AuditHead
from plugwatch.wiring import open_store

runner = CliRunner()


@pytest.fixture
def store(db_url):
    store = open_store(db_url)
    with store.session() as s:
        for i in range(5):
            users.add_user(s, f"user{i}", "reviewer")
        users.set_role(s, "user1", "lead")
    return store


def check(store):
    with store.session() as s:
        return audit.verify(s)


def test_intact_chain_verifies(store):
    assert check(store) is None
    with store.session() as s:
        assert audit.head(s)[0] == 6


def test_changed_entry_is_named(store):
    with store.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="someone-else"))
    problem = check(store)
    assert (problem.seq, problem.kind) == (3, "changed")


def test_changed_details_are_detected(store):
    with store.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 6).values(details={"from": "reviewer", "to": "admin"}))
    assert check(store).seq == 6


def test_deleted_entry_is_named(store):
    with store.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    problem = check(store)
    assert (problem.seq, problem.kind) == (2, "deleted")


def test_deleted_and_renumbered_entries_break_the_links(store):
    # Delete entry 2 and shift the later ones down so seq has no gap: entry 3 (now 2) links to the wrong hash.
    with store.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
        for seq in range(3, 7):
            s.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(seq=seq - 1))
    assert check(store).seq == 2


def test_deleted_newest_entries_are_caught_by_the_head(store):
    with store.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq >= 5))
    problem = check(store)
    assert (problem.seq, problem.kind) == (5, "deleted")
    assert "5-6" in problem.message


def test_rewritten_chain_is_caught_by_a_kept_head(store):
    with store.session() as s:
        kept = audit.head(s)
        # An attacker with write access rebuilds everything after entry 2, head included.
        entries = s.query(AuditEntry).order_by(AuditEntry.seq).all()
        s.execute(delete(AuditEntry).where(AuditEntry.seq > 2))
        s.execute(delete(AuditHead))
        s.flush()
        s.add(AuditHead(id=1, seq=2, hash=entries[1].hash))
        s.flush()
        audit.append(s, "attacker", "user.role", "user:user1", {"from": "reviewer", "to": "admin"})
    assert check(store) is None  # consistent on its own...
    with store.session() as s:
        problem = audit.verify(s, expect_head=kept)
    assert problem is not None and problem.seq == kept[0]  # ...but not with the head kept elsewhere


def test_cli_audit_verify_exit_codes(db_url, store):
    ok = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert ok.exit_code == 0, ok.output
    seq, digest = ok.stdout.strip().split(":")
    assert seq == "6" and len(digest) == 64
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET subject = 'user:mallory' WHERE seq = 4"))
    bad = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert bad.exit_code == 3
    assert "audit entry 4 changed" in bad.output


def test_cli_users_add_prints_token_once_and_stores_hash(db_url):
    result = runner.invoke(app, ["users", "add", "carol", "--role", "legal", "--db", db_url])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    store = open_store(db_url)
    with store.session() as s:
        user = users.find_by_token(s, token)
        assert user.name == "carol" and user.role == "legal"
        assert token not in (user.token_hash or "") and user.password_hash is None
    again = runner.invoke(app, ["users", "add", "carol", "--role", "legal", "--db", db_url])
    assert again.exit_code == 2 and "already exists" in again.output
    bad = runner.invoke(app, ["users", "add", "dave", "--role", "boss", "--db", db_url])
    assert bad.exit_code == 2 and "unknown role" in bad.output
