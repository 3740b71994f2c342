"""Policy rules: files checked with file, line and rule; the default set routes exactly as the code did;
active and shadow rules; a broken folder changes nothing; audit entries; automatic actions."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from test_store import record

from plugwatch import store as store_pkg
from plugwatch import wiring
from plugwatch.errors import UserError
from plugwatch.rules.model import RuleError, load_file
from plugwatch.rules.ruleset import check
from plugwatch.store import review, users
from plugwatch.store.enforcement_tables import Notice, StatementOfReasons
from plugwatch.store.hooks import Hooks
from plugwatch.store.rules_tables import RuleMatch, TaskRoute
from plugwatch.store.schema import AuditEntry, Decision, ReviewTask, User

WICKR = """description: offers with a Wickr contact from accounts under a week old go to a lead
owner: policy@example.org
when: verdict.kind == "offer" && "wickr" in identifiers.types && account.age_days < 7.0
action: {queue: leads}
mode: MODE
"""


NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def write_rule(folder, name, text):
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")


def fixture_records(n=60, seed=7):
    """Offers, requests, unflagged posts, followers and reach of every size, shared sellers."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        flagged = rng.random() < 0.6
        kind = "request" if not flagged and rng.random() < 0.3 else None
        rec = record(i, author=f"x:s{rng.randrange(12)}", flagged=flagged, score=round(rng.random(), 3),
                     followers=rng.choice([None, 0, 15, 2300, 10 ** 6]), kind=kind)
        rec["reach"] = rng.choice([None, 0, 40, 90000])
        out.append(rec)
    return out


def _queue(st):
    with st.session() as s:
        return [(t.item_id, t.priority, t.group_key, t.required_role) for t in
                s.scalars(select(ReviewTask).order_by(ReviewTask.priority.desc(), ReviewTask.item_id))]


def test_the_default_rules_queue_exactly_what_and_in_the_order_the_fixed_code_did(db_url, tmp_path):
    records = fixture_records()
    old = store_pkg.open_store(db_url, hooks=Hooks())  # no router: the fixed flag-or-request routing
    with old.session() as s:
        review.ingest_records(s, [dict(r) for r in records], now=NOW)
    before = _queue(old)
    with old.session() as s:
        for table in ("review_tasks", "item_identifiers", "items", "accounts"):
            s.execute(store_pkg.tables.METADATA.tables[table].delete())
    old.dispose()
    new = wiring.open_store(db_url)  # the default rule set
    with new.session() as s:
        review.ingest_records(s, [dict(r) for r in records], now=NOW)
    after = _queue(new)
    new.dispose()
    assert len(before) > 30
    assert after == before


def test_a_rule_file_with_errors_names_file_line_and_rule(tmp_path):
    write_rule(tmp_path, "typo", "description: x\nowner: y\nwhen: |\n  verdict.score > 0.5 &&\n"
                                 "  account.agee < 3.0\naction: review\n")
    write_rule(tmp_path, "syntax", "description: x\nowner: y\nwhen: verdict.score >\naction: review\n")
    write_rule(tmp_path, "types", "description: x\nowner: y\nwhen: verdict.score > 'high'\naction: review\n")
    write_rule(tmp_path, "heavy", "description: x\nowner: y\nwhen: verdict.flagged\n"
                                  "action: {apply: suspend, reason: drug_sale}\n")
    write_rule(tmp_path, "unknown", "description: x\nowner: y\nwhen: |\n  verdict.kind == 'offer' &&\n"
                                    "  acount.age_days < 7.0 && identifiers.types.exists(t, t == 'wickr')\n"
                                    "action: review\n")
    write_rule(tmp_path, "notbool", "description: x\nowner: y\nwhen: verdict.score\naction: review\n")
    problems = {e.rule: e for e in check(tmp_path)}
    assert set(problems) == {"typo", "syntax", "types", "heavy", "notbool", "unknown"}
    assert problems["unknown"].line == 5 and "unknown name 'acount'" in problems["unknown"].message
    assert (problems["typo"].line, problems["typo"].path) == (5, str(tmp_path / "typo.yaml"))
    assert "no field 'agee'" in problems["typo"].message
    assert problems["syntax"].line == 3 and "syntax error" in problems["syntax"].message
    assert problems["types"].line == 3 and "type error" in problems["types"].message
    assert problems["heavy"].line == 4 and "suspend" in problems["heavy"].message
    assert "true or false" in problems["notbool"].message
    assert str(problems["typo"]).startswith(f"{tmp_path / 'typo.yaml'}:5: rule typo: ")
    [wrong] = check(tmp_path / "typo.yaml")  # a file where the folder is wanted says so
    assert wrong.message == f"a rules folder is wanted, not a file: give its folder ({tmp_path})"
    assert [e.message for e in check(tmp_path / "nowhere")] == ["rules folder not found"]


