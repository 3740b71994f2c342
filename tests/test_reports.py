"""User reports: merged into one queue entry whose priority grows with independent, accurate reporters;
trusted flaggers go first and are named in statements of reasons; the outcome is kept for the platform;
the reporter's identity reaches nobody but leads and admins; retaliation is flagged to a lead."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_evidence_support import record, use_signing_key

from plugwatch.enforce.webhook import sign
from plugwatch.evidence import requests as rq
from plugwatch.privacy.subject import subject_export
from plugwatch.share import stix
from plugwatch.share.export import export_bundle
from plugwatch.store import reports, review
from plugwatch.store.enforcement_tables import Notice, PlatformEffect, StatementOfReasons
from plugwatch.store.intake_tables import Reporter, RetaliationFlag, UserReport
from plugwatch.store.schema import AuditEntry, Decision, ReviewTask
from plugwatch.store.users import add_user, get_user, reset_token
from plugwatch.wiring import create_app

PASSWORD = "correct horse battery"
REPORTER = "telegram:whistle_mara"


def quiet(n: int, author: str = "telegram:shop_one", text: str | None = None,
          created: str = "2025-02-01T10:00:00+00:00", **extra) -> dict:
    """A stored item the detector did not flag: only reports bring it to the queue."""
    rec = record(n, author=author, text=text or f"nice weather today {n}", created=created)
    rec.update(score=0.05, flagged=False, kind=None, drugs=[], reasons=[], **extra)
    return rec


@pytest.fixture
def env(db_url, tmp_path, monkeypatch):
    use_signing_key(tmp_path / "keys", monkeypatch)
    monkeypatch.delenv("PLUGWATCH_CONFIG", raising=False)
    app = create_app(db_url, detector=object())
    with app.state.store.session() as s:
        for name, role in (("rev", "reviewer"), ("lead1", "lead"), ("ann", "legal"), ("bob", "legal"),
                           ("root", "admin"), ("feed", "ingest")):
            add_user(s, name, role, PASSWORD if role != "ingest" else None)
        tokens = {n: reset_token(s, n) for n in ("rev", "lead1", "ann", "bob", "root", "feed")}
    with TestClient(app) as client:
        yield app, client, {n: {"Authorization": f"Bearer {t}"} for n, t in tokens.items()}
    app.state.store.dispose()


def ingest(app, records):
    with app.state.store.session() as s:
        return review.ingest_records(s, records)


def task(app, item_id):
    with app.state.store.session() as s:
        return s.scalars(select(ReviewTask).where(ReviewTask.item_id == item_id)).first()


def report(client, h, item_id=None, reporter=REPORTER, reason="drug_sale", **extra):
    body = {"reporter": reporter, "reason": reason, **({"item_id": item_id} if item_id else {}), **extra}
    r = client.post("/api/reports", json=body, headers=h["feed"])
    assert r.status_code in (200, 201), r.text
    return r.json()


def test_five_reporters_give_one_queue_entry_with_higher_priority(env):
    app, client, h = env
    ingest(app, [quiet(1, "telegram:a"), quiet(2, "telegram:b")])
    assert task(app, "telegram:1") is None  # not flagged: not queued
    report(client, h, "telegram:1", reporter="telegram:r0")
    for i in range(5):
        report(client, h, "telegram:2", reporter=f"telegram:r{i}", text=f"he sells pills {i}")
    report(client, h, "telegram:2", reporter="telegram:r1")  # the same reporter again counts once
    with app.state.store.session() as s:
        tasks = s.scalars(select(ReviewTask)).all()
        assert sorted(t.item_id for t in tasks) == ["telegram:1", "telegram:2"]  # one entry per item
        assert s.query(UserReport).filter_by(item_id="telegram:2").count() == 6
    one, five = task(app, "telegram:1").priority, task(app, "telegram:2").priority
    assert five > one + 2
    view = client.get("/api/items/telegram:2", headers=h["rev"]).json()["reports"]
    assert view["count"] == 6 and view["reporters"] == 5 and view["reasons"] == {"drug_sale": 6}
    # The platform's report id makes a resend harmless.
    first = report(client, h, "telegram:1", reporter="telegram:r9", external_id="m-77")
    again = client.post("/api/reports", json={"reporter": "telegram:r9", "item_id": "telegram:1", "reason": "drug_sale",
                                              "external_id": "m-77"}, headers=h["feed"])
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    # Bad input is refused with a reason; reviewers may not file reports.
    assert client.post("/api/reports", json={"reporter": "telegram:x", "item_id": "telegram:1", "reason": "not_drugs"},
                       headers=h["feed"]).status_code == 422
    assert client.post("/api/reports", json={"reporter": "telegram:x", "item_id": "telegram:404", "reason": "drug_sale"},
                       headers=h["feed"]).status_code == 404
    assert client.post("/api/reports", json={"reporter": "telegram:x", "item_id": "telegram:1", "reason": "drug_sale"},
                       headers=h["rev"]).status_code == 403


def test_another_feeds_report_with_the_same_external_id_is_refused_not_merged(env):
    """Two platforms' feeds both number their reports: the second feed's report 'm-1' was answered
    with the first feed's report (its id and outcome) and silently not filed."""
    app, client, h = env
    ingest(app, [quiet(1, "telegram:a"), quiet(2, "telegram:b")])
    with app.state.store.session() as s:
        add_user(s, "feed2", "ingest")
        other = {"Authorization": f"Bearer {reset_token(s, 'feed2')}"}
    first = report(client, h, "telegram:1", reporter="telegram:r1", external_id="m-1")
    clash = client.post("/api/reports", json={"reporter": "telegram:r2", "item_id": "telegram:2",
                                              "reason": "drug_sale", "external_id": "m-1"}, headers=other)
    assert clash.status_code == 409 and "(feed)" in clash.json()["detail"] and set(clash.json()) == {"detail"}
    assert report(client, h, "telegram:1", reporter="telegram:r1", external_id="m-1")["id"] == first["id"]  # a resend
    with app.state.store.session() as s:
        assert s.query(UserReport).count() == 1


