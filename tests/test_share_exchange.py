"""Two plugwatch instances exchange hashed indicators: A exports what its reviewers confirmed, B imports
it and matches the same identifiers written differently, and learns nothing else."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from plugwatch.cli import app
from plugwatch.share import hashing, importer, stix, validate
from plugwatch.share.export import export_bundle
from plugwatch.share.matching import retro_match
from plugwatch.store.schema import AuditEntry, Item, ReviewTask
from plugwatch.store.sharing_tables import WatchEntry, WatchMatch
from plugwatch.wiring import open_store
from tests.share_helpers import confirm, ingest, record, reviewer

SALT = bytes(range(32))
WALLET = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
A_POSTS = [
    ("x", "1", "dealer1", f"\U0001f343 za 3.5 $45, tele: @ExoticZ_Plug or call +1 415 555 2671. BTC {WALLET}"),
    ("instagram", "2", "dealer2", "menu drop \U0001f48a blues $25 each, wickr: plugshop99, ships discreet"),
    ("x", "3", "chef", "tele: @bakery_news_daily for the menu of the day"),  # dismissed: not exported
]
SECRETS = ("exoticz_plug", WALLET, "4155552671", "plugshop99", "bakery_news_daily")


def _instance_a(url: str):
    store = open_store(url)
    with store.session() as s:
        ingest(s, [record(p, n, h, t) for p, n, h, t in A_POSTS])
        confirm(s, "x:1")
        confirm(s, "instagram:2", action="suspend")
        confirm(s, "x:3", action="dismiss")
    return store


def test_hashed_bundle_matches_on_the_other_side(db_url, second_db, tmp_path):
    store_a = _instance_a(db_url)
    with store_a.session() as s:
        result = export_bundle(s, stix.ExportOptions(organisation="Platform A", tlp="amber", salt=SALT))
    store_a.dispose()
    bundle = result.bundle
    report = validate.validate_bundle(bundle)
    assert report.errors == [] and report.warnings == []
    text = json.dumps(bundle).lower()
    for secret in SECRETS:
        assert secret.lower() not in text, f"{secret} leaked into a hashed bundle"
    indicators = [o for o in bundle["objects"] if o["type"] == "indicator"]
    assert {i["identifier_type"] for i in indicators} == {"telegram", "phone", "btc", "wickr"}
    assert all("HMAC-SHA256" in i["pattern"] and i["salt_id"] == hashing.salt_id(SALT) for i in indicators)
    assert all(i["object_marking_refs"] == [str(stix.TLP["amber"].id)] for i in indicators)
    assert {o["type"] for o in bundle["objects"]} >= {"identity", "marking-definition", "extension-definition",
                                                       "attack-pattern", "relationship", stix.PHONE, stix.WALLET}

    # Instance B: its own database; imports with the salt agreed with A.
    store_b = open_store(second_db)
    from plugwatch.share import partners

    salt_file = tmp_path / "a.salt"
    hashing.write_salt(salt_file, SALT)
    with store_b.session() as s:
        partner, _ = partners.add(s, "platform-a", "auto", salt_file)
        res = importer.import_bundle(s, bundle, partner, salt=SALT)
        assert (res.added, res.rejected) == (4, [])
        assert all(e.value is None and e.hashed for e in s.scalars(select(WatchEntry)))
    with store_b.session() as s:
        ingest(s, [
            record("telegram", "b1", "buyer1", "anyone know t.me/exoticz_plug? asking for a friend", flagged=False),
            record("x", "b2", "seller7", "txt me +1 (415) 555-2671 for the menu", flagged=False),
            record("x", "b3", "other", "tele: @someone_else_entirely and wickr: plugshop98", flagged=False),
            record("x", "b4", "chef2", "tele: @bakery_news_daily lunch at noon", flagged=False),
        ])
    with store_b.session() as s:
        matched = {m.item_id for m in s.scalars(select(WatchMatch))}
        assert matched == {"telegram:b1", "x:b2"}
        tasks = {t.item_id: t for t in s.scalars(select(ReviewTask))}
        assert set(tasks) == {"telegram:b1", "x:b2"}  # unflagged items queued only because of the match
        assert all(t.state == "pending" for t in tasks.values())  # review, never an automatic action
        reasons = s.get(Item, "x:b2").reasons
        assert any(r["signal"] == "watch_list" and "watch-list match from platform-a" in r["meaning"]
                   for r in reasons)
    store_b.dispose()


def test_wrong_salt_is_refused_and_clear_bundle_matches(db_url, tmp_path):
    store = _instance_a(db_url)
    from plugwatch.share import partners

    with store.session() as s:
        hashed = export_bundle(s, stix.ExportOptions(salt=SALT)).bundle
        clear = export_bundle(s, stix.ExportOptions(tlp="green")).bundle
        assert validate.validate_bundle(clear).errors == []
        assert "exoticz_plug" in json.dumps(clear)
        wrong = tmp_path / "wrong.salt"
        hashing.write_salt(wrong, bytes(32))
        p, _ = partners.add(s, "p1", "notify-only", wrong)
        res = importer.import_bundle(s, hashed, p, salt=bytes(32))
        assert res.added == 0 and len(res.rejected) == 4
        assert all("hashed with salt" in reason for _, reason in res.rejected)
        q, _ = partners.add(s, "p2", "notify-only")
        res = importer.import_bundle(s, clear, q, expires_days=30)
        assert res.added == 4
        values = {e.value for e in s.scalars(select(WatchEntry).where(WatchEntry.partner_id == q.id))}
        assert values == {"telegram:exoticz_plug", "+14155552671", f"btc:{WALLET}", "wickr:plugshop99"}


def test_overrides_and_expiry_stop_matching(db_url):
    from datetime import UTC, datetime, timedelta

    from plugwatch.share import matching, partners

    store = _instance_a(db_url)
    with store.session() as s:
        clear = export_bundle(s, stix.ExportOptions()).bundle
        p, _ = partners.add(s, "p", "auto")
        importer.import_bundle(s, clear, p)
        pairs = [("telegram", "telegram:exoticz_plug"), ("phone", "+14155552671")]
        assert len(matching.match_identifiers(s, pairs)) == 2
        entry = s.scalars(select(WatchEntry).where(WatchEntry.identifier_type == "phone")).one()
        entry.override = "allowed"
        s.flush()
        assert [e.identifier_type for e in matching.match_identifiers(s, pairs)] == ["telegram"]
        later = datetime.now(UTC) + timedelta(days=400)
        assert matching.match_identifiers(s, pairs, now=later) == []
        # A re-import keeps the local override.
        importer.import_bundle(s, clear, p)
        assert s.get(WatchEntry, entry.id).override == "allowed"


def test_cli_export_import_between_two_databases(tmp_path):
    runner = CliRunner()
    a, b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    _instance_a(a).dispose()
    salt = tmp_path / "shared.salt"
    assert runner.invoke(app, ["share", "salt", "--out", str(salt)]).exit_code == 0
    r = runner.invoke(app, ["share", "partners", "add", "platform-b", "--trust", "auto", "--salt-file", str(salt),
                            "--db", a])
    assert r.exit_code == 0, r.output
    out = tmp_path / "bundle.json"
    r = runner.invoke(app, ["share", "export", "--db", a, "--hash-for", "platform-b", "--tlp", "green",
                            "--out", str(out), "--org", "Platform A"])
    assert r.exit_code == 0, r.output
    assert "exoticz_plug" not in out.read_text()
    assert runner.invoke(app, ["share", "validate", str(out)]).exit_code == 0
    store_b = open_store(b)
    with store_b.session() as s:
        ingest(s, [record("x", "b2", "seller7", "txt me +1 (415) 555-2671 for the menu", flagged=False)])
    store_b.dispose()
    r = runner.invoke(app, ["share", "import", str(out), "--source", "platform-a", "--trust", "notify-only",
                            "--salt-file", str(salt), "--expires", "30", "--db", b])
    assert r.exit_code == 0, r.output
    assert "4 added" in r.output and "1 matches" in r.output
    store_b = open_store(b)
    with store_b.session() as s:
        task = s.scalars(select(ReviewTask).where(ReviewTask.item_id == "x:b2")).one()
        assert task.state == "pending"
        assert any("notify-only" in r["meaning"] for r in s.get(Item, "x:b2").reasons)
    store_b.dispose()
    # --trust on a later import changes the partner's own trust, audited as `share partners set` is.
    r = runner.invoke(app, ["share", "import", str(out), "--source", "platform-a", "--trust", "auto", "--db", b])
    assert r.exit_code == 0 and "trust notify-only → auto" in " ".join(r.output.split()), r.output
    store_b = open_store(b)
    with store_b.session() as s:
        changed = s.scalars(select(AuditEntry).where(AuditEntry.action == "partner changed")).one()
        assert changed.subject == "partner:platform-a" and changed.details == {"trust": ["notify-only", "auto"]}
    store_b.dispose()


@pytest.mark.parametrize("pattern,expected", [
    ("[x-plugwatch-phone-number:number = '+1 415 555 2671']", importer.Parsed("phone", "+14155552671")),
    ("[user-account:account_type = 'telegram' AND user-account:account_login = '@PlugShop']",
     importer.Parsed("telegram", "telegram:plugshop")),
    ("[domain-name:value = 'WWW.Rx-Meds.com']", importer.Parsed("domain", "rx-meds.com")),
    (f"[x-plugwatch-crypto-wallet:currency = 'btc' AND x-plugwatch-crypto-wallet:hashes.'HMAC-SHA256' = '{'a' * 64}']",
     importer.Parsed("btc", value_hash="a" * 64)),
])
def test_partner_patterns_are_canonicalised(pattern, expected):
    assert importer.parse_pattern(pattern) == expected


@pytest.mark.parametrize("pattern", ["[file:name = 'x'] OR [url:value = 'http://a.b/']",
                                     "[ipv4-addr:value = '1.2.3.4']", "[url:value LIKE 'http://%']"])
def test_patterns_we_cannot_match_are_rejected(pattern):
    with pytest.raises(ValueError):
        importer.parse_pattern(pattern)


def test_feedback_opinions_follow_reviewer_decisions(db_url):
    from plugwatch.share import opinion, partners
    from plugwatch.store.sharing_tables import SharedIndicator, ShareOpinion

    store = _instance_a(db_url)
    with store.session() as s:
        bundle = export_bundle(s, stix.ExportOptions(organisation="A"), partner_name="").bundle
        assert s.scalars(select(SharedIndicator)).first() is not None
        p, _ = partners.add(s, "a", "auto")
        importer.import_bundle(s, bundle, p)
        ingest(s, [record("x", "m1", "s1", "call +1 415 555 2671", flagged=False),
                   record("x", "m2", "s2", "t.me/exoticz_plug", flagged=False)])
    with store.session() as s:
        confirm(s, "x:m1")
        confirm(s, "x:m2", action="dismiss")
        p = partners.get(s, "a")
        answers = {ind: op for ind, op, _ in opinion.decided_feedback(s, p)}
        phone = next(o["id"] for o in bundle["objects"] if o.get("identifier_type") == "phone")
        tg = next(o["id"] for o in bundle["objects"] if o.get("identifier_type") == "telegram")
        assert answers == {phone: "agree", tg: "disagree"}
        fb = opinion.feedback_bundle(s, p, "B", list(opinion.decided_feedback(s, p)))
        assert validate.validate_bundle(fb, enforce_refs=False).errors == []
        assert opinion.decided_feedback(s, p) == []  # sent once
        # the exporter reads the feedback back: opinions land on its own indicators
        res = importer.import_bundle(s, fb, p)
        assert res.opinions == 2
        got = {o.indicator_id: o.opinion for o in s.scalars(select(ShareOpinion).where(ShareOpinion.direction == "in"))}
        assert got == {phone: "agree", tg: "disagree"}


def test_cli_user_errors_are_one_line(tmp_path):
    def flat(result) -> str:  # rich wraps long messages to the terminal width
        return " ".join(result.output.split())

    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'x.db'}"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    r = runner.invoke(app, ["share", "import", str(bad), "--source", "p", "--db", db])
    assert r.exit_code == 4 and "bad.json: line 1: not JSON" in flat(r) and "Traceback" not in flat(r)
    # a hashed bundle without the salt: every indicator rejected, written out, exit 4
    _instance_a(db).dispose()
    salt = tmp_path / "s.salt"
    hashing.write_salt(salt, SALT)
    out = tmp_path / "b.json"
    assert runner.invoke(app, ["share", "export", "--db", db, "--salt-file", str(salt), "-o", str(out)]).exit_code == 0
    other = f"sqlite:///{tmp_path / 'y.db'}"
    r = runner.invoke(app, ["share", "import", str(out), "--source", "p", "--db", other])
    assert r.exit_code == 4 and "give --salt-file" in flat(r)
    rejects = (tmp_path / "b.json.rejects.jsonl").read_text().splitlines()
    assert len(rejects) == 4 and all(json.loads(line)["reason"] for line in rejects)
    r = runner.invoke(app, ["share", "export", "--db", db, "--tlp", "purple"])
    assert r.exit_code == 2 and "--tlp" in flat(r)
    r = runner.invoke(app, ["share", "export", "--db", db, "--hash-for", "nobody"])
    assert r.exit_code == 2 and "no partner nobody" in flat(r)
    # a hand-written opinion on a mistyped indicator id was a traceback (the bundle failed validation)
    assert runner.invoke(app, ["share", "partners", "add", "p", "--db", db]).exit_code == 0
    r = runner.invoke(app, ["share", "feedback", "--partner", "p", "--indicator", "indicator--x", "--opinion", "agree",
                            "--db", db])
    assert r.exit_code == 2 and "--indicator takes a STIX indicator id" in flat(r) and "Traceback" not in flat(r)


def test_generic_and_invalid_identifiers_are_never_shared_nor_accepted(db_url):
    """t.me, a link-in-bio domain, a placeholder cashtag or a fictional phone number would match
    ordinary posts on the partner's side: not exported, and refused when a partner sends them."""
    from plugwatch.share import partners

    store = open_store(db_url)
    with store.session() as s:
        ingest(s, [record("x", "g1", "gen_seller", "\U0001f343 menu: t.me/Gen_Plug_7 or linktr.ee, cashapp $CashTag, "
                                                   "call +44 7700 900123")])
        confirm(s, "x:g1")
        bundle = export_bundle(s, stix.ExportOptions(tlp="green")).bundle
        patterns = [o["pattern"] for o in bundle["objects"] if o["type"] == "indicator"]
        assert any("'gen_plug_7'" in p for p in patterns)
        text = " ".join(patterns)
        for generic in ("'t.me'", "'linktr.ee'", "$cashtag", "+447700900123", "'http://t.me/"):
            assert generic not in text, f"{generic} was exported"
        handle = next(o for o in bundle["objects"] if o["type"] == "indicator" and "gen_plug_7" in o["pattern"])
        forged = dict(handle, id="indicator--0b0c4b8e-3f57-4f1c-9d0e-1f8a2c3b4d5e",
                      pattern="[domain-name:value = 'T.me']")
        p, _ = partners.add(s, "p", "auto")
        res = importer.import_bundle(s, dict(bundle, objects=[*bundle["objects"], forged]), p)
        assert [oid for oid, _ in res.rejected] == [forged["id"]]
        assert "generic" in res.rejected[0][1]
    store.dispose()