def test_the_wickr_rule_is_a_five_line_file_and_routes_to_the_leads_when_active(db_url, tmp_path):
    text = WICKR.replace("MODE", "active")
    assert len(text.strip().splitlines()) == 5
    write_rule(tmp_path / "rules", "wickr-new-account", text)
    st = wiring.open_store(db_url, rules=str(tmp_path / "rules"))
    young = record(1, author="x:young", idents=[("wickr", "plugman99")])
    young["account"]["created_at"] = "2025-02-28T00:00:00+00:00"  # 2.4 days before the post
    old = record(2, author="x:old", idents=[("wickr", "oldplug")])
    old["account"]["created_at"] = "2020-01-01T00:00:00+00:00"
    unknown = record(3, author="x:anon", idents=[("wickr", "anonplug")])  # no creation date: not young
    with st.session() as s:
        review.ingest_records(s, [young, old, unknown])
    with st.session() as s:
        roles = dict(s.execute(select(ReviewTask.item_id, ReviewTask.required_role)).all())
        assert roles == {"x:1": "lead", "x:2": None, "x:3": None}
        assert s.get(TaskRoute, "x:1").queue == "leads"
        hits = s.execute(select(RuleMatch.item_id, RuleMatch.rule, RuleMatch.mode)).all()
        assert sorted(hits) == [("x:1", "review-flagged", "active"), ("x:1", "wickr-new-account", "active"),
                                ("x:2", "review-flagged", "active"), ("x:3", "review-flagged", "active")]
        view = review.item_view(s, "x:1")
        assert view["rules"]["queue"] == "leads"
        lead = users.add_user(s, "lea", "lead")[0]
        rows = {t["item_id"]: t for g in review.queue(s, lead) for t in g["tasks"]}
        assert (rows["x:1"]["team"], rows["x:2"]["team"]) == ("leads", None)
        reviewer = users.add_user(s, "ann", "reviewer")[0]
        assert "x:1" not in {t["item_id"] for g in review.queue(s, reviewer) for t in g["tasks"]}
        assert {m["rule"] for m in view["rules"]["matched"]} == {"review-flagged", "wickr-new-account"}
    st.dispose()


def test_a_shadow_rule_records_its_matches_and_changes_nothing(db_url, tmp_path):
    write_rule(tmp_path / "rules", "wickr-new-account", WICKR.replace("MODE", "shadow"))
    st = wiring.open_store(db_url, rules=str(tmp_path / "rules"))
    young = record(1, author="x:young", idents=[("wickr", "plugman99")])
    young["account"]["created_at"] = "2025-02-28T00:00:00+00:00"
    with st.session() as s:
        review.ingest_records(s, [young])
    with st.session() as s:
        assert s.scalars(select(ReviewTask.required_role)).one() is None
        assert s.get(TaskRoute, "x:1") is None
        assert s.execute(select(RuleMatch.rule, RuleMatch.mode).where(RuleMatch.rule == "wickr-new-account")).one() \
            == ("wickr-new-account", "shadow")
    st.dispose()


