"""Subject access and deletion for one account, with legal holds respected (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from test_evidence_support import (
    NOW,
    AuditInserts,
    decide,
    ingest,
    make_store,
    record,
    snapshot_deletion_entries,
    snapshot_deletions,
    user,
)
from typer.testing import CliRunner

from plugwatch.evidence import holds
from plugwatch.evidence import requests as rq
from plugwatch.evidence.snapshot import EvidenceError, check_store_chain
from plugwatch.privacy.subject import delete_subject, subject_export
from plugwatch.store import audit, reports, schema
from plugwatch.store.evidence_tables import Snapshot


@pytest.fixture
def store(db_url):
    st = make_store(db_url)
    ingest(st, [record(1, idents=[("wickr", "wickr:shared"), ("email", "me@example.com")]), record(2), record(3),
                record(4, author="telegram:other", idents=[("wickr", "wickr:shared")])])
    decide(st, "telegram:1", "remove")
    decide(st, "telegram:2", "warn")
    decide(st, "telegram:4", "remove")
    yield st
    st.dispose()


def _count(s, where) -> int:
    """How many rows meet `where` (in the table its column belongs to)."""
    return s.scalar(select(func.count()).where(where))


def test_subject_export_holds_everything_about_the_account_and_no_requests(store):
    with store.session() as s:
        rq.create_request(s, user(s, "ann"), agency="DEA", legal_basis="subpoena", reference="SECRET-REF",
                          accounts=["telegram:shop_one"])
    with store.session() as s:
        data = subject_export(s, user(s, "root"), "Telegram:Shop_One")
    assert data["account"]["key"] == "telegram:shop_one"
    assert sorted(i["id"] for i in data["items"]) == ["telegram:1", "telegram:2", "telegram:3"]
    assert data["items"][0]["raw"] == record(1)["raw"]
    assert {(i["type"], i["canonical"]) for i in data["identifiers"]} == {("wickr", "wickr:shared"),
                                                                         ("email", "me@example.com")}
    assert sorted(d["action"] for d in data["decisions"]) == ["remove", "warn"]
    assert len(data["strikes"]) == 2 and len(data["snapshots"]) == 2
    text = json.dumps(data)
    assert "SECRET-REF" not in text and "telegram:other" not in text  # no request, no other account's data
    with store.session() as s:
        assert s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == "subject.export")).one().actor == "root"
        with pytest.raises(rq.RequestDenied):
            subject_export(s, user(s, "rev"), "telegram:shop_one")
        with pytest.raises(EvidenceError, match="nothing is stored"):
            subject_export(s, user(s, "ann"), "telegram:nobody")


def test_subject_export_leaves_out_evidence_frozen_for_a_disclosure(store):
    """Approving a request freezes the items in its scope that had no snapshot: that those snapshots exist
    tells of the request ("tipping off"), so the export leaves them out as it leaves out the request."""
    with store.session() as s:
        req = rq.create_request(s, user(s, "ann"), agency="DEA", legal_basis="subpoena", reference="SECRET-REF",
                                accounts=["telegram:shop_one"])
    with store.session() as s:
        rq.approve_request(s, user(s, "bob"), req.id)  # a second legal user
    with store.session() as s:
        classes = sorted(s.scalars(select(Snapshot.item_class).where(Snapshot.account_key == "telegram:shop_one")))
        assert classes == ["disclosure", "remove", "warn"]  # telegram:3 was frozen for the request
        data = subject_export(s, user(s, "root"), "telegram:shop_one")
    assert sorted(x["item_class"] for x in data["snapshots"]) == ["remove", "warn"]
    assert "disclosure" not in json.dumps(data["snapshots"]) and "SECRET-REF" not in json.dumps(data)
    # An account of which only evidence frozen for the request is left reads as one nothing is stored of.
    with store.session() as s:
        s.execute(Snapshot.__table__.update().where(Snapshot.account_key == "telegram:shop_one")
                  .values(account_key="telegram:gone", item_class="disclosure"))
        with pytest.raises(EvidenceError, match="nothing is stored"):
            subject_export(s, user(s, "root"), "telegram:gone")


def test_deletion_removes_the_account_but_keeps_held_snapshots(store):
    with store.session() as s:
        holds.add_hold(s, "snapshot", "1", "court order 5", "ann")
    with store.session() as s:
        dry = delete_subject(s, user(s, "ann"), "telegram:shop_one", dry_run=True)
        assert dry.kept_snapshots == [1] and dry.deleted_snapshots == [2]
        assert _count(s, schema.Item.account_key == "telegram:shop_one") == 3  # dry run: nothing gone
    with store.session() as s:
        result = delete_subject(s, user(s, "ann"), "telegram:shop_one")
    assert result.kept_snapshots == [1] and result.deleted_snapshots == [2]
    with store.session() as s:
        assert s.get(schema.Account, "telegram:shop_one") is None
        assert _count(s, schema.Item.account_key == "telegram:shop_one") == 0
        assert _count(s, schema.ReviewTask.item_id.in_(["telegram:1", "telegram:2", "telegram:3"])) == 0
        assert _count(s, schema.Decision.item_id.in_(["telegram:1", "telegram:2"])) == 0
        assert _count(s, schema.Strike.account_key == "telegram:shop_one") == 0
        assert _count(s, schema.AccountIdentifier.account_key == "telegram:shop_one") == 0
        assert _count(s, schema.ItemIdentifier.item_id == "telegram:1") == 0
        # its own e-mail goes; the wickr handle the other account also used stays
        assert _count(s, schema.Identifier.canonical == "me@example.com") == 0
        assert _count(s, schema.Identifier.canonical == "wickr:shared") == 1
        assert [x.id for x in s.scalars(select(Snapshot).order_by(Snapshot.id))] == [1, 3]
        assert s.get(schema.Item, "telegram:4") is not None  # other accounts untouched
        assert check_store_chain(s) == []
        entry = s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == "subject.delete")).one()
        assert entry.details["kept_snapshots_on_hold"] == [1]
        assert audit.verify(s) is None


def test_deletion_audits_its_snapshots_in_one_statement_with_the_entries_one_by_one_gave(store):
    with store.session() as s:
        expected = [e for e in snapshot_deletions(s, "ann", "account telegram:shop_one deleted on request", NOW)
                    if e[3]["item"] != "telegram:4"]  # the other account's snapshot stays
    assert len(expected) == 2
    with AuditInserts(store.engine, "evidence.delete") as inserts, store.session() as s:
        assert delete_subject(s, user(s, "ann"), "telegram:shop_one", now=NOW).deleted_snapshots == [1, 2]
    assert inserts.n == 1
    with store.session() as s:
        assert snapshot_deletion_entries(s) == expected
        assert audit.verify(s) is None


def test_dry_run_reports_the_rows_a_real_deletion_removes(store):
    with store.session() as s:
        dry = delete_subject(s, user(s, "ann"), "telegram:shop_one", dry_run=True).to_dict()
    with store.session() as s:  # the dry run left everything in place, the audit log included
        assert _count(s, schema.Item.account_key == "telegram:shop_one") == 3
        assert _count(s, schema.Identifier.canonical == "me@example.com") == 1
        assert _count(s, schema.AuditEntry.action == "subject.delete") == 0
    with store.session() as s:
        real = delete_subject(s, user(s, "ann"), "telegram:shop_one").to_dict()
    assert dry["deleted_identifiers"] == real["deleted_identifiers"] == 1  # me@example.com
    assert dry["deleted_rows"] == real["deleted_rows"]
    assert dry["deleted_rows"]["items"] == 3 and dry["deleted_rows"]["decisions"] == 2
    assert dry["dry_run"] and not real["dry_run"]


def test_items_under_an_account_hold_are_frozen_before_they_go(store):
    with store.session() as s:
        holds.add_hold(s, "account", "telegram:shop_one", "preservation request", "ann")
    with store.session() as s:
        result = delete_subject(s, user(s, "ann"), "telegram:shop_one")
    # telegram:3 had no snapshot: it is frozen (class hold) before its row is deleted
    assert len(result.frozen_for_hold) == 1 and result.deleted_snapshots == []
    with store.session() as s:
        snaps = s.scalars(select(Snapshot).where(Snapshot.account_key == "telegram:shop_one")
                          .order_by(Snapshot.id)).all()
        assert [(x.item_id, x.item_class) for x in snaps] == [("telegram:1", "remove"), ("telegram:2", "warn"),
                                                              ("telegram:3", "hold")]
        assert s.get(schema.Item, "telegram:3") is None


def test_subject_cli_needs_a_role_and_yes(store, db_url, tmp_path):
    from plugwatch.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["subject", "export", "telegram:shop_one", "--user", "rev", "--db", db_url])
    assert res.exit_code == 2 and "legal or admin" in res.output
    out = tmp_path / "sar.json"
    res = runner.invoke(app, ["subject", "export", "telegram:shop_one", "-o", str(out), "--user", "ann", "--db", db_url])
    assert res.exit_code == 0 and len(json.loads(out.read_text())["items"]) == 3
    res = runner.invoke(app, ["subject", "delete", "telegram:shop_one", "--user", "ann", "--db", db_url])
    assert res.exit_code == 2 and "--yes" in res.output
    res = runner.invoke(app, ["subject", "delete", "telegram:shop_one", "--yes", "--user", "ann", "--db", db_url])
    assert res.exit_code == 0 and json.loads(res.stdout)["deleted_snapshots"] == [1, 2]


def test_a_subject_export_that_could_not_be_written_is_not_in_the_audit_trail(store, db_url, tmp_path):
    """`subject export -o FOLDER` failed ("cannot write") but left a `subject.export` audit entry, as
    if the export had been made; `request export` already rolled back in that case."""
    from plugwatch.cli import app

    res = CliRunner().invoke(app, ["subject", "export", "telegram:shop_one", "-o", str(tmp_path), "--user", "ann",
                                   "--db", db_url])
    assert res.exit_code == 2 and "cannot write" in res.output
    with store.session() as s:
        assert not s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == "subject.export")).all()


def test_subject_export_names_staff_by_role_only_and_the_audit_trail_keeps_names(store):
    """The export goes to the data subject, maybe the suspected dealer: it must not name the reviewer
    (it gave `"reviewer": "lead1"`) nor the legal user who made it."""
    with store.session() as s:
        out = subject_export(s, user(s, "ann"), "telegram:shop_one")
    assert [d["reviewer"] for d in out["decisions"]] == ["lead", "lead"]
    assert out["generated_by"] == "legal"
    text = json.dumps(out)
    assert '"lead1"' not in text and '"ann"' not in text
    with store.session() as s:
        entries = s.scalars(select(schema.AuditEntry).order_by(schema.AuditEntry.seq)).all()
        assert any(e.actor == "lead1" for e in entries)  # the decisions, by name
        assert any(e.actor == "ann" and e.action == "subject.export" for e in entries)


def test_subject_export_blanks_staff_names_in_the_notes_it_gives(store):
    """A decision's note ("checked with Lead1, ann agrees") reached the subject word for word, naming the
    staff whom the export names by role only; other words stay."""
    with store.session() as s:
        d = s.scalars(select(schema.Decision).where(schema.Decision.item_id == "telegram:1")).one()
        d.note = "checked with Lead1, @ann agrees; leads1 and announcement stay"
    with store.session() as s:
        out = subject_export(s, user(s, "root"), "telegram:shop_one")
    notes = [d["note"] for d in out["decisions"] if d["item_id"] == "telegram:1"]
    assert notes == ["checked with [staff], [staff] agrees; leads1 and announcement stay"]


def test_files_with_personal_data_are_owner_only(store, db_url, tmp_path, monkeypatch):
    """`subject export -o` and `request export -o` wrote 0644 files; they are 0600 now, also when they
    replace an existing file, and a missing folder is created as for every -o (scan -o does too)."""
    import os
    import stat

    from test_evidence_support import use_signing_key

    from plugwatch.cli import app

    use_signing_key(tmp_path / "keys", monkeypatch)
    old = os.umask(0o022)
    try:
        runner = CliRunner()
        sar = tmp_path / "new" / "folder" / "sar.json"
        res = runner.invoke(app, ["subject", "export", "telegram:shop_one", "-o", str(sar), "--user", "ann",
                                  "--db", db_url])
        assert res.exit_code == 0, res.output
        assert stat.S_IMODE(sar.stat().st_mode) == 0o600 and json.loads(sar.read_text())["items"]
        sar.chmod(0o644)
        assert runner.invoke(app, ["subject", "export", "telegram:shop_one", "-o", str(sar), "--user", "ann",
                                   "--db", db_url]).exit_code == 0
        assert stat.S_IMODE(sar.stat().st_mode) == 0o600
        with store.session() as s:
            rid = rq.create_request(s, user(s, "ann"), agency="NCA", legal_basis="order", reference="N-1",
                                    accounts=["telegram:shop_one"]).id
        with store.session() as s:
            rq.approve_request(s, user(s, "bob"), rid)
        pkg = tmp_path / "pkg.zip"
        res = runner.invoke(app, ["evidence", "request", "export", str(rid), "-o", str(pkg), "--user", "bob",
                                  "--db", db_url])
        assert res.exit_code == 0, res.output
        assert stat.S_IMODE(pkg.stat().st_mode) == 0o600
        assert not list(tmp_path.rglob("*.part"))  # nothing left behind
    finally:
        os.umask(old)


def _report_as_subject(st, item="telegram:4"):
    """telegram:shop_one reports an item of telegram:other: its reporter row has the same platform:handle."""
    with st.session() as s:
        return reports.file_report(s, reporter="telegram:@Shop_One", reason="drug_sale", filed_by="root",
                                   item_id=item, text="shop_one here: this one sells")[0].id


def test_deletion_removes_the_reporter_identity_of_the_same_handle(store, tmp_path, monkeypatch):
    """Deletion left the reporter row `telegram:shop_one` as it was: the erased person kept their handle
    and their reports stayed linked to it. The handle goes as retention's does (pseudonym with the key,
    `removed:ID` without); the reports stay, their text untouched."""
    from plugwatch.privacy import KEY_ENV, generate_key, load_key
    from plugwatch.store.intake_tables import Reporter, UserReport
    from plugwatch.store.reports import reporter_pseudonym

    report_id = _report_as_subject(store)
    with store.session() as s:
        rid = s.scalars(select(Reporter.id).where(Reporter.key == "telegram:shop_one")).one()
        dry = delete_subject(s, user(s, "ann"), "telegram:shop_one", dry_run=True).to_dict()
    assert dry["reporters"] == {"removed": 1} and dry["reporter_kept"] is None
    with store.session() as s:
        assert s.get(Reporter, rid).key == "telegram:shop_one"  # dry run: still there
    with store.session() as s:
        real = delete_subject(s, user(s, "ann"), "telegram:shop_one").to_dict()
    assert real["reporters"] == dry["reporters"]
    with store.session() as s:
        who = s.get(Reporter, rid)
        assert who.key == f"removed:{rid}" and who.pseudonymised_at is not None
        report = s.get(UserReport, report_id)
        assert report.reporter_id == rid and report.text == "shop_one here: this one sells"
        entry = s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == "subject.delete")).one()
        assert entry.details["reporters"] == {"removed": 1}
        assert audit.verify(s) is None
    # with the pseudonymisation key: the keyed pseudonym, as retention gives it
    monkeypatch.setenv(KEY_ENV, str(generate_key(tmp_path / "pseudonym.key")))
    ingest(store, [record(5, author="telegram:buyer")])
    with store.session() as s:
        reports.file_report(s, reporter="telegram:buyer", reason="drug_sale", filed_by="root", item_id="telegram:4")
    with store.session() as s:
        assert delete_subject(s, user(s, "ann"), "telegram:buyer").reporters == {"pseudonymised": 1}
    with store.session() as s:
        assert s.scalars(select(Reporter).where(Reporter.key == reporter_pseudonym("telegram:buyer", load_key()))
                         ).one().reports == 1
        assert s.scalars(select(Reporter).where(Reporter.key == "telegram:buyer")).first() is None


def test_deletion_keeps_the_reporter_identity_a_hold_or_request_needs(store):
    """As retention: a reporter whose handle, or what they reported, a legal hold or a pending
    disclosure request covers keeps the handle; the result and the audit entry say why."""
    from plugwatch.store.intake_tables import Reporter

    _report_as_subject(store)
    with store.session() as s:
        rq.create_request(s, user(s, "ann"), agency="NCA", legal_basis="order", reference="N-2",
                          accounts=["telegram:other"])
    with store.session() as s:
        result = delete_subject(s, user(s, "ann"), "telegram:shop_one").to_dict()
    assert result["reporters"] == {} and "legal hold" in result["reporter_kept"]
    with store.session() as s:
        assert s.scalars(select(Reporter).where(Reporter.key == "telegram:shop_one")).one() is not None
        entry = s.scalars(select(schema.AuditEntry).where(schema.AuditEntry.action == "subject.delete")).one()
        assert entry.details["reporter_kept"] == result["reporter_kept"]