@pytest.mark.parametrize("value, expected", [("t.me/PlugShop", "telegram:plugshop"),
                                             ("https://t.me/PlugShop", "telegram:plugshop"),
                                             ("@PlugShop", "telegram:plugshop"), ("t.me/", None)])
def test_a_partners_profile_link_is_the_handle(value, expected):
    from plugwatch.text.identifier_types import canonical_form

    assert canonical_form("telegram", value) == expected


def test_partners_list_shows_trust_and_watch_list_size(tmp_path):
    runner = CliRunner()
    a, b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    _instance_a(a).dispose()
    out = tmp_path / "clear.json"
    assert runner.invoke(app, ["share", "export", "--db", a, "-o", str(out)]).exit_code == 0
    assert runner.invoke(app, ["share", "import", str(out), "--source", "platform-a", "--db", b]).exit_code == 0
    r = runner.invoke(app, ["share", "partners", "list", "--db", b])
    assert r.exit_code == 0, r.output
    header, row = r.output.split("\n")[:2]
    assert dict(zip(header.split("\t"), row.split("\t"), strict=True)) == {
        "partner": "platform-a", "trust": "notify-only", "status": "active", "salt_id": "-",
        "watch_list_entries": "4"}


def test_watch_list_and_tactics_print_a_header_naming_their_columns(tmp_path):
    runner = CliRunner()
    a, b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    _instance_a(a).dispose()
    empty = runner.invoke(app, ["share", "watchlist", "--db", b])
    assert empty.exit_code == 0 and empty.stdout.splitlines() == [
        "id\tpartner\ttype\tvalue\tconfidence\texpires\toverride"]
    assert "the watch list is empty" in empty.stderr
    out = tmp_path / "clear.json"
    assert runner.invoke(app, ["share", "export", "--db", a, "-o", str(out)]).exit_code == 0
    assert runner.invoke(app, ["share", "import", str(out), "--source", "platform-a", "--db", b]).exit_code == 0
    header, *rows = runner.invoke(app, ["share", "watchlist", "--db", b]).stdout.splitlines()
    entries = [dict(zip(header.split("\t"), row.split("\t"), strict=True)) for row in rows]
    assert len(entries) == 4 and {e["partner"] for e in entries} == {"platform-a"}
    assert {e["type"] for e in entries} >= {"telegram", "phone"} and {e["override"] for e in entries} == {"none"}
    header, *rows = runner.invoke(app, ["share", "tactics"]).stdout.splitlines()
    assert header == "id\tphase\ttechnique" and rows[0].startswith("PWT-001\t")