def test_a_broken_rule_file_neither_stops_ingest_nor_changes_routing(db_url, tmp_path):
    folder = tmp_path / "rules"
    write_rule(folder, "wickr-new-account", WICKR.replace("MODE", "active"))
    st = wiring.open_store(db_url, rules=str(folder))

    def young(n):
        rec = record(n, author=f"x:young{n}", idents=[("wickr", f"plug{n}")])
        rec["account"]["created_at"] = "2025-03-01T00:00:00+00:00"
        return rec

    with st.session() as s:
        review.ingest_records(s, [young(1)])
    write_rule(folder, "broken", "description: x\nowner: y\nwhen: verdict.score >\naction: review\n")
    write_rule(folder, "wickr-new-account", WICKR.replace("MODE", "off"))  # refused with the broken file
    with st.session() as s:
        review.ingest_records(s, [young(2)])
    with st.session() as s:
        roles = dict(s.execute(select(ReviewTask.item_id, ReviewTask.required_role)).all())
        assert roles == {"x:1": "lead", "x:2": "lead"}  # the previous good set still routes
        refused = s.scalars(select(AuditEntry).where(AuditEntry.action == "rules.refused")).all()
        assert len(refused) == 1 and "broken.yaml:3" in refused[0].details["errors"][0]
    st.dispose()
    # A new process starting on the broken folder uses the set this database last loaded.
    st2 = wiring.open_store(db_url, rules=str(folder))
    with st2.session() as s:
        review.ingest_records(s, [young(3)])
    with st2.session() as s:
        assert s.scalars(select(ReviewTask.required_role).where(ReviewTask.item_id == "x:3")).one() == "lead"
    st2.dispose()


def test_loads_changes_and_mode_switches_are_audited_with_the_rules_hash(db_url, tmp_path):
    folder = tmp_path / "rules"
    write_rule(folder, "wickr-new-account", WICKR.replace("MODE", "shadow"))
    st = wiring.open_store(db_url, rules=str(folder))
    first = load_file(folder / "wickr-new-account.yaml").version
    with st.session() as s:
        review.ingest_records(s, [record(1)])
    write_rule(folder, "wickr-new-account", WICKR.replace("MODE", "active"))
    second = load_file(folder / "wickr-new-account.yaml").version
    with st.session() as s:
        review.ingest_records(s, [record(2)])
    (folder / "wickr-new-account.yaml").unlink()
    with st.session() as s:
        review.ingest_records(s, [record(3)])
    with st.session() as s:
        entries = [(e.action, e.details.get("version"), e.details.get("mode"))
                   for e in s.scalars(select(AuditEntry).where(AuditEntry.subject == "rule:wickr-new-account")
                                      .order_by(AuditEntry.seq))]
    assert entries == [("rule.load", first, "shadow"), ("rule.change", second, "active"),
                       ("rule.remove", second, None)]
    st.dispose()


def test_an_automatic_action_is_taken_as_the_rules_user_and_recorded_as_automated(db_url, tmp_path):
    write_rule(tmp_path / "rules", "hash-bank", "description: remove on a hash-bank match\nowner: t\n"
               "when: images.bank_matches > 0\naction: {apply: remove, reason: drug_sale, hold_evidence: true}\n"
               "mode: active\n")
    st = wiring.open_store(db_url, rules=str(tmp_path / "rules"))
    rec = record(1, flagged=False, score=0.1)
    rec["reasons"].append({"signal": "image_hash_bank", "meaning": "hash-bank match", "text": "", "span": None})
    with st.session() as s:
        review.ingest_records(s, [rec, record(2)])
    with st.session() as s:
        decision = s.scalars(select(Decision)).one()
        assert (decision.item_id, decision.action) == ("x:1", "remove")
        assert s.get(User, decision.reviewer_id).name == "rules" and not s.get(User, decision.reviewer_id).active
        assert s.scalars(select(ReviewTask.state).where(ReviewTask.item_id == "x:1")).one() == "decided"
        assert s.scalars(select(RuleMatch.decision_id).where(RuleMatch.rule == "hash-bank")).one() == decision.id
        assert s.scalars(select(Notice.automated_decision).where(Notice.decision_id == decision.id)).one() is True
        statement = s.scalars(select(StatementOfReasons).where(StatementOfReasons.decision_id == decision.id)).one()
        assert statement.automated_decision == "AUTOMATED_DECISION_FULLY"
        assert statement.body["decision_facts"].startswith("A policy rule")
        assert decision.note.startswith("automatic: policy rule hash-bank version ")
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "hold.add")).one().subject == "item:x:1"
    st.dispose()


