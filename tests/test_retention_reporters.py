"""Retention of reporters' identities: `reporters.key` (the `platform:handle` of whoever reported) was
kept forever; it is now replaced by a keyed pseudonym `[reporters] after_resolved` days after the
reporter's last report was resolved, unless something still needs it (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from test_evidence_support import NOW, decide, ingest, make_store, record, use_signing_key, user
from typer.testing import CliRunner

from plugwatch.evidence import holds
from plugwatch.evidence import requests as rq
from plugwatch.evidence.retention import load_policy, parse_policy, run_retention
from plugwatch.evidence.snapshot import EvidenceError
from plugwatch.privacy import KEY_ENV, generate_key
from plugwatch.privacy.subject import subject_export
from plugwatch.store import audit, reports
from plugwatch.store.intake_tables import Reporter, RetaliationFlag, UserReport
from plugwatch.store.schema import AuditEntry

OLD, RECENT = NOW - timedelta(days=200), NOW - timedelta(days=10)


@pytest.fixture
def store(db_url, tmp_path, monkeypatch):
    use_signing_key(tmp_path / "keys", monkeypatch)
    monkeypatch.setenv(KEY_ENV, str(generate_key(tmp_path / "keys" / "pseudonym.key")))
    st = make_store(db_url)
    ingest(st, [record(n, author=f"telegram:seller{n}") for n in range(1, 9)], now=OLD)
    yield st
    st.dispose()


def _file(st, who, item, now=OLD, **kw):
    with st.session() as s:
        return reports.file_report(s, reporter=who, reason="drug_sale", filed_by="root", item_id=item, now=now,
                                   **kw)[0].id


def _row(s, key):
    return s.scalars(select(Reporter).where(Reporter.key == key)).one_or_none()


def _ids(st, *keys):
    with st.session() as s:
        return [_row(s, k).id for k in keys]


def test_policy_names_the_reporters_setting():
    assert load_policy().reporters_after_resolved == 90
    assert parse_policy("[reporters]\nafter_resolved = 30\n", "t").reporters_after_resolved == 30
    assert parse_policy("[items]\ndismissed = 1\n", "t").reporters_after_resolved is None  # no key: kept
    with pytest.raises(EvidenceError, match="reporters.after_resolved"):
        parse_policy("[reporters]\nafter_resolved = -1\n", "t")
    with pytest.raises(EvidenceError, match="unknown key reporters.resolved"):
        parse_policy("[reporters]\nresolved = 1\n", "t")


def test_reporter_identities_expire_once_resolved_unless_something_needs_them(store):
    _file(store, "telegram:gone", "telegram:1")  # resolved 200 days ago: pseudonymised
    _file(store, "telegram:waiting", "telegram:2")  # never decided: open, kept
    _file(store, "telegram:lately", "telegram:3")  # resolved 10 days ago: kept
    _file(store, "telegram:mixed", "telegram:1")
    _file(store, "telegram:mixed", "telegram:2")  # one resolved long ago, one open: kept
    _file(store, "telegram:on_hold", "telegram:4")  # its item under a legal hold: kept
    _file(store, "telegram:asked_for", "telegram:5")  # its reported account named by a draft request: kept
    _file(store, "telegram:flagger", "telegram:6")  # a trusted flagger (an organisation): kept
    _file(store, "telegram:threatened", "telegram:7")  # a retaliation flag a lead has not decided: kept
    for n in (1, 4, 5, 6, 7):
        decide(store, f"telegram:{n}", "remove", now=OLD)
    decide(store, "telegram:3", "remove", now=RECENT)
    with store.session() as s:
        holds.add_hold(s, "item", "telegram:4", "case 17", "ann", now=OLD)
        rq.create_request(s, user(s, "ann"), agency="NCA", legal_basis="order", reference="N-1",
                          accounts=["telegram:seller5"], now=OLD)
        for h in holds.active_holds(s):  # the request's own account hold: released, its scope still counts
            if h.target == "telegram:seller5":
                holds.release_hold(s, h.id, "bob", now=OLD)
        reports.set_trusted(s, "telegram:flagger", "Flag Org", "root")
        ingest_flag = _row(s, "telegram:threatened")
        report_id = s.scalars(select(UserReport.id).where(UserReport.reporter_id == ingest_flag.id)).one()
        s.add(RetaliationFlag(item_id="telegram:8", report_id=report_id, kind="mention", threat_words=[],
                              created_at=OLD))
    [gone] = _ids(store, "telegram:gone")
    policy = load_policy()
    with store.session() as s:
        dry = run_retention(s, policy, now=NOW, dry_run=True)
    assert dry.pseudonymised_reporters == [gone]
    with store.session() as s:
        assert _row(s, "telegram:gone") is not None  # a dry run changes nothing
        result = run_retention(s, policy, now=NOW)
    assert result.pseudonymised_reporters == [gone]
    with store.session() as s:
        row = s.get(Reporter, gone)
        assert row.key.startswith("hmac-sha256:") and row.pseudonymised_at is not None
        assert (row.reports, row.resolved, row.actioned) == (1, 1, 1)  # the track record stays
        kept = {"telegram:waiting", "telegram:lately", "telegram:mixed", "telegram:on_hold", "telegram:asked_for",
                "telegram:flagger", "telegram:threatened"}
        assert {r.key for r in s.scalars(select(Reporter)) if not r.key.startswith("hmac")} == kept
        assert [r["reporter"] for r in reports.reveal(s, "telegram:1", "lead1")] == [None, "telegram:mixed"]
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.pseudonymise_reporter")).all()
        assert [e.subject for e in entries] == [f"reporter:{gone}"]
        assert "telegram:gone" not in str([(e.subject, e.details) for e in s.scalars(select(AuditEntry))])
        run = s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.run")).one()
        assert run.details["reporters_pseudonymised"] == 1
        assert audit.verify(s) is None
        # their reports are still theirs to see: a subject-access export finds them by the pseudonym
        filed = subject_export(s, user(s, "ann"), "telegram:gone")["reports_filed"]
        assert [r["item_id"] for r in filed] == ["telegram:1"]
    # The same person reports again: recognised by the pseudonym, their track record goes on.
    _file(store, "telegram:gone", "telegram:2", now=NOW)
    with store.session() as s:
        row = _row(s, "telegram:gone")
        assert row.id == gone and row.pseudonymised_at is None and row.reports == 2
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "reporters.recognise")).one().subject == \
            f"reporter:{gone}"


def test_without_a_key_the_identity_is_removed_and_a_later_twin_is_merged(store, monkeypatch, tmp_path):
    _file(store, "telegram:gone", "telegram:1")
    decide(store, "telegram:1", "remove", now=OLD)
    [gone] = _ids(store, "telegram:gone")
    key_file = tmp_path / "keys" / "pseudonym.key"
    monkeypatch.delenv(KEY_ENV)
    with store.session() as s:
        result = run_retention(s, load_policy(), now=NOW)
        assert result.pseudonymised_reporters == [gone] and not result.reporter_pseudonyms
        assert s.get(Reporter, gone).key == f"removed:{gone}"
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.remove_reporter")).one().subject \
            == f"reporter:{gone}"
    # A new report cannot be matched to a removed identity: a new row, a new track record.
    _file(store, "telegram:gone", "telegram:2")
    decide(store, "telegram:2", "remove", now=OLD)
    [again] = _ids(store, "telegram:gone")
    assert again != gone
    # With a key, a reporter pseudonymised once and filed for again where no key was set is one row again.
    monkeypatch.setenv(KEY_ENV, str(key_file))
    _file(store, "telegram:twice", "telegram:3")
    decide(store, "telegram:3", "remove", now=OLD)
    [first] = _ids(store, "telegram:twice")
    with store.session() as s:
        run_retention(s, load_policy(), now=NOW)
    monkeypatch.delenv(KEY_ENV)
    _file(store, "telegram:twice", "telegram:4", now=NOW - timedelta(days=150))
    decide(store, "telegram:4", "warn", now=NOW - timedelta(days=150))
    monkeypatch.setenv(KEY_ENV, str(key_file))
    with store.session() as s:
        result = run_retention(s, load_policy(), now=NOW)
        assert len(result.pseudonymised_reporters) == 1 and first not in result.pseudonymised_reporters
        row = s.get(Reporter, first)
        assert (row.reports, row.resolved, row.actioned) == (2, 2, 2) and row.key.startswith("hmac-sha256:")
        assert s.scalar(select(func.count()).select_from(UserReport).where(UserReport.reporter_id == first)) == 2
        assert audit.verify(s) is None


def test_retention_cli_lists_reporters_by_number_never_by_handle(store, db_url, tmp_path):
    from plugwatch.cli import app

    _file(store, "telegram:gone", "telegram:1")
    decide(store, "telegram:1", "remove", now=OLD)
    [gone] = _ids(store, "telegram:gone")
    policy = tmp_path / "p.toml"
    policy.write_text("[reporters]\nafter_resolved = 30\n")
    runner = CliRunner()
    for args, verb in ((["--dry-run"], "would pseudonymise"), ([], "pseudonymised")):
        res = runner.invoke(app, ["retention", "run", "--policy", str(policy), "--db", db_url, *args])
        assert res.exit_code == 0, res.output
        assert f"{verb} reporter {gone}\n" in res.stdout and "gone" not in res.output
        assert "1 reporter identit" in " ".join(res.output.split())