def test_a_report_naming_an_item_and_another_account_is_refused(env):
    """Both `item_id` and `account` given, of two accounts: the report was filed on the item's account
    without a word, against the account the reporter did not name."""
    app, client, h = env
    ingest(app, [quiet(1, "telegram:a"), quiet(2, "telegram:b")])
    both = {"reporter": "telegram:r1", "item_id": "telegram:1", "reason": "drug_sale"}
    wrong = client.post("/api/reports", json={**both, "account": "telegram:b"}, headers=h["feed"])
    assert wrong.status_code == 422 and "telegram:1 is by telegram:a, not telegram:b" in wrong.json()["detail"]
    with app.state.store.session() as s:
        assert s.query(UserReport).count() == 0
    assert report(client, h, account="Telegram:A", **{k: v for k, v in both.items() if k != "reporter"},
                  reporter="telegram:r1")["queued"]  # the item's own account, as people write it


def test_accuracy_weighs_reporters_with_a_prior(env):
    app, client, h = env
    ingest(app, [quiet(1, "telegram:a"), quiet(2, "telegram:b")])
    with app.state.store.session() as s:
        s.add_all([Reporter(key="telegram:good", reports=10, resolved=10, actioned=10),
                   Reporter(key="telegram:noisy", reports=10, resolved=10, actioned=0)])
    report(client, h, "telegram:1", reporter="telegram:good")
    report(client, h, "telegram:2", reporter="telegram:noisy")
    assert task(app, "telegram:1").priority > task(app, "telegram:2").priority
    with app.state.store.session() as s:
        new = Reporter(key="x:new", reports=0, resolved=0, actioned=0)
        assert reports.accuracy(new) == 0.5  # a new reporter counts, half


def test_outcome_is_kept_for_the_platform_and_updates_the_reporters_record(env):
    app, client, h = env
    ingest(app, [quiet(1, "telegram:a"), quiet(2, "telegram:b")])
    acted = report(client, h, "telegram:1", reporter="telegram:r1", external_id="m-1")
    dismissed = report(client, h, "telegram:2", reporter="telegram:r1", external_id="m-2")
    assert acted["state"] == "open" and acted["outcome"] is None
    for item, action, reason in (("telegram:1", "remove", "drug_sale"), ("telegram:2", "dismiss", "not_drugs")):
        assert client.post("/api/queue/claim", json={"item_id": item}, headers=h["rev"]).status_code == 200
        r = client.post(f"/api/items/{item}/decision", json={"action": action, "policy_reason": reason}, headers=h["rev"])
        assert r.status_code == 200, r.text
    got = client.get(f"/api/reports/{acted['id']}", headers=h["feed"]).json()
    assert got["outcome"] == "action_taken" and got["external_id"] == "m-1" and set(got) == {
        "id", "source", "external_id", "state", "outcome", "outcome_at", "created_at"}
    assert client.get(f"/api/reports/{dismissed['id']}", headers=h["feed"]).json()["outcome"] == "no_action"
    assert [o["external_id"] for o in client.get("/api/reports", headers=h["feed"]).json()] == ["m-1", "m-2"]
    assert client.get("/api/reports", params={"since": acted["id"]}, headers=h["feed"]).json()[0]["external_id"] == "m-2"
    with app.state.store.session() as s:
        r1 = s.scalars(select(Reporter).where(Reporter.key == "telegram:r1")).one()
        assert (r1.reports, r1.resolved, r1.actioned) == (2, 2, 1)
    # A report on an item already decided gets that decision's outcome at once.
    late = report(client, h, "telegram:1", reporter="telegram:r2")
    assert client.get(f"/api/reports/{late['id']}", headers=h["feed"]).json()["outcome"] == "action_taken"


