"""A large retention run works in bounded batches, one transaction each: what a batch deleted stays
deleted with its audit entries if a later one fails, a hold added between batches is respected, and
a real run deletes exactly what its dry run listed (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from test_evidence_support import (
    NOW,
    AuditInserts,
    decide,
    ingest,
    make_store,
    record,
    snapshot_deletion_entries,
    snapshot_deletions,
    use_signing_key,
)

from plugwatch.evidence import holds, retention
from plugwatch.evidence.retention import parse_policy, run_retention
from plugwatch.store import audit, erase
from plugwatch.store.evidence_tables import Snapshot
from plugwatch.store.schema import Account, AuditEntry, Item

OLD = NOW - timedelta(days=100)
POLICY = parse_policy("[snapshots]\nwarn = 30\n[items]\ndismissed = 90\nnever_queued = 30\n"
                      "[accounts]\nwithout_items = 30\n", "t")


def _quiet(n, author):
    rec = record(n, author=author, text=f"selling my old bike {n}", idents=[("phone", f"+4477009001{n:02d}")])
    rec.update(score=0.04, flagged=False, kind=None, drugs=[], reasons=[])
    return rec


@pytest.fixture
def store(db_url, tmp_path, monkeypatch):
    use_signing_key(tmp_path / "keys", monkeypatch)
    monkeypatch.setattr(retention, "BATCH", 3, raising=False)  # 3 rows per transaction
    st = make_store(db_url)
    ingest(st, [_quiet(n, f"telegram:p{n}") for n in range(10, 17)] + [record(1), record(2), record(3)], now=OLD)
    decide(st, "telegram:1", "warn", now=OLD)  # an expired snapshot
    decide(st, "telegram:2", "warn", now=OLD)
    decide(st, "telegram:3", "dismiss", now=OLD)  # a dismissed item
    yield st
    st.dispose()


class Commits:
    """Counts the commits of every session while it is on."""

    def __init__(self):
        self.n = 0

    def __enter__(self):
        event.listen(Session, "after_commit", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(Session, "after_commit", self._count)

    def _count(self, session):
        self.n += 1


def _listing(r):
    return ([x["snapshot"] for x in r.deleted], r.deleted_items, r.deleted_never_queued, r.deleted_accounts,
            r.items_on_hold)


def test_a_run_commits_batch_by_batch_and_deletes_what_its_dry_run_listed(store):
    with store.session() as s:
        dry = run_retention(s, POLICY, now=NOW, dry_run=True)
    assert dry.deleted_never_queued == [f"telegram:{n}" for n in range(10, 17)] and len(dry.deleted) == 2
    with Commits() as commits, store.session() as s:
        result = run_retention(s, POLICY, now=NOW)
    # snapshots 1 batch, dismissed 1, never queued 3 (7 items), accounts 3 (7 accounts), then the summary
    assert commits.n >= 8
    assert _listing(result) == _listing(dry) and result.skipped == []
    with store.session() as s:
        subjects = s.scalars(select(AuditEntry.subject).where(AuditEntry.action == "retention.delete_item")
                             .order_by(AuditEntry.seq)).all()
        assert subjects == [f"item:{i}" for i in dry.deleted_items + dry.deleted_never_queued]
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.items")).all()) == 4
        run = s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.run")).one()
        assert run.details["never_queued_items_deleted"] == 7 and run.details["accounts_deleted"] == 7
        assert audit.verify(s) is None


def test_an_interrupted_run_keeps_what_its_committed_batches_deleted(store, monkeypatch):
    real, calls = erase.delete_rows, []

    def power_cut(session, table, *args, **kwargs):
        if table.name == "items" and not kwargs.get("_depth") and len(args) == 2:
            calls.append(1)
            if len(calls) == 3:  # the dismissed item's batch, then one of never-queued items, then this
                raise RuntimeError("power cut")
        return real(session, table, *args, **kwargs)

    monkeypatch.setattr(erase, "delete_rows", power_cut)
    with pytest.raises(RuntimeError, match="power cut"), store.session() as s:
        run_retention(s, POLICY, now=NOW)
    with store.session() as s:
        left = set(s.scalars(select(Item.id).where(Item.account_key.like("telegram:p%"))))
        assert left == {f"telegram:{n}" for n in range(13, 17)}  # the first batch (10, 11, 12) is gone
        gone = s.scalars(select(AuditEntry.subject).where(AuditEntry.action == "retention.delete_item")).all()
        assert sorted(gone) == ["item:telegram:10", "item:telegram:11", "item:telegram:12", "item:telegram:3"]
        assert s.scalar(select(func.count()).select_from(Snapshot)) == 0  # both expired snapshots went first
        assert audit.verify(s) is None
    monkeypatch.setattr(erase, "delete_rows", real)
    with store.session() as s:
        again = run_retention(s, POLICY, now=NOW)
    assert again.deleted_never_queued == [f"telegram:{n}" for n in range(13, 17)]
    assert len(again.deleted_accounts) == 7


def test_a_hold_added_between_batches_keeps_what_it_covers(store):
    added = []

    def add_hold_once(session):
        if added:
            return
        added.append(1)  # right after the first batch commits, someone else holds an item of a later batch
        with store.session() as other:
            holds.add_hold(other, "item", "telegram:15", "case 9", "ann", now=NOW)

    with store.session() as s:
        dry = run_retention(s, POLICY, now=NOW, dry_run=True)
    assert "telegram:15" in dry.deleted_never_queued
    event.listen(Session, "after_commit", add_hold_once)
    try:
        with store.session() as s:
            result = run_retention(s, POLICY, now=NOW)
    finally:
        event.remove(Session, "after_commit", add_hold_once)
    assert added and "telegram:15" not in result.deleted_never_queued and "telegram:15" in result.items_on_hold
    assert "telegram:p15" not in result.deleted_accounts
    assert result.skipped == ["item telegram:15 (legal hold)", "account telegram:p15 (changed during the run)"]
    with store.session() as s:
        assert s.get(Item, "telegram:15") is not None and s.get(Account, "telegram:p15") is not None
        assert s.get(Item, "telegram:16") is None


def test_a_batch_audits_its_snapshot_deletions_in_one_statement_with_the_entries_one_by_one_gave(store):
    ingest(store, [record(4), record(5), record(6)], now=OLD)
    for n in (4, 5, 6):  # five expired snapshots: batches of three and two
        decide(store, f"telegram:{n}", "warn", now=OLD)
    with store.session() as s:
        expected = snapshot_deletions(s, "retention", "retention: warn kept 30 days", NOW)
    assert len(expected) == 5
    with AuditInserts(store.engine, "evidence.delete") as inserts, store.session() as s:
        result = run_retention(s, POLICY, now=NOW)
    assert len(result.deleted) == 5 and inserts.n == 2  # one per batch, not one per snapshot
    with store.session() as s:
        assert snapshot_deletion_entries(s) == expected
        assert audit.verify(s) is None  # each entry's hash and link as audit.append would have made them
