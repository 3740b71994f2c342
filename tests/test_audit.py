"""The audit chain finds a changed, deleted or inserted entry, on SQLite and PostgreSQL, and via the CLI;
the head published outside the database finds a log cut back together with its head row."""

from __future__ import annotations

import json
import logging
import os

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from plugwatch.cli import app
from plugwatch.store import audit, audit_heads, users
from plugwatch.store.schema import AuditEntry, AuditHead, utcnow
from plugwatch.wiring import open_store

runner = CliRunner()


@pytest.fixture(autouse=True)
def key_dir(tmp_path, monkeypatch):
    """Each test publishes its heads in its own key folder."""
    folder = tmp_path / "keys"
    monkeypatch.setenv("PLUGWATCH_KEY_DIR", str(folder))
    monkeypatch.delenv(audit_heads.HEAD_LOG_ENV, raising=False)
    monkeypatch.delenv(audit_heads.EVERY_ENV, raising=False)
    return folder


def published(key_dir) -> list[dict]:
    path = key_dir / audit_heads.HEAD_LOG_NAME
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def cut_back(store, keep: int) -> None:
    """What someone with write access to the database does: delete the newest entries, move the head back."""
    with store.session() as s:
        kept = s.get(AuditEntry, keep)
        s.execute(delete(AuditEntry).where(AuditEntry.seq > keep))
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=keep, hash=kept.hash))


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


def test_entries_appended_together_chain_as_one_by_one(store, key_dir):
    """append_many (retention's batches) writes the entries `append` would, hashes included."""
    at = utcnow()
    entries = [("retention.delete_item", f"item:x:{n}", {"reason": "old", "n": n}) for n in range(3)]
    with store.session() as s:
        audit.append(s, "retention", *entries[0], at=at)
        audit.append_many(s, "retention", entries[1:], at=at)
        audit.append_many(s, "retention", [], at=at)  # nothing: the head stays
    with store.session() as s:
        together = [(e.seq, e.subject, e.hash) for e in s.query(AuditEntry).filter(AuditEntry.seq > 6).order_by(AuditEntry.seq)]
        assert audit.verify(s) is None and audit.head(s) == (9, together[-1][2])
    assert published(key_dir)[-1]["seq"] == 9
    with store.session() as s:
        prev = s.get(AuditEntry, 6).hash
    for (seq, subject, digest), (action, subj, details) in zip(together, entries, strict=True):
        assert digest == audit.entry_hash(seq, at, "retention", action, subj, details, prev) and subject == subj
        prev = digest


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
    with store.session() as s:
        assert audit.verify(s, published=False) is None  # consistent on its own...
        problem = audit.verify(s, expect_head=kept, published=False)
        assert problem is not None and problem.seq == kept[0]  # ...but not with the head kept elsewhere
        assert audit.verify(s).kind == "deleted"  # nor with the heads published while it was written


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


def test_cli_audit_verify_says_when_the_head_log_cannot_be_read(db_url, store, tmp_path, monkeypatch):
    """A head log path through a file, or naming a folder, was a NotADirectoryError / IsADirectoryError
    traceback from `audit verify`."""
    (tmp_path / "a-file").write_text("x")
    for where, why in ((tmp_path / "a-file" / "heads.jsonl", "Not a directory"), (tmp_path, "Is a directory")):
        monkeypatch.setenv(audit_heads.HEAD_LOG_ENV, str(where))
        out = runner.invoke(app, ["audit", "verify", "--db", db_url])
        assert out.exit_code == 2, out.stderr
        assert f"cannot read the audit head log {where} ({why})" in " ".join(out.stderr.split()), out.stderr
        assert "Traceback" not in out.stderr and out.stdout == ""


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
    empty = runner.invoke(app, ["users", "password", "carol", "--db", db_url], input="")
    assert empty.exit_code == 2 and "no password on standard input" in empty.output
    assert "--password-stdin" not in empty.output  # an option of `users add`, not of this command


def test_every_committed_head_is_published_outside_the_database(db_url, store, key_dir):
    assert [line["seq"] for line in published(key_dir)] == [6]  # the fixture's one transaction
    for name in ("eve", "fay"):
        with store.session() as s:
            users.add_user(s, name, "reviewer")
    lines = published(key_dir)
    assert [line["seq"] for line in lines] == [6, 7, 8]  # then one per transaction that appended
    with store.session() as s:
        assert (lines[-1]["seq"], lines[-1]["hash"]) == audit.head(s)
        assert {line["chain"] for line in lines} == {s.get(AuditEntry, 1).hash}
    password = make_url(db_url).password
    assert not password or password not in lines[-1]["database"]  # the log names the database, not its password
    assert oct(os.stat(key_dir / audit_heads.HEAD_LOG_NAME).st_mode & 0o777) == "0o600"