@pytest.mark.parametrize("content, why", [
    ("", "empty file"),
    ('{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n', "a JSON Lines file such as scan output?"),
    ("[1, 2]", "not a STIX bundle: the file holds a JSON list"),
    ('{"a": 1}', 'not a STIX bundle: the object has no "type"'),
    ('{"type": "indicator", "id": "indicator--x"}', "its \"type\" is 'indicator' (one STIX object"),
    ('{"type": "bundle", "id": "bundle--x"}', '"objects" is missing'),
    (b"\xff\xfe binary", "not UTF-8 text"),
])
def test_validate_and_import_say_why_a_file_is_not_a_bundle(tmp_path, content, why):
    path = tmp_path / "thing.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    for args in (["share", "validate", str(path)],
                 ["share", "import", str(path), "--source", "p", "--db", f"sqlite:///{tmp_path / 'x.db'}"]):
        r = CliRunner().invoke(app, args)
        message = " ".join(r.output.split())
        assert r.exit_code == 4, (args, r.output)
        assert "thing.json" in message and why in message and "Traceback" not in message


def test_salt_to_an_unwritable_place_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    r = CliRunner().invoke(app, ["share", "salt", "--out", str(blocker / "s.salt")])
    assert r.exit_code == 2 and "cannot write" in r.output and "Traceback" not in r.output