def test_a_rule_routing_to_the_leads_takes_no_automatic_action(db_url, tmp_path):
    """One rule sends items to the leads, another removes them at once: the leads decide, and the ingest
    goes through (the automatic action's claim, as the reviewer `rules`, was refused and failed it)."""
    write_rule(tmp_path, "both", "description: x\nowner: y\nwhen: verdict.flagged\n"
                             "action: {queue: leads, apply: remove, reason: drug_sale}\n")
    with pytest.raises(RuleError, match="queue: leads asks a lead to decide: it cannot go with apply"):
        load_file(tmp_path / "both.yaml")
    write_rule(tmp_path / "rules", "to-leads", "description: offers go to the leads\nowner: t\n"
               "when: verdict.kind == 'offer'\naction: {queue: leads}\nmode: active\n")
    write_rule(tmp_path / "rules", "remove", "description: remove offers\nowner: t\n"
               "when: verdict.kind == 'offer'\naction: {apply: remove, reason: drug_sale}\nmode: active\n")
    st = wiring.open_store(db_url, rules=str(tmp_path / "rules"))
    with st.session() as s:
        review.ingest_records(s, [record(1)])
    with st.session() as s:
        assert s.scalars(select(Decision)).all() == []
        task = s.scalars(select(ReviewTask).where(ReviewTask.item_id == "x:1")).one()
        assert (task.state, task.required_role) == ("pending", "lead")
    st.dispose()


def test_a_rule_may_only_apply_actions_the_action_table_lets_it(tmp_path):
    write_rule(tmp_path, "refer", "description: x\nowner: y\nwhen: verdict.flagged\n"
                                  "action: {apply: refer, reason: needs_lead}\n")
    try:
        load_file(tmp_path / "refer.yaml")
    except RuleError as e:
        assert "dismiss, remove, warn" in e.message
    else:
        raise AssertionError("refer is not automatable")


def test_shadow_stats_show_matches_per_day_what_reviewers_did_and_what_an_active_version_would_change(db_url, tmp_path):
    from cli_helpers import cli

    write_rule(tmp_path / "rules", "wickr-new-account", WICKR.replace("MODE", "shadow"))
    st = wiring.open_store(db_url, rules=str(tmp_path / "rules"))
    recs = []
    for n, flagged in ((1, True), (2, True), (3, False)):
        rec = record(n, author=f"x:young{n}", flagged=flagged, idents=[("wickr", f"plug{n}")])
        rec["kind"] = "offer"
        rec["account"]["created_at"] = "2025-03-01T00:00:00+00:00"
        recs.append(rec)
    with st.session() as s:
        review.ingest_records(s, recs)
        ann = users.add_user(s, "ann", "reviewer")[0]
        review.claim(s, ann, "x:1")
        review.decide(s, ann, "x:1", "remove", "drug_sale")
    st.dispose()
    out = cli("rules", "stats", "--db", db_url, "--json")
    assert out.exit_code == 0, out.stderr
    stats = {s["rule"]: s for s in json.loads(out.stdout)}
    w = stats["wickr-new-account"]
    assert (w["mode"], w["matches"], w["decided"], w["actioned"], w["actioned_share"]) == ("shadow", 3, 1, 1, 1.0)
    assert sum(w["per_day"].values()) == 3
    assert w["would_change"]["newly_queued"] == 1  # x:3 was not flagged: only the rule would queue it
    assert w["would_change"]["queues"] == {"leads": 3}
    assert stats["review-flagged"]["matches"] == 2 and "would_change" not in stats["review-flagged"]
    text = cli("rules", "stats", "--db", db_url).stdout
    assert "wickr-new-account (shadow" in text and "if active: 1 more items queued" in text