def test_a_reporters_own_subject_access_export_lists_their_reports_and_no_one_elses(env):
    app, client, h = env
    ingest(app, [quiet(1, "telegram:shop_one"), quiet(2, "telegram:shop_two")])
    mine = report(client, h, "telegram:1", text="he sold to my brother")
    report(client, h, "telegram:1", reporter="telegram:someone_else", text="also saw this")
    report(client, h, "telegram:2", reporter="telegram:someone_else")
    assert client.post("/api/queue/claim", json={"item_id": "telegram:1"}, headers=h["rev"]).status_code == 200
    assert client.post("/api/items/telegram:1/decision", json={"action": "remove", "policy_reason": "drug_sale"},
                       headers=h["rev"]).status_code == 200
    with app.state.store.session() as s:
        data = subject_export(s, get_user(s, "ann"), "Telegram:@Whistle_Mara")  # no account or items of its own
    assert data["account"] is None and data["items"] == []
    assert [(r["id"], r["item_id"], r["text"], r["outcome"]) for r in data["reports_filed"]] == [
        (mine["id"], "telegram:1", "he sold to my brother", "action_taken")]
    assert (data["reporter"]["reports"], data["reporter"]["resolved"], data["reporter"]["actioned"]) == (1, 1, 1)
    assert "someone_else" not in json.dumps(data) and "also saw this" not in json.dumps(data)
    with app.state.store.session() as s:  # the reported account's export names none of its reporters
        theirs = subject_export(s, get_user(s, "ann"), "telegram:shop_one")
    assert theirs["reporter"] is None and theirs["reports_filed"] == []
    assert "whistle" not in json.dumps(theirs) and "someone_else" not in json.dumps(theirs)