def test_salt_written_over_a_readable_file_is_owner_only(tmp_path):
    import os
    import stat

    salt_file = tmp_path / "salt.hex"
    salt_file.write_text("old\n", encoding="utf-8")
    os.chmod(salt_file, 0o644)  # an older salt, or any file, readable by others
    hashing.write_salt(salt_file, bytes(range(32)))
    assert stat.S_IMODE(salt_file.stat().st_mode) == 0o600
    assert hashing.read_salt(salt_file) == bytes(range(32))
    assert not list(tmp_path.glob("*.part"))


def test_bundle_members_that_are_not_stix_objects_are_errors_not_a_crash(tmp_path):
    """A bundle from another tool whose list holds a number, null or an object without a string id
    (stix2-validator raised TypeError/KeyError on them): each is an error naming its place, the rest is
    checked and imported."""
    good = {"type": "indicator", "spec_version": "2.1", "id": "indicator--44af6c39-c09b-49c5-9de2-394224b04990",
            "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z", "name": "shop",
            "description": "a shop", "pattern": "[domain-name:value = 'evil-shop.net']", "pattern_type": "stix",
            "valid_from": "2025-01-01T00:00:00Z"}
    odd = [5, None, {"spec_version": "2.0", "type": "indicator"}, {"type": "indicator", "id": 7}]
    path = tmp_path / "other-tool.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04986",
                                "objects": [good, *odd]}))
    r = CliRunner().invoke(app, ["share", "validate", str(path)])
    assert r.exit_code == 3 and "Traceback" not in r.output, r.output
    message = " ".join(r.output.split())
    assert "objects[1]: a JSON number, not a STIX object" in message and "4 errors" in message
    r = CliRunner().invoke(app, ["share", "import", str(path), "--source", "p",
                                 "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert r.exit_code == 3 and "1 added" in r.output, r.output
    rejects = [json.loads(line) for line in (tmp_path / "other-tool.json.rejects.jsonl").read_text().splitlines()]
    assert [x["id"] for x in rejects] == ["objects[1]", "objects[2]", "objects[3]", "objects[4]"]


def test_a_partners_url_on_a_platform_is_the_handle_it_names(db_url):
    """Other tools share a seller's Telegram channel or WhatsApp link as a URL indicator: that was
    refused as generic ("would match ordinary posts"), and the seller never matched."""
    from plugwatch.share import partners

    def indicator(n: int, url: str) -> dict:
        return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--44af6c39-c09b-49c5-9de2-39422400000{n}",
                "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z", "name": "seller",
                "description": "seller", "pattern": f"[url:value = '{url}']", "pattern_type": "stix",
                "valid_from": "2025-01-01T00:00:00Z"}

    store = open_store(db_url)
    with store.session() as s:
        ingest(s, [record("x", "h1", "buyer_side", "menu \U0001f343 tg: @Coke_Shop_LA", flagged=False)])
        p, _ = partners.add(s, "other-tool", "notify-only")
        bundle = {"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04986",
                  "objects": [indicator(1, "https://t.me/Coke_Shop_LA"), indicator(2, "https://wa.me/447911123456"),
                              indicator(3, "https://t.me/telegram")]}
        res = importer.import_bundle(s, bundle, p)
        entries = {(e.identifier_type, e.value) for e in s.scalars(select(WatchEntry))}
        assert entries == {("telegram", "telegram:coke_shop_la"), ("whatsapp", "whatsapp:+447911123456")}
        assert [oid for oid, _ in res.rejected] == ["indicator--44af6c39-c09b-49c5-9de2-394224000003"]
        assert retro_match(s) == 1
    store.dispose()


def test_import_whose_rejects_cannot_be_written_imports_nothing(tmp_path):
    """`--rejects` under a file (or a bundle in a read-only folder) was a traceback after the import had
    been committed: the rejected indicators' reasons were lost. Now it is one line, and nothing is imported."""
    bundle = tmp_path / "b.json"
    good = {"type": "indicator", "spec_version": "2.1", "id": "indicator--44af6c39-c09b-49c5-9de2-394224b04990",
            "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z", "name": "shop",
            "description": "a shop", "pattern": "[domain-name:value = 'evil-shop.net']", "pattern_type": "stix",
            "valid_from": "2025-01-01T00:00:00Z"}
    bad = dict(good, id="indicator--44af6c39-c09b-49c5-9de2-394224b04991", pattern="[ipv4-addr:value = '1.2.3.4']")
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04986",
                                  "objects": [good, bad]}))
    (tmp_path / "a-file").write_text("x")
    db = f"sqlite:///{tmp_path / 'x.db'}"
    r = CliRunner().invoke(app, ["share", "import", str(bundle), "--source", "p", "--db", db,
                                 "--rejects", str(tmp_path / "a-file" / "r.jsonl")])
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert "cannot write the rejects file" in " ".join(r.output.split()) and "nothing imported" in r.output
    store = open_store(db)
    with store.session() as s:
        assert s.scalars(select(WatchEntry)).first() is None
    store.dispose()
    r = CliRunner().invoke(app, ["share", "import", str(bundle), "--source", "p", "--db", db])
    assert r.exit_code == 3 and "1 added" in r.output, r.output
    assert (tmp_path / "b.json.rejects.jsonl").exists()
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04987",
                                  "objects": [good]}))
    r = CliRunner().invoke(app, ["share", "import", str(bundle), "--source", "p", "--db", db])
    assert r.exit_code == 0 and not (tmp_path / "b.json.rejects.jsonl").exists()  # a stale one goes