def test_the_service_with_a_broken_rules_folder_serves_and_shows_rules_in_stats_and_item_views(db_url, detector,
                                                                                                tmp_path):
    from fastapi.testclient import TestClient
    from test_service_api import EXAMPLES, bearer, ingest_examples

    folder = tmp_path / "rules"
    write_rule(folder, "wickr-any", WICKR.replace("MODE", "shadow").replace(" && account.age_days < 7.0", ""))
    write_rule(folder, "broken", "description: x\nowner: y\nwhen: verdict.score >\naction: review\n")
    app = wiring.create_app(db_url, detector=detector, rules=str(folder))
    with app.state.store.session() as s:
        tokens = {name: users.add_user(s, name, role)[1] for name, role in (("lea", "lead"), ("bot", "ingest"))}
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        report = ingest_examples(client, tokens["bot"])
        assert report["queued"] > 0
        stats = client.get("/api/stats", headers=bearer(tokens["lea"])).json()
        assert {r["rule"] for r in stats["rules"]} == {"review-flagged"}  # the broken folder was refused whole
        (folder / "broken.yaml").unlink()  # fixed: the next ingest of new items loads the folder
        with (EXAMPLES / "x_search.jsonl").open("rb") as fh:
            r = client.post("/api/ingest", headers=bearer(tokens["bot"]), files={"file": ("x.jsonl", fh)})
        assert r.status_code == 200 and r.json()["stored"] > 0
        queued = client.get("/api/queue", headers=bearer(tokens["lea"])).json()
        item_id = queued[0]["tasks"][0]["item_id"] if isinstance(queued, list) else None
        assert item_id
        view = client.get(f"/api/items/{item_id}", headers=bearer(tokens["lea"])).json()
        assert "review-flagged" in {m["rule"] for m in view["rules"]["matched"]}
        stats = client.get("/api/stats", headers=bearer(tokens["lea"])).json()
        assert "wickr-any" in {r["rule"] for r in stats["rules"]}


def test_the_readme_shows_the_schema_the_code_declares():
    from pathlib import Path

    from plugwatch.rules import schema

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert schema.markdown() in readme


def test_every_schema_field_is_built_with_its_declared_type():
    from datetime import datetime

    from plugwatch.rules.facts import Lookups, from_record, item_facts
    from plugwatch.rules.schema import FIELDS

    kinds = {"string": str, "int": int, "double": float, "bool": bool, "list(string)": list, "timestamp": datetime}
    need = {var: frozenset(fields) for var, fields in FIELDS.items()}
    facts = item_facts(from_record(record(1, idents=[("wickr", "x")]), NOW), Lookups(), need)
    for var, fields in FIELDS.items():
        assert set(facts[var]) == set(fields), var
        for name, (kind, _) in fields.items():
            value = facts[var][name]
            assert isinstance(value, kinds[kind]) and not (kind == "int" and isinstance(value, bool)), (var, name)


def test_an_automatic_action_in_dry_run_goes_only_to_the_named_back_end_and_is_only_logged(db_url, tmp_path,
                                                                                            monkeypatch):
    from enforce_helpers import write_config

    from plugwatch.store.enforcement_tables import PlatformEffect

    monkeypatch.setenv("PW_TEST_WEBHOOK_SECRET", "a-test-secret-of-some-length")
    write_config(tmp_path, """
[backends.shop]
kind = "webhook"
platforms = ["x"]
url = "http://127.0.0.1:9/hook"
secret = { env = "PW_TEST_WEBHOOK_SECRET" }
[backends.trial]
kind = "webhook"
platforms = ["x"]
url = "http://127.0.0.1:9/trial"
secret = { env = "PW_TEST_WEBHOOK_SECRET" }
""", monkeypatch)
    write_rule(tmp_path / "rules", "try-removal", "description: try removing offers\nowner: t\n"
               "when: verdict.kind == 'offer'\naction: {apply: remove, reason: drug_sale, dry_run: trial}\n"
               "mode: active\n")
    st = wiring.open_store(db_url, rules=str(tmp_path / "rules"))
    with st.session() as s:
        review.ingest_records(s, [record(1)])
    with st.session() as s:
        rows = s.execute(select(PlatformEffect.backend, PlatformEffect.shadow, PlatformEffect.effect)
                         .where(PlatformEffect.effect == "remove_content")).all()
        assert rows == [("trial", True, "remove_content")]
    st.dispose()