def test_a_cut_back_log_with_its_head_moved_back_fails_verify(store, key_dir):
    cut_back(store, keep=4)
    with store.session() as s:
        assert audit.verify(s, published=False) is None  # what `audit verify` used to see: a valid chain
        problem = audit.verify(s)
    assert (problem.seq, problem.kind) == (5, "deleted")
    assert "5-6 deleted" in problem.message and str(key_dir / audit_heads.HEAD_LOG_NAME) in problem.message


def test_a_rewritten_tail_differs_from_the_published_head(store):
    cut_back(store, keep=4)
    with store.session() as s:  # ... and new entries written where the deleted ones were
        audit.append(s, "mallory", "user.role", "user:user1", {"from": "reviewer", "to": "admin"})
        audit.append(s, "mallory", "user.role", "user:user2", {"from": "reviewer", "to": "admin"})
    with store.session() as s:
        problem = audit.verify(s)
    assert (problem.seq, problem.kind) == (6, "changed") and "was rewritten" in problem.message


def test_a_deleted_or_replaced_log_is_caught_through_the_database_name(store):
    with store.session() as s:
        s.execute(delete(AuditEntry))
        s.execute(delete(AuditHead))
    with store.session() as s:
        problem = audit.verify(s)
    assert problem is not None and "is empty" in problem.message and "deleted or replaced" in problem.message
    with store.session() as s:  # a new chain from entry 1, written straight into the tables
        at = utcnow()
        digest = audit.entry_hash(1, at, "mallory", "user.add", "user:x", {}, audit.GENESIS)
        s.add(AuditEntry(seq=1, at=at, actor="mallory", action="user.add", subject="user:x", details={},
                         prev_hash=audit.GENESIS, hash=digest))
        s.add(AuditHead(id=1, seq=1, hash=digest))
    with store.session() as s:
        assert "different entry 1" in audit.verify(s).message


def test_a_rolled_back_entry_is_never_published(store, key_dir):
    before = len(published(key_dir))
    with pytest.raises(RuntimeError), store.session() as s:
        audit.append(s, "user0", "user.role", "user:user2", {})
        raise RuntimeError("the transaction fails after the entry")
    assert len(published(key_dir)) == before
    with store.session() as s:
        assert audit.verify(s) is None


def test_heads_every_n_entries(db_url, key_dir, monkeypatch):
    monkeypatch.setenv(audit_heads.EVERY_ENV, "3")
    st = open_store(db_url)
    for i in range(7):
        with st.session() as s:
            audit.append(s, "x", "thing", f"t:{i}", {})
    assert [line["seq"] for line in published(key_dir)] == [1, 3, 6]  # the first, then each multiple of 3
    st.dispose()


def test_an_unwritable_head_log_is_reported_and_the_commit_stands(db_url, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv(audit_heads.HEAD_LOG_ENV, str(blocker / "heads.jsonl"))
    st = open_store(db_url)
    with caplog.at_level(logging.WARNING, logger="plugwatch.audit"), st.session() as s:
        users.add_user(s, "eve", "reviewer")
    assert "could not publish audit head 1:" in caplog.text
    with st.session() as s:
        assert users.get_user(s, "eve") is not None and audit.head(s)[0] == 1
    st.dispose()


def test_a_damaged_head_log_is_a_problem(store, key_dir):
    with (key_dir / audit_heads.HEAD_LOG_NAME).open("a") as fh:
        fh.write("{not json\n")
    with store.session() as s:
        assert "damaged at line 2" in audit.verify(s).message


def test_cli_audit_verify_fails_on_a_cut_back_log(db_url, store, key_dir):
    cut_back(store, keep=3)
    bad = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert bad.exit_code == 3
    assert "audit entry 4-6 deleted" in bad.output
    # a copy of the database can still be checked on its own, against an empty head log
    alone = runner.invoke(app, ["audit", "verify", "--db", db_url], env={audit_heads.HEAD_LOG_ENV: os.devnull})
    assert alone.exit_code == 0, alone.output


def test_cli_audit_verify_says_when_no_head_was_published_for_the_log(db_url, store, key_dir, tmp_path):
    """With the head log missing (another key folder, a mistyped $PLUGWATCH_AUDIT_HEAD_LOG, a deleted
    file) a cut-back log passed and `verify` said only "intact", as if checked against its head."""
    cut_back(store, keep=3)
    elsewhere = runner.invoke(app, ["audit", "verify", "--db", db_url],
                              env={audit_heads.HEAD_LOG_ENV: str(tmp_path / "nosuch" / "heads.jsonl")})
    assert elsewhere.exit_code == 0  # the chain itself is intact: checked on its own
    said = " ".join(elsewhere.stderr.split())
    assert "warning: no head of this audit log is published in" in said and "cut off would not be found" in said
    caught = runner.invoke(app, ["audit", "verify", "--db", db_url])
    assert caught.exit_code == 3 and "warning" not in caught.stderr