def test_a_partners_fictional_phone_or_bad_wallet_matches_no_ordinary_post(db_url, tmp_path):
    """Another tool's bundle with a fictional number (+1 555 555 1234) and a wallet failing its checksum
    was imported, and queued ordinary posts that carry the same strings: the clear ones are refused, and a
    hashed one (which cannot be checked) matches no identifier the scan found invalid."""
    from plugwatch.share import partners

    def indicator(n: int, pattern: str, **extra) -> dict:
        return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--44af6c39-c09b-49c5-9de2-39422400001{n}",
                "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z", "name": "seller",
                "description": "seller", "pattern": pattern, "pattern_type": "stix",
                "valid_from": "2025-01-01T00:00:00Z", **extra}

    bad_wallet = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"  # the genesis address with its last letter changed
    hashed = hashing.identifier_hash(SALT, "phone", "+15555551234")
    store = open_store(db_url)
    with store.session() as s:
        ingest(s, [record("x", "o1", "party_guy", "lol call me at +1 555 555 1234 for the party", flagged=False),
                   record("x", "o2", "tipper", f"tip jar btc {bad_wallet} thanks", flagged=False)])
        salt_file = tmp_path / "p.salt"
        hashing.write_salt(salt_file, SALT)
        p, _ = partners.add(s, "other-tool", "auto", salt_file)
        bundle = {"type": "bundle", "id": "bundle--44af6c39-c09b-49c5-9de2-394224b04986", "objects": [
            indicator(1, "[x-plugwatch-phone-number:number = '+1 555 555 1234']"),
            indicator(2, f"[x-plugwatch-crypto-wallet:currency = 'btc' AND x-plugwatch-crypto-wallet:address = "
                         f"'{bad_wallet}']"),
            indicator(3, "[x-plugwatch-contact-handle:platform = 'whatsapp' AND "
                         "x-plugwatch-contact-handle:handle = '+15555551234']"),
            indicator(4, f"[x-plugwatch-phone-number:hashes.'HMAC-SHA256' = '{hashed}']",
                      salt_id=hashing.salt_id(SALT))]}
        res = importer.import_bundle(s, bundle, p, salt=SALT)
        assert len(res.rejected) == 3 and all("not a valid" in why for _, why in res.rejected), res.rejected
        assert res.added == 1  # the hashed one: its value cannot be checked here
        assert retro_match(s) == 0
    store.dispose()