def test_rules_init_on_a_rule_file_says_a_folder_is_wanted(tmp_path):
    """`rules init rules/wickr-new-account.yaml` (the file, not its folder) was a FileExistsError traceback."""
    from cli_helpers import cli

    assert cli("rules", "init", tmp_path / "rules").exit_code == 0
    out = cli("rules", "init", tmp_path / "rules" / "wickr-new-account.yaml")
    assert out.exit_code == 2
    assert "a rules folder is wanted, not a file" in out.stderr and "wickr-new-account.yaml" in out.stderr


def test_an_unquoted_when_true_says_to_quote_it(tmp_path):
    """`when: true` is a valid CEL condition, but YAML hands the loader a boolean: 'when must be text'
    left the user wondering what else `true` was."""
    write_rule(tmp_path, "always", "description: x\nowner: y\nwhen: true\naction: review\nmode: shadow\n")
    with pytest.raises(RuleError) as e:
        load_file(tmp_path / "always.yaml")
    assert e.value.line == 3 and 'YAML read true as a boolean; quote it (when: "true")' in e.value.message
    write_rule(tmp_path, "always", "description: x\nowner: y\nwhen: \"true\"\naction: review\nmode: shadow\n")
    assert load_file(tmp_path / "always.yaml").name == "always"


def test_nobody_can_be_added_as_or_turn_into_the_rules_system_user(db_url, tmp_path):
    """`users add rules --role admin` used to work: the rules then acted as that admin, whose claim is
    refused, so every ingest with an `apply` rule failed (HTTP 500, a traceback on the CLI), and the
    admin's own decisions were marked automated. The system user is not open to role, token or password."""
    from cli_helpers import cli

    out = cli("users", "add", "rules", "--role", "admin", "--db", db_url)
    assert out.exit_code == 2 and "system user policy rules take automatic actions as" in out.stderr
    write_rule(tmp_path / "rules", "remove", "description: remove offers\nowner: t\n"
               "when: verdict.kind == 'offer'\naction: {apply: remove, reason: drug_sale}\nmode: active\n")
    st = wiring.open_store(db_url, rules=str(tmp_path / "rules"))
    with st.session() as s:
        review.ingest_records(s, [record(1)])
    st.dispose()
    for args in (("set-role", "rules", "admin"), ("token", "rules")):
        out = cli("users", *args, "--db", db_url)
        assert out.exit_code == 2 and "system user" in out.stderr, args
    with st.session() as s:
        rules_user = s.scalars(select(User).where(User.name == "rules")).one()
        assert (rules_user.role, rules_user.active) == ("reviewer", False)
        with pytest.raises(UserError, match="system user"):
            users.set_password(s, "rules", "a long passphrase")
        with pytest.raises(UserError, match="system user"):
            users.set_active(s, "rules", True)
        assert s.scalars(select(Decision.action).where(Decision.item_id == "x:1")).one() == "remove"
    st.dispose()