def test_trusted_flaggers_go_first_and_are_named_in_the_statement_of_reasons(env):
    app, client, h = env
    flagged = record(5, author="telegram:seller5")  # the detector's offer, score 0.93
    ingest(app, [flagged, quiet(1, "telegram:a"), quiet(2, "telegram:b")])
    with app.state.store.session() as s:
        reports.set_trusted(s, "telegram:hotline_org", "Drug Safety Hotline e.V.", actor="root")
    report(client, h, "telegram:1", reporter="telegram:hotline_org")
    report(client, h, "telegram:2", reporter="telegram:someone")
    queue = client.get("/api/queue", headers=h["rev"]).json()
    assert queue[0]["tasks"][0]["item_id"] == "telegram:1"  # ahead of the detector's own offer
    for item in ("telegram:1", "telegram:2", "telegram:5"):
        client.post("/api/queue/claim", json={"item_id": item}, headers=h["lead1"])
        assert client.post(f"/api/items/{item}/decision", json={"action": "remove", "policy_reason": "drug_sale"},
                           headers=h["lead1"]).status_code == 200
    with app.state.store.session() as s:
        bodies = {st.decision_id: st.body for st in s.scalars(select(StatementOfReasons))}
        by_item = {d.item_id: bodies[d.id] for d in s.scalars(select(Decision))}
    assert by_item["telegram:1"]["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    assert by_item["telegram:1"]["source_identity"] == "Drug Safety Hotline e.V."
    assert by_item["telegram:2"]["source_type"] == "SOURCE_ARTICLE_16" and "source_identity" not in by_item["telegram:2"]
    assert by_item["telegram:5"]["source_type"] == "SOURCE_VOLUNTARY"
    schema = json.loads((Path(__file__).parent / "dsa_statement.schema.json").read_text())
    for body in by_item.values():
        jsonschema.validate(body, schema)
    assert "hotline_org" not in json.dumps(by_item)


def _sign_in(app, name: str) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    token = re.search(r'name="login_token" value="([^"]+)"', c.get("/login").text).group(1)
    assert c.post("/login", data={"name": name, "password": PASSWORD, "login_token": token, "next": "/"}).status_code == 303
    return c


def test_the_reporters_name_is_in_nothing_a_reviewer_the_account_or_a_partner_receives(env):
    app, client, h = env
    ingest(app, [record(1, idents=[("wickr", "wickr:shop_one_1")]), record(2), quiet(3)])
    filed = report(client, h, "telegram:1", text="I am whistle_mara (@Whistle_Mara), he sold to my brother")
    report(client, h, "telegram:3", reason="counterfeit_pills", text="fake bars, ask whistle_mara")
    report(client, h, reporter="telegram:whistle_mara", account="telegram:shop_one", reason="drug_sale")
    outputs: dict[str, str] = {}
    # The reviewer's pages and API, before and after deciding.
    reviewer = _sign_in(app, "rev")
    outputs["queue page"] = reviewer.get("/").text
    for item in ("telegram:1", "telegram:3"):
        outputs[f"item page {item}"] = reviewer.get(f"/items/{quote(item, safe='')}").text
        outputs[f"item api {item}"] = client.get(f"/api/items/{item}", headers=h["rev"]).text
    outputs["queue api"] = client.get("/api/queue", headers=h["rev"]).text
    outputs["account api"] = client.get("/api/accounts/telegram:shop_one", headers=h["rev"]).text
    outputs["stats api"] = client.get("/api/stats", headers=h["rev"]).text
    assert "[reporter]" in outputs["item api telegram:1"] and "he sold to my brother" in outputs["item api telegram:1"]
    assert "Reported by users: 1 report from 1 reporter" in outputs["item page telegram:1"]
    for item in ("telegram:1", "telegram:3"):
        client.post("/api/queue/claim", json={"item_id": item}, headers=h["lead1"])
        assert client.post(f"/api/items/{item}/decision", json={"action": "suspend", "policy_reason": "drug_sale"},
                           headers=h["lead1"]).status_code == 200
    outputs["item page after"] = reviewer.get("/items/telegram%3A1").text
    outputs["item api after"] = client.get("/api/items/telegram:1", headers=h["rev"]).text
    # What the platform and the reported account get: outcomes, notices, effects, statements of reasons.
    outputs["report outcome"] = client.get(f"/api/reports/{filed['id']}", headers=h["feed"]).text
    outputs["outcomes"] = client.get("/api/reports", params={"all": 1}, headers=h["feed"]).text
    with app.state.store.session() as s:
        outputs["notices"] = json.dumps([n.text for n in s.scalars(select(Notice))])
        outputs["effects"] = json.dumps([e.payload for e in s.scalars(select(PlatformEffect))], default=str)
        outputs["statements"] = json.dumps([st.body for st in s.scalars(select(StatementOfReasons))])
        assert outputs["notices"] != "[]" and outputs["statements"] != "[]"
        # A partner: the STIX bundle of confirmed identifiers.
        outputs["stix"] = json.dumps(export_bundle(s, stix.ExportOptions()).bundle, default=str)
        # The reported account: its subject-access export.
        outputs["subject access"] = json.dumps(subject_export(s, get_user(s, "root"), "telegram:shop_one"), default=str)
        # Law enforcement: the evidence package for the account.
        req = rq.create_request(s, get_user(s, "ann"), agency="DEA", legal_basis="subpoena", reference="R-1",
                                accounts=["telegram:shop_one"])
    with app.state.store.session() as s:
        rq.approve_request(s, get_user(s, "bob"), req.id, note="ok")
    with app.state.store.session() as s:
        package = rq.export_request(s, get_user(s, "bob"), req.id)
    zf = zipfile.ZipFile(io.BytesIO(package.data))
    for name in zf.namelist():
        outputs[f"package {name}"] = zf.read(name).decode("utf-8", "replace")
    assert any("telegram:1" in v for k, v in outputs.items() if k.startswith("package"))
    for where, text in outputs.items():
        assert "whistle_mara" not in text.lower(), f"the reporter's name is in the {where}"
    # Leads and admins may see who reported (audited); reviewers may not.
    assert client.get("/api/reporters", params={"item_id": "telegram:1"}, headers=h["rev"]).status_code == 403
    shown = client.get("/api/reporters", params={"item_id": "telegram:1"}, headers=h["lead1"]).json()
    assert {r["reporter"] for r in shown} == {REPORTER}
    with app.state.store.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "reports.reveal")).one()
        assert entry.actor == "lead1" and entry.subject == "telegram:1" and "whistle" not in json.dumps(entry.details)


