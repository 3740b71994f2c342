"""Snapshots, the chain, disclosure requests, holds and retention against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from test_evidence_support import NOW, decide, ingest, make_store, record, use_signing_key, user
from typer.testing import CliRunner

from plugwatch.evidence import holds
from plugwatch.evidence import requests as rq
from plugwatch.evidence.package import PackedSnapshot, build_package, verify_package
from plugwatch.evidence.retention import load_policy, parse_policy, run_retention
from plugwatch.evidence.snapshot import EvidenceError, check_store_chain, load_files
from plugwatch.store import audit
from plugwatch.store.evidence_tables import ChainLink, Snapshot, SnapshotFile
from plugwatch.store.schema import AuditEntry, Item, utcnow


@pytest.fixture(autouse=True)
def signing_key(tmp_path, monkeypatch):
    return use_signing_key(tmp_path / "keys", monkeypatch)


@pytest.fixture
def store(db_url):
    st = make_store(db_url)
    ingest(st, [record(1, idents=[("wickr", "wickr:shop_one_1")]), record(2), record(3),
                record(4, author="telegram:other", idents=[("wickr", "wickr:shop_one_1")]),
                record(5, author="telegram:third", created="2024-01-05T00:00:00+00:00")])
    yield st
    st.dispose()


def _snaps(s):
    return list(s.scalars(select(Snapshot).order_by(Snapshot.seq)))


def test_actions_against_a_person_freeze_the_item_and_dismiss_does_not(store):
    decide(store, "telegram:1", "remove")
    decide(store, "telegram:2", "dismiss")
    decide(store, "telegram:3", "escalate", who="rev")
    decide(store, "telegram:4", "refer")
    with store.session() as s:
        snaps = _snaps(s)
        assert [(x.item_id, x.item_class) for x in snaps] == [("telegram:1", "remove"), ("telegram:4", "refer")]
        files = load_files(s, snaps[0].id)
        assert set(files) == {"raw.json", "item.json", "verdict.json", "decision.json", "account.json", "network.json"}
        assert json.loads(files["raw.json"]) == record(1)["raw"]
        assert json.loads(files["item.json"])["text"] == record(1)["text"]
        assert json.loads(files["verdict.json"])["reasons"][0]["signal"] == "drug_term"
        assert json.loads(files["decision.json"])["decision"]["actor"] == "lead1"
        assert json.loads(files["account.json"])["key"] == "telegram:shop_one"
        # the other account shares the wickr handle: it is in the network as it was at that moment
        members = json.loads(files["network.json"])["members"]
        assert [m["key"] for m in members] == ["telegram:other"]
        assert snaps[1].prev_digest == snaps[0].manifest_digest and snaps[0].prev_digest is None
        assert check_store_chain(s) == []
        freezes = s.scalars(select(AuditEntry).where(AuditEntry.action == "evidence.freeze")).all()
        assert len(freezes) == 2
        assert audit.verify(s) is None


def test_a_changed_stored_file_or_manifest_is_found(store):
    decide(store, "telegram:1", "remove")
    decide(store, "telegram:4", "refer")
    with store.session() as s:
        f = s.get(SnapshotFile, (1, "raw.json"))
        f.content = f.content.replace(b"bars", b"bats")
    with store.session() as s:
        assert ("snapshot 1/raw.json", "content differs from its recorded SHA-256") in check_store_chain(s)
        link = s.get(ChainLink, 2)
        link.prev = "0" * 64
    with store.session() as s:
        assert any(w == "chain seq 2" for w, _ in check_store_chain(s))


def test_local_media_is_frozen_but_never_from_outside_its_folder(db_url, tmp_path, monkeypatch):
    media = tmp_path / "media"
    media.mkdir()
    (media / "photo_1.jpg").write_bytes(b"\xff\xd8jpeg")
    (tmp_path / "secret.txt").write_text("do not copy")
    monkeypatch.setenv("PLUGWATCH_MEDIA_DIR", str(media))
    st = make_store(db_url)
    rec = record(1)
    rec["raw"] = {"id": 1, "photo": "photo_1.jpg", "file": "../secret.txt", "media": [{"path": "/etc/passwd"}]}
    ingest(st, [rec])
    decide(st, "telegram:1", "remove")
    with st.session() as s:
        files = load_files(s, 1)
        assert files["media/photo_1.jpg"] == b"\xff\xd8jpeg"
        assert not any("secret" in n or "passwd" in n for n in files)
    st.dispose()


def test_media_beside_an_export_ingested_by_a_relative_path_is_frozen_from_any_folder(db_url, detector, tmp_path,
                                                                                     monkeypatch):
    """`plugwatch ingest tg/result.json` kept the path as typed; the service, started in another folder,
    looked for tg/photos/ there and froze the item without its photo, saying nothing."""
    from plugwatch.evidence.snapshot import freeze
    from plugwatch.service.ingest import ingest_paths

    monkeypatch.delenv("PLUGWATCH_MEDIA_DIR", raising=False)
    (tmp_path / "tg" / "photos").mkdir(parents=True)
    (tmp_path / "tg" / "photos" / "p1.jpg").write_bytes(b"\xff\xd8jpeg")
    (tmp_path / "tg" / "result.json").write_text(json.dumps({
        "name": "Shop", "type": "public_channel", "id": 15, "messages": [
            {"id": 777, "type": "message", "date": "2025-01-01T10:00:00", "from": "Shop", "from_id": "channel15",
             "text": "pressed bars, wickr shop_one", "photo": "photos/p1.jpg"}]}))
    st = make_store(db_url)
    monkeypatch.chdir(tmp_path)
    assert ingest_paths(st, detector, ["tg/result.json"]).stored == 1
    monkeypatch.chdir(tmp_path / "tg")  # the service runs somewhere else
    with st.session() as s:
        item_id = s.scalars(select(Item.id)).one()
        sid = freeze(s, item_id, item_class="manual", actor="ann").id
    with st.session() as s:
        assert load_files(s, sid)["media/p1.jpg"] == b"\xff\xd8jpeg"
    st.dispose()


def _request(s, who="ann", **kw):
    args = dict(agency="DEA Boston", legal_basis="subpoena 18 USC 2703(c)(2)", reference="DEA-2025-1",
                accounts=["telegram:shop_one"], identifiers=["wickr:shop_one_1"])
    args.update(kw)
    return rq.create_request(s, user(s, who), **args)


def test_request_roles_and_separation_of_duties(store):
    with store.session() as s:
        with pytest.raises(rq.RequestDenied):
            _request(s, who="rev")
        with pytest.raises(rq.RequestDenied):
            _request(s, who="lead1")
    with store.session() as s:
        rid = _request(s, who="root").id  # admin may record
    for who, message in (("root", "role legal"), ("rev", "role legal"), ("lead1", "role legal")):
        with store.session() as s, pytest.raises(rq.RequestDenied, match=message):
            rq.approve_request(s, user(s, who), rid)
    with store.session() as s:
        with pytest.raises(rq.RequestDenied):
            rq.export_request(s, user(s, "rev"), rid)
        with pytest.raises(EvidenceError, match="only an approved request"):
            rq.export_request(s, user(s, "ann"), rid)
    with store.session() as s:
        rid2 = _request(s, who="ann").id
    with store.session() as s, pytest.raises(rq.RequestDenied, match="another legal user"):
        rq.approve_request(s, user(s, "ann"), rid2)
    with store.session() as s:
        assert rq.approve_request(s, user(s, "bob"), rid2).state == "approved"
    with store.session() as s, pytest.raises(EvidenceError, match="not a draft"):
        rq.approve_request(s, user(s, "bob"), rid2)


def test_request_scope_is_validated(store):
    with store.session() as s:
        with pytest.raises(EvidenceError, match="at least one account or identifier"):
            _request(s, accounts=[], identifiers=[])
        with pytest.raises(EvidenceError, match="platform:handle"):
            _request(s, accounts=["shop_one"])
        with pytest.raises(EvidenceError, match="backwards"):
            _request(s, date_from="2025-02-02", date_to="2025-01-01")
        with pytest.raises(EvidenceError, match="emergency"):
            _request(s, emergency=True)
        req = _request(s, identifiers=["Wickr:@Shop_One_1", "+44 7911 123456"], emergency=True,
                       emergency_reason="threat to life")
        assert req.scope["identifiers"] == ["phone|+447911123456", "wickr|wickr:shop_one_1"]
        assert req.due_date == req.created_at.date()  # emergencies are due today


def test_a_request_scope_is_shown_readably(store, db_url, tmp_path):
    """The scope is kept as type|canonical for its queries but never shown that way (was `wickr|wickr:x`)."""
    from plugwatch.cli import app

    decide(store, "telegram:1", "remove")
    runner = CliRunner()
    res = runner.invoke(app, ["evidence", "request", "create", "--agency", "NCA", "--legal-basis", "order",
                              "--reference", "NCA-1", "--account", "telegram:shop_one", "--identifier",
                              "wickr:shop_one_1", "--identifier", "+44 7911 123456", "--from", "2025-01-01",
                              "--user", "ann", "--db", db_url])
    assert res.exit_code == 0, res.output
    assert ("scope: accounts telegram:shop_one; identifiers phone: +447911123456, wickr: shop_one_1; "
            "2025-01-01 to any day") in _said(res)
    rid = int(res.stdout)
    with store.session() as s:
        req = s.get(rq.DisclosureRequest, rid)
        assert req.scope["identifiers"] == ["phone|+447911123456", "wickr|wickr:shop_one_1"]  # stored form
        shown = rq.request_dict(req)["scope"]
        assert shown["identifiers"] == ["phone: +447911123456", "wickr: shop_one_1"]
        assert rq.normalise_scope([], shown["identifiers"])["identifiers"] == req.scope["identifiers"]  # reads back
        rq.approve_request(s, user(s, "bob"), rid)
    listed = runner.invoke(app, ["evidence", "request", "list", "--user", "ann", "--db", db_url])
    assert '"wickr: shop_one_1"' in listed.stdout and "|" not in listed.stdout
    with store.session() as s:
        pkg = rq.export_request(s, user(s, "bob"), rid)
    zf = zipfile.ZipFile(io.BytesIO(pkg.data))
    assert "wickr: shop_one_1" in zf.read("summary.html").decode()
    assert b"wickr|" not in zf.read("summary.html") and b"wickr|" not in zf.read("manifest.json")


def test_listing_requests_and_holds_on_the_command_line_is_audited_as_on_the_api(store, db_url):
    """`evidence request list` and `hold list` show every request and hold to whoever names a legal
    user; the API's lists were audit entries, the command line's were not (an unrecorded look)."""
    from plugwatch.cli import app

    with store.session() as s:
        _request(s)
    runner = CliRunner()
    assert runner.invoke(app, ["evidence", "request", "list", "--user", "ann", "--db", db_url]).exit_code == 0
    assert runner.invoke(app, ["hold", "list", "--user", "bob", "--db", db_url]).exit_code == 0
    with store.session() as s:
        looks = [(e.actor, e.action, e.details["count"]) for e in s.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(("request.list", "hold.list"))).order_by(AuditEntry.seq))]
    assert looks == [("ann", "request.list", 1), ("bob", "hold.list", 1)]


def test_a_hold_on_an_item_nothing_is_stored_of_is_recorded_with_a_warning(store, db_url):
    """`hold add --item 1` (the native id without its platform) protected nothing and said nothing,
    while a misspelt account was warned about and a missing snapshot refused."""
    from plugwatch.cli import app

    runner = CliRunner()
    typo = runner.invoke(app, ["hold", "add", "--item", "1", "--reason", "court order 5", "--user", "ann", "--db", db_url])
    assert typo.exit_code == 0 and "warning: no item 1 is stored yet" in _said(typo)
    right = runner.invoke(app, ["hold", "add", "--item", "telegram:1", "--reason", "court order 5", "--user", "ann",
                                "--db", db_url])
    assert right.exit_code == 0 and "warning" not in right.output
    with store.session() as s:
        assert sorted(h.target for h in holds.active_holds(s)) == ["1", "telegram:1"]  # both recorded


def test_export_holds_every_matching_snapshot_and_verifies(store):
    decide(store, "telegram:1", "remove")
    decide(store, "telegram:5", "remove")  # another account: out of scope
    with store.session() as s:
        rid = _request(s, date_from="2025-01-01", date_to="2025-12-31").id
        # recording a request puts its accounts on hold at once
        assert [(h.target_type, h.target) for h in holds.active_holds(s)] == [("account", "telegram:shop_one"),
                                                                             ("snapshot", "1")]
    with store.session() as s:
        rq.approve_request(s, user(s, "bob"), rid, note="checked the subpoena")
    with store.session() as s:
        pkg = rq.export_request(s, user(s, "bob"), rid)
    report = verify_package(pkg.data)
    assert report.ok, report.problems
    zf = zipfile.ZipFile(io.BytesIO(pkg.data))
    manifest = json.loads(zf.read("manifest.json"))
    items = sorted(x["item"] for x in manifest["snapshots"])
    # telegram:1 (removed), 2 and 3 (same account, frozen at approval), 4 (shares the wickr id)
    assert items == ["telegram:1", "telegram:2", "telegram:3", "telegram:4"]
    custody = [json.loads(line) for line in zf.read("custody.jsonl").splitlines()]
    assert [(c["action"], c["actor"]) for c in custody] == [("created", "ann"), ("approved", "bob"), ("exported", "bob")]
    with store.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
        assert {"request.create", "request.approve", "request.export", "hold.add"} <= set(actions)
        assert audit.verify(s) is None
        export = s.scalars(select(AuditEntry).where(AuditEntry.action == "request.export")).one()
        assert export.details["package_sha256"] == pkg.sha256
    # exporting again is allowed, logged, and its custody log has both exports
    with store.session() as s:
        again = rq.export_request(s, user(s, "ann"), rid)
    assert verify_package(again.data).ok
    assert zipfile.ZipFile(io.BytesIO(again.data)).read("custody.jsonl").count(b'"exported"') == 2


def test_one_command_exports_and_verify_names_a_changed_byte(store, db_url, tmp_path):
    from plugwatch.cli import app

    decide(store, "telegram:1", "remove")
    runner = CliRunner()
    db = ["--db", db_url]
    res = runner.invoke(app, ["evidence", "request", "create", "--agency", "NCA", "--legal-basis", "production order",
                              "--reference", "NCA-9", "--account", "telegram:shop_one", "--user", "ann", *db])
    assert res.exit_code == 0, res.output
    rid = res.stdout.strip()
    denied = runner.invoke(app, ["evidence", "request", "approve", rid, "--user", "ann", *db])
    assert denied.exit_code == 2 and "another legal user" in denied.output
    assert runner.invoke(app, ["evidence", "request", "approve", rid, "--user", "bob", *db]).exit_code == 0
    out = tmp_path / "pkg.zip"
    res = runner.invoke(app, ["evidence", "request", "export", rid, "-o", str(out), "--user", "bob", *db])
    assert res.exit_code == 0, res.output
    ok = runner.invoke(app, ["evidence", "verify", str(out)])
    assert ok.exit_code == 0 and ok.stdout.strip() == res.stdout.strip()  # the SHA-256 printed at export
    data = bytearray(out.read_bytes())
    zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = zf.getinfo("snapshots/1/item.json")
    data[info.header_offset + 30 + len(info.filename) + 10] ^= 0x01
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    res = runner.invoke(app, ["evidence", "verify", str(bad)])
    assert res.exit_code == 3 and "snapshots/1/item.json" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["evidence", "verify", str(tmp_path / "missing.zip")])
    assert res.exit_code == 2 and "cannot read" in res.output


def _said(result) -> str:
    """A command's output with the terminal's line wrapping undone."""
    return " ".join(result.output.split())


def _approved_request(store, db_url) -> str:
    decide(store, "telegram:1", "remove")
    with store.session() as s:
        rid = _request(s).id
    with store.session() as s:
        rq.approve_request(s, user(s, "bob"), rid)
    return str(rid)


def test_cli_signs_exports_and_verify_checks_the_signature_and_the_audit_log(store, db_url, tmp_path, monkeypatch):
    from plugwatch.cli import app
    from plugwatch.evidence.signing import KEY_ENV

    monkeypatch.delenv(KEY_ENV)
    runner = CliRunner()
    key = tmp_path / "org" / "signing.key"
    made = runner.invoke(app, ["evidence", "keygen", str(key)])
    assert made.exit_code == 0, made.output
    fingerprint = made.stdout.strip()
    assert fingerprint.startswith("sha256:") and (tmp_path / "org" / "signing.key.pub").exists()
    again = runner.invoke(app, ["evidence", "keygen", str(key)])
    assert again.exit_code == 2 and "exists" in _said(again)

    rid = _approved_request(store, db_url)
    out = tmp_path / "pkg.zip"
    res = runner.invoke(app, ["evidence", "request", "export", rid, "-o", str(out), "--user", "bob",
                              "--signing-key", str(key), "--db", db_url])
    assert res.exit_code == 0, res.output
    assert f"signed with key {fingerprint}" in res.output
    digest = res.stdout.strip()

    checked = runner.invoke(app, ["evidence", "verify", str(out), "--public-key", f"{key}.pub", "--db", db_url])
    assert checked.exit_code == 0, checked.output
    assert f"signature verified: signed by key {fingerprint}" in checked.output
    assert f"the audit log records this export: request {rid} by bob" in checked.output
    assert checked.stdout.strip() == digest
    plain = runner.invoke(app, ["evidence", "verify", str(out)])
    assert plain.exit_code == 0 and "integrity only" in _said(plain) and fingerprint in _said(plain)

    # a forged package: same request, a changed snapshot, every digest recomputed, no key of ours
    forged = tmp_path / "forged.zip"
    zf = zipfile.ZipFile(io.BytesIO(out.read_bytes()))
    manifest = json.loads(zf.read("manifest.json"))
    custody = [json.loads(line) for line in zf.read("custody.jsonl").splitlines()]
    snaps = [PackedSnapshot(s["id"], json.loads(zf.read(f"snapshots/{s['id']}/manifest.json")),
                            {n[len(f"snapshots/{s['id']}/"):]: zf.read(n) for n in zf.namelist()
                             if n.startswith(f"snapshots/{s['id']}/") and not n.endswith("/manifest.json")})
             for s in manifest["snapshots"]]
    chain = [json.loads(line) for line in zf.read("chain.jsonl").splitlines()]
    forged.write_bytes(build_package(request=manifest["request"], snapshots=snaps, chain=chain, custody=custody[:-1],
                                     exported_by="bob", exported_role="legal").data)
    assert runner.invoke(app, ["evidence", "verify", str(forged)]).exit_code == 0  # integrity only: UNSIGNED
    caught = runner.invoke(app, ["evidence", "verify", str(forged), "--public-key", f"{key}.pub"])
    assert caught.exit_code == 3 and "not signed" in _said(caught)
    unknown = runner.invoke(app, ["evidence", "verify", str(forged), "--db", db_url])
    assert unknown.exit_code == 3 and "did not export this package" in _said(unknown)
    wrong_key = runner.invoke(app, ["evidence", "verify", str(out), "--public-key", str(key)])
    assert wrong_key.exit_code == 2 and "is a private key" in _said(wrong_key)
    with store.session() as s:
        export = s.scalars(select(AuditEntry).where(AuditEntry.action == "request.export")).one()
        assert export.details["package_sha256"] == digest and export.details["signing_key"] == fingerprint


def test_an_export_without_a_signing_key_is_refused_unless_unsigned_is_asked_for(store, db_url, tmp_path, monkeypatch):
    from plugwatch.cli import app
    from plugwatch.errors import UserError
    from plugwatch.evidence.signing import KEY_ENV

    monkeypatch.delenv(KEY_ENV)
    rid = _approved_request(store, db_url)
    with store.session() as s, pytest.raises(UserError, match="plugwatch evidence keygen"):
        rq.export_request(s, user(s, "bob"), int(rid))
    runner = CliRunner()
    out = tmp_path / "pkg.zip"
    refused = runner.invoke(app, ["evidence", "request", "export", rid, "-o", str(out), "--user", "bob", "--db", db_url])
    assert refused.exit_code == 2 and "plugwatch evidence keygen" in _said(refused) and not out.exists()
    with store.session() as s:
        assert s.get(rq.DisclosureRequest, int(rid)).exports == 0  # nothing was logged as exported
    res = runner.invoke(app, ["evidence", "request", "export", rid, "-o", str(out), "--user", "bob", "--unsigned",
                              "--db", db_url])
    assert res.exit_code == 0 and "WARNING: UNSIGNED package" in _said(res)
    ok = runner.invoke(app, ["evidence", "verify", str(out)])
    assert ok.exit_code == 0 and "UNSIGNED package, integrity only" in _said(ok)


# ------------------------------------------------------------------------------------ retention


POLICY = """
[snapshots]
warn = 30
remove = 60
refer = "forever"
default = 90
[items]
dismissed = 90
"""


def test_policy_parsing_names_the_bad_key(tmp_path):
    p = parse_policy(POLICY, "x.toml")
    assert p.days_for("warn") == 30 and p.days_for("refer") is None and p.days_for("suspend") == 90
    with pytest.raises(EvidenceError, match="x.toml: snapshots.warn"):
        parse_policy("[snapshots]\nwarn = -1\n", "x.toml")
    with pytest.raises(EvidenceError, match="unknown section"):
        parse_policy("[snapshot]\nwarn = 1\n", "x.toml")
    with pytest.raises(EvidenceError, match="not valid TOML"):
        parse_policy("[snapshots\n", "x.toml")
    built_in = load_policy()
    assert built_in.days_for("refer") == 2555 and built_in.dismissed_items == 90


def test_a_policy_with_too_many_days_or_a_misspelt_class_is_one_clear_error(store, db_url, tmp_path):
    """`default = 1000000` ended `retention run` in a traceback (OverflowError: date value out of
    range); `remvoe = 5` was accepted and removals kept for the default instead."""
    from plugwatch.cli import app

    with pytest.raises(EvidenceError, match=r'x.toml: items.dismissed: 1000000 days is more than a hundred years: '
                                            r'write "forever"'):
        parse_policy("[items]\ndismissed = 1000000\n", "x.toml")
    with pytest.raises(EvidenceError, match=r"x.toml: unknown key snapshots.remvoe \(snapshot classes: .*remove"):
        parse_policy("[snapshots]\nremvoe = 5\n", "x.toml")
    assert parse_policy("[snapshots]\nmanual = 36525\nhold = 0\n", "x.toml").days_for("manual") == 36525
    decide(store, "telegram:1", "remove")
    (tmp_path / "p.toml").write_text("[snapshots]\ndefault = 99999999999\n")
    res = CliRunner().invoke(app, ["retention", "run", "--dry-run", "--policy", str(tmp_path / "p.toml"), "--db", db_url])
    assert res.exit_code == 2 and "more than a hundred years" in _said(res) and "Traceback" not in res.output


def test_retention_deletes_what_it_should_and_never_a_held_snapshot(store):
    old, recent = NOW - timedelta(days=100), NOW - timedelta(days=10)
    decide(store, "telegram:1", "warn", now=old)  # 1: warn, 100 days: expired
    decide(store, "telegram:2", "remove", now=old)  # 2: remove, 100 days: expired, but held below
    decide(store, "telegram:3", "warn", now=recent)  # 3: warn, 10 days: kept
    decide(store, "telegram:4", "refer", now=old)  # 4: refer, forever
    decide(store, "telegram:5", "dismiss", now=old)  # dismissed item, 100 days: deleted
    with store.session() as s:
        holds.add_hold(s, "item", "telegram:2", "case 17", "ann")
    policy = parse_policy(POLICY, "test")
    with store.session() as s:
        dry = run_retention(s, policy, now=NOW, dry_run=True)
    assert [r["snapshot"] for r in dry.deleted] == [1] and [r["snapshot"] for r in dry.kept_on_hold] == [2]
    assert dry.deleted_items == ["telegram:5"]
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Snapshot)) == 4  # dry run deleted nothing
    with store.session() as s:
        result = run_retention(s, policy, now=NOW)
    assert [r["snapshot"] for r in result.deleted] == [1]
    assert [r["snapshot"] for r in result.kept_on_hold] == [2]
    with store.session() as s:
        assert [x.id for x in _snaps(s)] == [2, 3, 4]
        assert s.get(SnapshotFile, (1, "raw.json")) is None
        assert s.get(ChainLink, 1).deleted_at is not None  # the link stays: the chain still verifies
        assert check_store_chain(s) == []
        assert s.get(Item, "telegram:5") is None and s.get(Item, "telegram:1") is not None
        deleted = s.scalars(select(AuditEntry).where(AuditEntry.action == "evidence.delete")).all()
        assert [e.subject for e in deleted] == ["snapshot:1"]
        assert audit.verify(s) is None
    # once the hold is released, the next run deletes it
    with store.session() as s:
        holds.release_hold(s, holds.active_holds(s)[0].id, "bob")
    with store.session() as s:
        assert [r["snapshot"] for r in run_retention(s, policy, now=NOW).deleted] == [2]


def test_account_hold_protects_snapshots_frozen_later(store):
    with store.session() as s:
        holds.add_hold(s, "account", "Telegram:Shop_One", "preservation letter", "ann")
    decide(store, "telegram:1", "warn", now=NOW - timedelta(days=400))
    with store.session() as s:
        result = run_retention(s, parse_policy(POLICY, "t"), now=NOW)
    assert result.deleted == [] and [r["snapshot"] for r in result.kept_on_hold] == [1]


def test_snapshots_frozen_on_approval_through_an_identifier_are_held(store):
    # telegram:4 belongs to another account and is in scope only through the Wickr name: the request's
    # account hold does not cover the snapshot frozen for it on approval, so the request holds it itself
    with store.session() as s:
        req = rq.create_request(s, user(s, "ann"), agency="NCA", legal_basis="order", reference="N-1",
                                accounts=["telegram:third"], identifiers=["wickr:shop_one_1"])
        assert [h.target_type for h in holds.active_holds(s)] == ["account"]
        rq.approve_request(s, user(s, "bob"), req.id)
    with store.session() as s:
        by_item = {x.item_id: x.id for x in _snaps(s)}
        assert set(by_item) == {"telegram:1", "telegram:4", "telegram:5"}
        held = {(h.target_type, h.target) for h in holds.active_holds(s)}
        assert held == {("account", "telegram:third"), ("snapshot", str(by_item["telegram:1"])),
                        ("snapshot", str(by_item["telegram:4"]))}
        zero = parse_policy("[snapshots]\ndefault = 0\ndisclosure = 0\n[items]\ndismissed = 0\n", "t")
        result = run_retention(s, zero, now=utcnow() + timedelta(days=1))  # frozen just now, expired tomorrow
    assert result.deleted == [] and len(result.kept_on_hold) == 3


def _quiet(n, author="telegram:passer_by", idents=()):
    """A post the detector scored low: stored by the ingest, never queued for review."""
    rec = record(n, author=author, text=f"selling my old bike {n}", idents=idents)
    rec.update(score=0.04, flagged=False, kind=None, drugs=[], reasons=[])
    return rec


def test_items_never_queued_expire_under_the_built_in_policy(store):
    """Items no rule or reviewer ever touched were kept forever (only dismissed items expired): the
    default policy now deletes them `items.never_queued` days after they were received."""
    from plugwatch.store.schema import ItemIdentifier, ReviewTask

    ingest(store, [_quiet(10, idents=[("phone", "+447700900123")]), _quiet(11)], now=NOW - timedelta(days=100))
    ingest(store, [_quiet(12)], now=NOW - timedelta(days=5))
    policy = load_policy()
    assert policy.never_queued_items == 30
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(ReviewTask).where(
            ReviewTask.item_id.in_(["telegram:10", "telegram:11", "telegram:12"]))) == 0
        result = run_retention(s, policy, now=NOW)
    assert result.deleted_never_queued == ["telegram:10", "telegram:11"]
    with store.session() as s:
        assert s.get(Item, "telegram:10") is None and s.get(Item, "telegram:11") is None
        assert s.get(Item, "telegram:12") is not None  # 5 days old: kept
        assert s.get(Item, "telegram:1") is not None  # queued, waiting for a reviewer: not this rule's
        assert s.scalar(select(func.count()).select_from(ItemIdentifier)
                        .where(ItemIdentifier.item_id == "telegram:10")) == 0
        deleted = s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.delete_item")
                            .order_by(AuditEntry.seq)).all()
        assert [e.subject for e in deleted] == ["item:telegram:10", "item:telegram:11"]
        assert "never queued" in deleted[0].details["reason"]
        run = s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.run")).one()
        assert run.details["never_queued_items_deleted"] == 2
        assert audit.verify(s) is None


def test_items_never_queued_are_kept_under_a_hold_in_evidence_reported_or_in_a_pending_request(store):
    from plugwatch.evidence.snapshot import freeze
    from plugwatch.store.reports import file_report

    old = NOW - timedelta(days=100)
    ingest(store, [_quiet(10), _quiet(11), _quiet(12, author="telegram:held_one"), _quiet(13), _quiet(14),
                   _quiet(15, idents=[("wickr", "wickr:asked_for")]), _quiet(16), _quiet(17)], now=old)
    with store.session() as s:
        holds.add_hold(s, "item", "telegram:11", "case 17", "ann", now=old)
        holds.add_hold(s, "account", "telegram:held_one", "preservation letter", "ann", now=old)
        freeze(s, "telegram:13", item_class="disclosure", actor="ann", now=NOW - timedelta(days=10))
        freeze(s, "telegram:17", item_class="disclosure", actor="ann", now=old)  # expires in this run: both go
        file_report(s, reporter="telegram:neighbour", reason="drug_sale", filed_by="root", item_id="telegram:14",
                    now=old)
        rq.create_request(s, user(s, "ann"), agency="NCA", legal_basis="order", reference="N-2",
                          identifiers=["wickr:asked_for"], now=old)  # a draft: approval will freeze 15
    policy = parse_policy(POLICY + "never_queued = 30\n", "t")
    with store.session() as s:
        dry = run_retention(s, policy, now=NOW, dry_run=True)
    assert dry.deleted_never_queued == ["telegram:10", "telegram:16", "telegram:17"]
    assert [r["item"] for r in dry.deleted] == ["telegram:17"]
    assert sorted(dry.items_on_hold) == ["telegram:11", "telegram:12"]
    with store.session() as s:
        assert s.get(Item, "telegram:10") is not None  # a dry run deletes nothing
        result = run_retention(s, policy, now=NOW)
    assert result.deleted_never_queued == ["telegram:10", "telegram:16", "telegram:17"]
    with store.session() as s:
        assert {i.id for i in s.scalars(select(Item))} >= {f"telegram:{n}" for n in (11, 12, 13, 14, 15)}
        assert not {"telegram:10", "telegram:16", "telegram:17"} & {i.id for i in s.scalars(select(Item))}
        assert check_store_chain(s) == []
    # "forever" keeps them, as for every other class
    ingest(store, [_quiet(20)], now=old)
    with store.session() as s:
        kept = run_retention(s, parse_policy("[items]\nnever_queued = \"forever\"\n", "t"), now=NOW)
    assert kept.deleted_never_queued == []


def _account_state(s, key):
    from plugwatch.store.schema import Account, AccountIdentifier

    links = s.scalar(select(func.count()).select_from(AccountIdentifier).where(AccountIdentifier.account_key == key))
    return s.get(Account, key) is not None, links


def test_accounts_left_without_items_are_deleted_with_their_unused_identifiers(store):
    """Retention deleted the items of people nothing was found against but kept their account rows
    (handle, display name, bio) and identifier links forever: the account goes with its last item."""
    from plugwatch.store.schema import Identifier

    old = NOW - timedelta(days=100)
    ingest(store, [_quiet(10, author="telegram:gone", idents=[("phone", "+447700900555"), ("wickr", "wickr:shop_one_1")]),
                   _quiet(11, author="telegram:stays"), _quiet(13, author="telegram:dismissed")], now=old)
    ingest(store, [_quiet(12, author="telegram:stays")], now=NOW - timedelta(days=5))
    with store.session() as s:
        assert _account_state(s, "telegram:gone") == (True, 2)
        phone = s.scalars(select(Identifier.id).where(Identifier.canonical == "+447700900555")).one()
    policy = load_policy()
    assert policy.accounts_without_items == 30
    with store.session() as s:
        dry = run_retention(s, policy, now=NOW, dry_run=True)
    assert dry.deleted_accounts == ["telegram:dismissed", "telegram:gone"]
    with store.session() as s:
        assert _account_state(s, "telegram:gone") == (True, 2)  # a dry run deletes nothing
        assert s.get(Identifier, phone) is not None
        result = run_retention(s, policy, now=NOW)
    assert result.deleted_accounts == ["telegram:dismissed", "telegram:gone"]
    with store.session() as s:
        assert _account_state(s, "telegram:gone") == (False, 0)
        assert s.get(Identifier, phone) is None  # nothing else used it
        # still used by telegram:1 and telegram:4 (and their accounts): kept
        assert s.scalars(select(Identifier.id).where(Identifier.canonical == "wickr:shop_one_1")).one_or_none()
        assert _account_state(s, "telegram:stays")[0]  # one item left
        assert _account_state(s, "telegram:shop_one")[0]  # queued items
        deleted = s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.delete_account")
                            .order_by(AuditEntry.seq)).all()
        assert [e.subject for e in deleted] == ["account:telegram:dismissed", "account:telegram:gone"]
        assert "no item left" in deleted[0].details["reason"]
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.accounts")).one().details["rows"]
        assert rows["accounts"] == 2 and rows["account_identifiers"] == 2 and rows["identifiers"] == 1
        run = s.scalars(select(AuditEntry).where(AuditEntry.action == "retention.run")).one()
        assert run.details["accounts_deleted"] == 2
        assert audit.verify(s) is None
    # "forever" (and a policy without the key) keeps them
    ingest(store, [_quiet(20, author="telegram:kept_forever")], now=old)
    for text in ("[items]\nnever_queued = 30\n[accounts]\nwithout_items = \"forever\"\n",
                 "[items]\nnever_queued = 30\n"):
        with store.session() as s:
            assert run_retention(s, parse_policy(text, "t"), now=NOW).deleted_accounts == []


def test_accounts_without_items_are_kept_while_something_names_them(store):
    from plugwatch.evidence.snapshot import freeze
    from plugwatch.store.reports import file_report
    from plugwatch.store.schema import Account

    old = NOW - timedelta(days=100)
    names = ["a_held", "a_frozen", "a_reported", "a_requested", "a_identified", "a_recent", "a_suspended", "a_free"]
    ingest(store, [_quiet(10, author="telegram:a_held"), _quiet(12, author="telegram:a_reported"),
                   _quiet(13, author="telegram:a_requested"),
                   _quiet(14, author="telegram:a_identified", idents=[("wickr", "wickr:asked_for")]),
                   _quiet(15, author="telegram:a_free"), _quiet(16, author="telegram:a_recent"),
                   _quiet(17, author="telegram:a_suspended"), record(11, author="telegram:a_frozen")], now=old)
    decide(store, "telegram:11", "dismiss", now=old)  # dismissed, then frozen: the item goes, its snapshot stays
    decide(store, "telegram:5", "warn", now=old)  # telegram:third: a decided item and a strike
    with store.session() as s:
        freeze(s, "telegram:11", item_class="disclosure", actor="ann", now=NOW - timedelta(days=10))
    # every item of these accounts goes first (an item hold or request would keep the item itself)
    with store.session() as s:
        run_retention(s, parse_policy(POLICY + "never_queued = 30\n", "t"), now=NOW)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Item).where(
            Item.account_key.in_([f"telegram:{n}" for n in names]))) == 0
        holds.add_hold(s, "account", "Telegram:A_Held", "preservation letter", "ann", now=NOW)
        file_report(s, reporter="telegram:neighbour", reason="drug_sale", filed_by="root",
                    account_key="telegram:a_reported", now=NOW)
        rq.create_request(s, user(s, "ann"), agency="NCA", legal_basis="order", reference="N-3",
                          identifiers=["wickr:asked_for"], now=NOW)  # a draft, by an identifier of a_identified
        rq.create_request(s, user(s, "ann"), agency="NCA", legal_basis="order", reference="N-4",
                          accounts=["telegram:a_requested"], now=NOW)
        s.get(Account, "telegram:a_recent").last_seen = NOW - timedelta(days=3)  # a profile update, say
        s.get(Account, "telegram:a_suspended").suspended_at = old
    with store.session() as s:
        # the request's own account hold protects it; released, the draft's scope still names it
        for h in holds.active_holds(s):
            if h.target == "telegram:a_requested":
                holds.release_hold(s, h.id, "bob", now=NOW)
    policy = parse_policy(POLICY + "never_queued = 30\n[accounts]\nwithout_items = 30\n", "t")
    with store.session() as s:
        result = run_retention(s, policy, now=NOW)
    assert result.deleted_accounts == ["telegram:a_free"]
    with store.session() as s:
        left = set(s.scalars(select(Account.key)))
        assert {f"telegram:{n}" for n in names if n != "a_free"} <= left
        assert {"telegram:third", "telegram:shop_one", "telegram:other"} <= left  # items, decisions, strikes
        assert "telegram:a_free" not in left


def test_retention_cli_prints_what_it_deleted(store, db_url, tmp_path):
    from plugwatch.cli import app

    decide(store, "telegram:1", "warn", now=NOW - timedelta(days=3000))
    policy = tmp_path / "p.toml"
    policy.write_text(POLICY)
    runner = CliRunner()
    res = runner.invoke(app, ["retention", "run", "--policy", str(policy), "--dry-run", "--db", db_url])
    assert res.exit_code == 0 and "would delete snapshot 1 (warn" in res.stdout
    res = runner.invoke(app, ["retention", "run", "--policy", str(policy), "--db", db_url])
    assert res.exit_code == 0 and "deleted snapshot 1 (warn" in res.stdout
    ingest(store, [_quiet(10)], now=NOW - timedelta(days=3000))
    policy.write_text(POLICY + "never_queued = 30\n")
    res = runner.invoke(app, ["retention", "run", "--policy", str(policy), "--dry-run", "--db", db_url])
    assert res.exit_code == 0 and "would delete never-queued item telegram:10" in res.stdout
    assert "1 never-queued item(s)" in res.output
    res = runner.invoke(app, ["retention", "run", "--policy", str(policy), "--db", db_url])
    assert res.exit_code == 0 and "deleted never-queued item telegram:10" in res.stdout
    ingest(store, [_quiet(11, author="telegram:passer_by_2")], now=NOW - timedelta(days=3000))
    policy.write_text(POLICY + "never_queued = 30\n[accounts]\nwithout_items = 0\n")
    res = runner.invoke(app, ["retention", "run", "--policy", str(policy), "--dry-run", "--db", db_url])
    assert res.exit_code == 0 and "would delete account telegram:passer_by_2 (no item left)" in res.stdout
    assert "would delete account telegram:passer_by (no item left)" in res.stdout  # its item went above
    assert "2 account(s) without items" in " ".join(res.output.split())
    res = runner.invoke(app, ["retention", "run", "--policy", str(policy), "--db", db_url])
    assert res.exit_code == 0 and "deleted account telegram:passer_by_2" in res.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[snapshots]\nwarn = 'soon'\n")
    res = runner.invoke(app, ["retention", "run", "--policy", str(bad), "--db", db_url])
    assert res.exit_code == 2 and "bad.toml:snapshots.warn" in "".join(res.output.split())


def test_stored_content_edited_into_text_is_tampering_not_a_crash(store, db_url, tmp_path):
    """A hand edit in SQLite (`replace(content, ...)`) turns a file's BLOB into TEXT: `evidence check`
    and `request export` name the snapshot and file and exit 3 (was a TypeError traceback, exit 1)."""
    from sqlalchemy import text

    from plugwatch.cli import app

    if not db_url.startswith("sqlite"):
        pytest.skip("only SQLite lets a BLOB column hold TEXT")
    rid = _approved_request(store, db_url)
    with store.session() as s:
        s.execute(text("update snapshot_files set content = replace(content, 'a', 'b') "
                       "where snapshot_id = 1 and name = 'raw.json'"))
    with store.session() as s:
        assert ("snapshot 1/raw.json", "stored content is TEXT, not bytes: it was changed outside plugwatch") \
            in check_store_chain(s)
    runner = CliRunner()
    res = runner.invoke(app, ["evidence", "check", "--db", db_url])
    assert res.exit_code == 3, res.output
    assert "snapshot 1/raw.json" in _said(res) and "TEXT" in res.output and "Traceback" not in res.output
    out = tmp_path / "pkg.zip"
    res = runner.invoke(app, ["evidence", "request", "export", rid, "-o", str(out), "--user", "bob", "--db", db_url])
    assert res.exit_code == 3, res.output
    assert "snapshot 1/raw.json" in _said(res) and "Traceback" not in res.output and not out.exists()


def test_export_refuses_evidence_that_fails_its_check_and_audits_the_refusal(store, db_url, tmp_path):
    """`evidence check` exits 3 on a changed stored file: the export must not sign and send that file
    (it used to), but name the snapshot and the failure, exit 3, and leave an audit entry."""
    from plugwatch.cli import app

    rid = _approved_request(store, db_url)
    with store.session() as s:
        f = s.get(SnapshotFile, (1, "raw.json"))
        f.content = f.content.replace(b"bars", b"bats")
    with store.session() as s, pytest.raises(EvidenceError, match="snapshot 1/raw.json"):
        rq.export_request(s, user(s, "bob"), int(rid))
    runner = CliRunner()
    assert runner.invoke(app, ["evidence", "check", "--db", db_url]).exit_code == 3
    out = tmp_path / "pkg.zip"
    res = runner.invoke(app, ["evidence", "request", "export", rid, "-o", str(out), "--user", "bob", "--db", db_url])
    assert res.exit_code == 3, res.output
    said = _said(res)
    assert "snapshot 1/raw.json: content differs from its recorded SHA-256" in said and "not exported" in said
    assert not out.exists() and not out.with_name(out.name + ".part").exists()
    with store.session() as s:
        assert s.get(rq.DisclosureRequest, int(rid)).exports == 0
        assert not s.scalars(select(AuditEntry).where(AuditEntry.action == "request.export")).all()
        refused = s.scalars(select(AuditEntry).where(AuditEntry.action == "request.export_refused")).one()
        assert refused.actor == "bob" and refused.subject == f"request:{rid}"
        assert "snapshot 1/raw.json: content differs from its recorded SHA-256" in refused.details["problems"]
        assert audit.verify(s) is None


def test_the_approval_fixes_the_scope_a_later_export_does_not_grow(store, db_url):
    """An item of the requested account ingested and frozen after the approval is not in a re-export
    (it was: the scope was matched again at each export); the approval's custody entry lists the
    snapshots it covers."""
    decide(store, "telegram:1", "remove")
    with store.session() as s:
        rid = _request(s).id
    with store.session() as s:
        rq.approve_request(s, user(s, "bob"), rid)
    with store.session() as s:
        first = rq.export_request(s, user(s, "bob"), rid)
        approved = [e for e in rq.custody_of(s, rid) if e["action"] == "approved"][0]
    items = sorted(x["item"] for x in json.loads(zipfile.ZipFile(io.BytesIO(first.data)).read("manifest.json"))["snapshots"])
    assert items == ["telegram:1", "telegram:2", "telegram:3", "telegram:4"]
    ingest(store, [record(6)])  # same account, in the date range, after the approval
    decide(store, "telegram:6", "remove")  # frozen now: in the request's scope, not in its approval
    with store.session() as s:
        again = rq.export_request(s, user(s, "ann"), rid)
        shown = [x.id for x in rq.matching_snapshots(s, user(s, "ann"), rid)]
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(again.data)).read("manifest.json"))
    assert sorted(x["item"] for x in manifest["snapshots"]) == items
    assert verify_package(again.data).ok
    covered = approved["details"].get("snapshots")
    assert len(covered) == 4 and shown == covered


def test_an_export_missing_approved_snapshots_deleted_since_says_so(store, db_url, tmp_path):
    """Approved, holds released, the snapshots deleted by retention: a re-export wrote a package with
    none of them and said only "wrote …: 7 files" (the gap was in the audit entry alone)."""
    from plugwatch.cli import app

    rid = _approved_request(store, db_url)
    with store.session() as s:
        covered = [x.id for x in rq.matching_snapshots(s, user(s, "ann"), int(rid))]
        for h in holds.active_holds(s):
            holds.release_hold(s, h.id, "ann")
        run_retention(s, parse_policy(POLICY, "t"), now=utcnow() + timedelta(days=400))
    assert covered
    res = CliRunner().invoke(app, ["evidence", "request", "export", rid, "-o", str(tmp_path / "p.zip"),
                                   "--user", "bob", "--db", db_url])
    assert res.exit_code == 0, res.output
    said = _said(res)
    assert f"warning: not in the package: snapshot(s) {', '.join(map(str, covered))}, which the approval covered" in said


def test_the_legal_teams_note_on_a_request_is_not_in_the_package(store):
    """`request create --note` is "for the legal team"; it was copied into the package's manifest.json,
    which goes to the requesting agency."""
    decide(store, "telegram:1", "remove")
    with store.session() as s:
        rid = _request(s, note="INTERNAL: weak basis, ask counsel").id
    with store.session() as s:
        rq.approve_request(s, user(s, "bob"), rid)
        pkg = rq.export_request(s, user(s, "bob"), rid)
        assert rq.request_dict(s.get(rq.DisclosureRequest, rid))["note"].startswith("INTERNAL")  # kept for the team
    zf = zipfile.ZipFile(io.BytesIO(pkg.data))
    assert not [n for n in zf.namelist() if b"INTERNAL" in zf.read(n)]
    assert "note" not in json.loads(zf.read("manifest.json"))["request"] and verify_package(pkg.data).ok


def test_holds_and_requests_take_a_handle_written_with_its_at_sign(store):
    """`--account telegram:@shop_one` (as people write handles) was kept as written: it named no stored
    account, so the hold protected nothing and the request disclosed nothing. An empty handle is refused."""
    decide(store, "telegram:1", "remove")
    with store.session() as s:
        hold = holds.add_hold(s, "account", " Telegram:@Shop_One ", "court order 5", "ann")
        assert hold.target == "telegram:shop_one" and holds.item_held(s, "telegram:2", "telegram:shop_one")
        req = _request(s, accounts=["telegram:@shop_one"], identifiers=[])
        assert req.scope["accounts"] == ["telegram:shop_one"]
        assert [x.item_id for x in rq.matching_snapshots(s, user(s, "ann"), req.id)] == ["telegram:1"]
        for bad in ("telegram:", "telegram:@", ":shop_one"):
            with pytest.raises(EvidenceError, match="write it as platform:handle"):
                holds.add_hold(s, "account", bad, "r", "ann")
            with pytest.raises(EvidenceError, match="write it as platform:handle"):
                rq.normalise_scope([bad], None)


def test_holds_and_requests_on_accounts_never_seen_warn_but_go_ahead(store, db_url):
    """`hold add --account nosuch:acct` and `request create --account nosuch:acct` said nothing; a
    misspelt account protects nothing, so both warn on stderr naming it (and still succeed: a hold may
    come before the account's items are ingested)."""
    from plugwatch.cli import app

    runner = CliRunner()
    db = ["--db", db_url]
    res = runner.invoke(app, ["hold", "add", "--account", "nosuch:acct", "--reason", "court order", "--user", "ann", *db])
    assert res.exit_code == 0, res.output
    assert "warning" in res.stderr and "nosuch:acct" in res.stderr and res.stdout.strip().isdigit()
    res = runner.invoke(app, ["evidence", "request", "create", "--agency", "NCA", "--legal-basis", "order",
                              "--reference", "N-1", "--account", "nosuch:acct", "--account", "telegram:shop_one",
                              "--user", "ann", *db])
    assert res.exit_code == 0, res.output
    assert "nosuch:acct" in _said(res) and "warning" in res.stderr and "telegram:shop_one is" not in _said(res)
    assert res.stderr.count("warning") == 1
    known = runner.invoke(app, ["hold", "add", "--account", "Telegram:Shop_One", "--reason", "r", "--user", "ann", *db])
    assert known.exit_code == 0 and "warning" not in known.stderr


def test_dismissed_items_in_the_scope_of_a_pending_request_are_kept(store):
    """A request waiting for approval names telegram:4 only through a Wickr name it holds: approval will
    freeze it, so retention must not delete it first, dismissed or not."""
    old = NOW - timedelta(days=100)
    decide(store, "telegram:4", "dismiss", now=old)
    decide(store, "telegram:2", "dismiss", now=old)  # not in the request's scope: goes
    with store.session() as s:
        rq.create_request(s, user(s, "ann"), agency="NCA", legal_basis="order", reference="N-3",
                          identifiers=["wickr:shop_one_1"], now=old)
        assert not holds.held_item_ids(s, [("telegram:4", None)])  # no hold covers it: only the scope
        result = run_retention(s, parse_policy(POLICY, "t"), now=NOW)
    assert result.deleted_items == ["telegram:2"]
    with store.session() as s:
        assert s.get(Item, "telegram:4") is not None and s.get(Item, "telegram:2") is None


def test_a_request_to_the_last_day_there_is_covers_every_day(store):
    """`--to 9999-12-31` ("no end") was recorded, then `request show` and `approve` ended in an
    OverflowError traceback (the day after it does not exist)."""
    decide(store, "telegram:1", "remove")
    with store.session() as s:
        rid = _request(s, date_from="0001-01-01", date_to="9999-12-31").id
    with store.session() as s:
        assert [x.item_id for x in rq.matching_snapshots(s, user(s, "ann"), rid)] == ["telegram:1"]
        rq.approve_request(s, user(s, "bob"), rid)
    with store.session() as s:
        assert verify_package(rq.export_request(s, user(s, "bob"), rid).data).ok


def test_a_bad_date_in_a_request_names_the_option_and_the_api_field():
    with pytest.raises(EvidenceError) as bad:
        rq.normalise_scope(["telegram:shop_one"], None, "2025-13-01")
    assert str(bad.value) == "the first day (--from, date_from) '2025-13-01' is not a date (YYYY-MM-DD)"
    with pytest.raises(EvidenceError, match=r"the last day \(--to, date_to\) 'soon'"):
        rq.normalise_scope(["telegram:shop_one"], None, None, "soon")