def test_a_rules_own_automatic_actions_are_not_counted_as_reviewers_decisions(db_url, tmp_path):
    """An `apply` rule's stats said 'reviewers actioned 100.0% (1 of 1 decided)' and its backtest
    'precision 100.0%' with nobody having looked: the rule's own decisions confirmed it. `train` and `eval
    --from-decisions` likewise took them as reviewed items. A person's decision on such an item counts."""
    from plugwatch.rules.backtest import run
    from plugwatch.rules.stats import rule_stats

    write_rule(tmp_path / "rules", "auto", "description: remove offers\nowner: t\n"
               "when: verdict.flagged\naction: {apply: remove, reason: drug_sale}\nmode: active\n")
    st = wiring.open_store(db_url, rules=str(tmp_path / "rules"))
    with st.session() as s:
        review.ingest_records(s, [record(1), record(2)])
        assert len(s.scalars(select(Decision)).all()) == 2  # both removed by the rule
        stats = {e["rule"]: e for e in rule_stats(s)}
        assert (stats["auto"]["matches"], stats["auto"]["decided"], stats["auto"]["actioned_share"]) == (2, 0, None)
        assert run(s, load_file(tmp_path / "rules" / "auto.yaml"))["decided"] == 0
        assert review.reviewed_items(s) == []
        # An appeal decided by a person: that item is reviewed now.
        review.file_appeal(s, "x:1", "not mine", "adm")
        ann = users.add_user(s, "ann", "reviewer")[0]
        review.claim(s, ann, "x:1")
        review.decide(s, ann, "x:1", "dismiss", "not_drugs")
        report = run(s, load_file(tmp_path / "rules" / "auto.yaml"))
        assert (report["matches"], report["decided"], report["precision"], report["dismissed_ids"]) == (2, 1, 0.0,
                                                                                                        ["x:1"])
        assert [(r["id"], r["action"]) for r in review.reviewed_items(s)] == [("x:1", "dismiss")]
    st.dispose()


def test_queue_statistics_time_people_not_a_rules_instant_actions(db_url, tmp_path):
    """Median handling and waiting time are the review team's: a rule's automatic removal (no claim,
    no wait) pulled both towards 0 s however long reviewers took."""
    from datetime import timedelta

    from plugwatch.store.schema import utcnow

    write_rule(tmp_path / "rules", "auto", "description: remove one account's offers\nowner: t\n"
               "when: account.handle == 'bot'\naction: {apply: remove, reason: drug_sale}\nmode: active\n")
    st = wiring.open_store(db_url, rules=str(tmp_path / "rules"))
    t0 = utcnow()
    with st.session() as s:
        review.ingest_records(s, [record(1, author="x:bot"), record(2)], now=t0)
        ann = users.add_user(s, "ann", "reviewer")[0]
        review.claim(s, ann, "x:2", now=t0 + timedelta(seconds=10))
        review.decide(s, ann, "x:2", "remove", "drug_sale", now=t0 + timedelta(seconds=70))
        stats = review.queue_stats(s, now=t0 + timedelta(minutes=2))
    assert stats["decisions"] == 2 and stats["action_rate"] == 1.0  # the rule's decision is still a decision
    assert (stats["median_handling_seconds"], stats["median_waiting_seconds"]) == (60.0, 70.0)
    st.dispose()


def test_every_problem_is_one_line_even_when_cel_says_more(tmp_path):
    """A bad regular expression in `matches` gave CEL's parser output over five lines (the pattern, a
    caret, 'error: unclosed character class'), where the README promises one line per problem."""
    write_rule(tmp_path / "rules", "re", "description: x\nowner: y\nwhen: post.text.matches('[')\naction: review\n")
    (problem,) = check(tmp_path / "rules")
    assert "\n" not in str(problem) and str(problem).startswith(f"{tmp_path / 'rules' / 're.yaml'}:3: rule re: ")
    assert "not a valid regex" in problem.message and problem.message.endswith("unclosed character class")


def test_a_rule_file_is_read_whatever_the_case_of_its_suffix_and_a_bad_file_name_is_named(tmp_path):
    """OTHER.YAML was left out of the set without a word; 'My Rule.yaml' was refused as 'name: lower case
    letters ...' at line 1, a key the file does not have."""
    body = "description: x\nowner: y\nwhen: verdict.flagged\naction: review\nmode: shadow\n"
    write_rule(tmp_path / "rules", "My Rule", body)
    (problem,) = check(tmp_path / "rules")
    assert problem.line is None and "the file name makes the rule's name 'My Rule'" in problem.message
    (tmp_path / "rules" / "My Rule.yaml").rename(tmp_path / "rules" / "other.YAML")
    assert check(tmp_path / "rules") == []
    from plugwatch.rules.ruleset import load

    assert "other" in [r.name for r in load(tmp_path / "rules").rules]