def test_an_account_report_waits_for_the_accounts_next_item(env):
    app, client, h = env
    made = report(client, h, account="telegram:newshop", reporter="telegram:r1")
    assert made["queued"] is False and "no account telegram:newshop is stored" in made["warning"]
    ingest(app, [quiet(9, "telegram:newshop")])
    assert task(app, "telegram:9") is not None
    with app.state.store.session() as s:
        assert s.get(UserReport, made["id"]).item_id == "telegram:9"


def test_a_report_on_a_handle_without_its_server_names_the_one_stored_account_of_that_handle(env):
    """Mastodon accounts are stored as handle@server; a moderator reports the bare local handle."""
    app, client, h = env
    ingest(app, [quiet(7, "mastodon:localplug@social.example"), quiet(8, "mastodon:twin@a.example"),
                 quiet(9, "mastodon:twin@b.example")])
    made = report(client, h, account="mastodon:localplug", reporter="telegram:r1")
    assert made["queued"] is True and "warning" not in made and task(app, "telegram:7") is not None
    with app.state.store.session() as s:
        assert s.get(UserReport, made["id"]).account_key == "mastodon:localplug@social.example"
    ambiguous = report(client, h, account="mastodon:twin", reporter="telegram:r1")  # two servers: which?
    assert ambiguous["queued"] is False and "no account mastodon:twin is stored" in ambiguous["warning"]
    assert report(client, h, account="mastodon:local%", reporter="telegram:r1")["queued"] is False  # no wildcard
    assert report(client, h, account="mastodon:@localplug", reporter="telegram:r1")["queued"] is True  # an @ too
    # An account still cannot report itself, whichever form names it.
    mine = client.post("/api/reports", headers=h["feed"], json={
        "reporter": "mastodon:localplug", "account": "mastodon:localplug", "reason": "drug_sale"})
    assert mine.status_code == 422 and "cannot report itself" in mine.text


def test_a_threat_reply_or_a_mention_after_a_report_raises_a_retaliation_flag_to_a_lead(env):
    app, client, h = env
    reporters_post = quiet(50, author=REPORTER, text="careful, shop_one sells fake bars")
    ingest(app, [record(1), reporters_post])
    filed = report(client, h, "telegram:1")
    old = quiet(2, text="my own old post about @whistle_mara", created="2025-01-01T00:00:00+00:00")
    threat = quiet(3, text="you snitch, watch your back", reply_to="telegram:50",
                   created="2099-01-01T00:00:00+00:00")
    mention = quiet(4, text="everyone look at @whistle_mara lol", created="2099-01-01T00:00:00+00:00")
    friendly = quiet(5, text="thanks for the tip", reply_to="telegram:50", created="2099-01-01T00:00:00+00:00")
    other = quiet(6, author="telegram:bystander", text="you snitch, watch your back", reply_to="telegram:50",
                  created="2099-01-01T00:00:00+00:00")
    ingest(app, [old, threat, mention, friendly, other])
    with app.state.store.session() as s:
        flags = {f.item_id: f for f in s.scalars(select(RetaliationFlag))}
    assert set(flags) == {"telegram:3", "telegram:4"}  # not the old post, the friendly reply or a bystander
    assert flags["telegram:3"].kind == "reply" and {"snitch", "watch your back"} <= set(flags["telegram:3"].threat_words)
    assert flags["telegram:4"].kind == "mention" and flags["telegram:3"].report_id == filed["id"]
    t = task(app, "telegram:3")
    assert t.state == "escalated" and t.required_role == "lead"
    rev_queue = json.dumps(client.get("/api/queue", headers=h["rev"]).json())
    assert "telegram:3" not in rev_queue and "telegram:4" not in rev_queue
    lead_queue = client.get("/api/queue", headers=h["lead1"]).json()
    assert lead_queue[0]["tasks"][0]["item_id"] in ("telegram:3", "telegram:4")
    for flagged in ("telegram:3", "telegram:4"):  # its text names or answers the reporter: not for reviewers
        assert client.get(f"/api/items/{flagged}", headers=h["rev"]).status_code == 403
    refused = client.post("/api/queue/claim", json={"item_id": "telegram:3"}, headers=h["rev"])
    assert refused.status_code == 403
    assert refused.json()["detail"] == ("item telegram:3 is flagged as possible retaliation against someone who "
                                        "reported its author: it needs a lead")  # escalated, but by no reviewer
    assert client.get("/api/items/telegram:5", headers=h["rev"]).status_code == 200
    view = client.get("/api/items/telegram:3", headers=h["lead1"]).json()["reports"]
    assert view["retaliation"][0]["kind"] == "reply" and "whistle" not in json.dumps(view)
    shown = client.get("/api/reporters", params={"item_id": "telegram:3"}, headers=h["lead1"]).json()
    assert shown[0]["reporter"] == REPORTER