def test_an_indicator_no_longer_confirmed_is_revoked_at_the_next_export(tmp_path):
    """A removal overturned on appeal stops counting, but the indicator shared before stayed on the
    partner's watch list (and in our TAXII collection) until it expired: the next full export revokes it,
    and the partner's import drops it."""
    from plugwatch.store import review

    runner = CliRunner()
    a, b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    store = open_store(a)
    with store.session() as s:
        ingest(s, [record("x", "1", "dealer1", "menu \U0001f343 wickr: plugshop99, ships discreet"),
                   record("x", "2", "dealer2", "\U0001f343 za 3.5 $45, tele: @ExoticZ_Plug")])
        confirm(s, "x:1")
        confirm(s, "x:2")
    out = tmp_path / "first.json"
    assert runner.invoke(app, ["share", "export", "--db", a, "-o", str(out)]).exit_code == 0
    assert runner.invoke(app, ["share", "import", str(out), "--source", "platform-a", "--db", b]).exit_code == 0
    with store.session() as s:
        review.file_appeal(s, "x:1", "not a sale", filed_by="adm")
        other = reviewer(s, "otto")
        review.claim(s, other, "x:1")
        review.decide(s, other, "x:1", "dismiss", "not_drugs")
    store.dispose()
    out = tmp_path / "second.json"
    r = runner.invoke(app, ["share", "export", "--db", a, "-o", str(out)])
    assert r.exit_code == 0 and "1 revoked" in r.output, r.output
    assert runner.invoke(app, ["share", "validate", str(out)]).exit_code == 0
    revoked = [o for o in json.loads(out.read_text())["objects"] if o.get("revoked")]
    assert len(revoked) == 1 and "plugshop99" in revoked[0]["pattern"]
    r = runner.invoke(app, ["share", "import", str(out), "--source", "platform-a", "--db", b])
    assert r.exit_code == 0 and "1 revoked" in r.output, r.output
    store_b = open_store(b)
    with store_b.session() as s:
        assert [e.value for e in s.scalars(select(WatchEntry))] == ["telegram:exoticz_plug"]
    store_b.dispose()