def test_signed_push_stores_without_a_token(db_url, detector, tmp_path, monkeypatch):
    app = create_app(db_url, detector=detector)
    client = TestClient(app)
    (tmp_path / "site.toml").write_text('[push.shop]\nsecret = { env = "PUSH_SECRET" }\n')
    monkeypatch.setenv("PLUGWATCH_CONFIG", str(tmp_path / "site.toml"))
    monkeypatch.setenv("PUSH_SECRET", "s3cret-value")
    body = json.dumps([{"id": "p1", "text": "selling mdma pills, wickr plugman99", "author": "plugman"}]).encode()
    now = str(int(time.time()))

    def push(body=body, ts=now, secret="s3cret-value", source="shop"):
        headers = {"Content-Type": "application/json", "X-Plugwatch-Source": source, "X-Plugwatch-Timestamp": ts,
                   "X-Plugwatch-Signature": sign(secret, ts, body)}
        return client.post("/api/ingest", content=body, headers=headers)

    assert push(secret="wrong").status_code == 401
    assert push(source="nobody").status_code == 401
    assert push(ts=str(int(time.time()) - 3600)).status_code == 401
    tampered = push()
    assert tampered.status_code == 200 and tampered.json()["stored"] == 1, tampered.text
    assert push().json()["duplicates"] == 1  # a replay stores nothing new
    assert client.post("/api/ingest", content=body, headers={"Content-Type": "application/json"}).status_code == 401
    app.state.store.dispose()


def test_a_blank_push_secret_signs_nothing_and_a_misspelt_push_table_is_named(db_url, detector, tmp_path,
                                                                             monkeypatch, caplog):
    """A secret variable set to blanks was an empty HMAC key: anyone could sign a push. A [push.NAME]
    table with a misspelt key was accepted, and each push refused as from an unknown source."""
    from plugwatch.enforce.config import load
    from plugwatch.errors import UserError

    site = tmp_path / "site.toml"
    site.write_text('[push.shop]\nsecret = { env = "PUSH_SECRET" }\n')
    monkeypatch.setenv("PLUGWATCH_CONFIG", str(site))
    monkeypatch.setenv("PUSH_SECRET", "  \n")
    app = create_app(db_url, detector=detector)
    body, ts = b'[{"id": "p1", "text": "hello", "author": "a"}]', str(int(time.time()))
    forged = TestClient(app).post("/api/ingest", content=body, headers={
        "Content-Type": "application/json", "X-Plugwatch-Source": "shop", "X-Plugwatch-Timestamp": ts,
        "X-Plugwatch-Signature": sign("", ts, body)})
    assert forged.status_code == 401
    assert "push.shop.secret: the environment variable PUSH_SECRET is not set" in caplog.text  # the operator's log
    app.state.store.dispose()
    site.write_text('[push.shop]\nsecrte = { env = "PUSH_SECRET" }\n')
    with pytest.raises(UserError, match=r"push.shop: takes one key, secret = .*\(found: secrte\)"):
        load(site)


def test_text_no_database_can_store_is_a_422_not_a_500(env):
    app, client, h = env
    ingest(app, [quiet(1)])
    for field, value in (("text", "bad\x00text"), ("reporter", "telegram:a\x00b"), ("external_id", "r\x00")):
        body = {"reporter": "telegram:x", "item_id": "telegram:1", "reason": "drug_sale", field: value}
        r = client.post("/api/reports", content=json.dumps(body), headers={**h["feed"], "Content-Type": "application/json"})
        assert r.status_code == 422 and field in r.text, (field, r.text)
    assert client.get("/api/reporters", params={"item_id": "x\x00y"}, headers=h["lead1"]).status_code == 404
