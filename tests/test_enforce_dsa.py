"""Notices, DSA statements of reasons (validated against a JSON Schema written from the Transparency
Database's API documentation), their submission through the outbox, `dsa export` and the transparency
report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from enforce_helpers import crash_after_send, decide_all, open_store, overturn, post, serving, write_config
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from plugwatch.enforce import config as site_config
from plugwatch.enforce.notices import compose
from plugwatch.enforce.worker import Worker
from plugwatch.store.enforcement_tables import Notice, PlatformEffect, StatementOfReasons

SCHEMA = json.loads((Path(__file__).parent / "dsa_statement.schema.json").read_text())
ROOT = Path(__file__).resolve().parent.parent
DSA_TOKEN = "X|tdb-token-7c1e55aa09"


def statements(store) -> list[StatementOfReasons]:
    with store.session() as s:
        return list(s.scalars(select(StatementOfReasons).order_by(StatementOfReasons.id)))


def test_statements_of_reasons_validate_and_their_puids_are_unique(db_url, tmp_path, monkeypatch):
    write_config(tmp_path, '[dsa]\nterritorial_scope = ["DE", "AT"]\ndecision_ground = "DECISION_GROUND_ILLEGAL_CONTENT"\n',
                 monkeypatch)
    store = open_store(db_url)
    media = post(3)
    media["media"] = [{"url": "https://cdn.example/p.jpg", "kind": "photo"}]
    decide_all(store, [post(1), media], action="remove")
    decide_all(store, [post(2)], action="suspend")
    decide_all(store, [post(4)], action="warn")  # a warning restricts nothing: no statement
    found = statements(store)
    assert [s.action for s in found] == ["remove", "remove", "suspend"]
    for s in found:
        jsonschema.validate(s.body, SCHEMA)
        assert s.body["category"] == "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS"
        assert s.body["automated_detection"] == "Yes" and s.body["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
        assert s.body["territorial_scope"] == ["AT", "DE"] and s.body["source_type"] == "SOURCE_VOLUNTARY"
        assert "seller" not in json.dumps(s.body) and "wickr" not in json.dumps(s.body)  # no personal data
    assert found[0].body["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert found[1].body["content_type"] == ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_TEXT"]
    assert found[2].body["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert len({s.puid for s in found}) == 3
    with pytest.raises(jsonschema.ValidationError):  # the schema does catch a wrong statement
        jsonschema.validate({**found[0].body, "category": "STATEMENT_CATEGORY_DRUGS"}, SCHEMA)
    store.dispose()


def test_statements_are_submitted_through_the_outbox_once(db_url, tmp_path, monkeypatch):
    received: dict[str, dict] = {}
    auth: list[str] = []
    app = FastAPI()

    @app.post("/api/v1/statement")
    async def store_statement(request: Request):
        body = await request.json()
        auth.append(request.headers.get("authorization"))
        if body["puid"] in received:
            return JSONResponse({"message": "The identifier given is not unique within this platform.",
                                 "errors": {"puid": ["The identifier given is not unique within this platform."]},
                                 "existing": {"uuid": received[body["puid"]]["uuid"]}}, 422)
        jsonschema.validate(body, SCHEMA)
        received[body["puid"]] = {"uuid": f"uuid-{len(received)}"}
        return JSONResponse({**body, "uuid": received[body["puid"]]["uuid"], "permalink": "p"}, 201)

    monkeypatch.setenv("PW_TEST_DSA_TOKEN", DSA_TOKEN)
    with serving(app) as url:
        write_config(tmp_path, f'[dsa]\nsubmit_url = "{url}/api/v1/statement"\ntoken = {{ env = "PW_TEST_DSA_TOKEN" }}\n',
                     monkeypatch)
        store = open_store(db_url)
        decide_all(store, [post(1)], action="remove")
        crash_after_send(store)  # submitted, then the worker dies before recording it
        assert Worker(store, site_config.active()).drain() == {"delivered": 1}
    assert len(received) == 1 and auth == [f"Bearer {DSA_TOKEN}"] * 2
    with store.session() as s:
        effect = s.scalars(select(PlatformEffect)).one()
    assert effect.backend == "dsa" and effect.response["already_submitted"] is True
    store.dispose()


def test_notices_name_the_policy_the_action_the_automation_and_the_appeal_and_translate():
    en = compose("suspend", "counterfeit_pills", appeal="Appeal at https://social.example/appeal.",
                 policy_url="https://social.example/rules", automated_detection=True)
    assert "suspended your account" in en and "pressed or counterfeit pills" in en
    assert "https://social.example/rules" in en and "moderation team" in en and "automated detection" in en
    assert en.endswith("Appeal at https://social.example/appeal.")
    de = compose("remove", "drug_sale", language="de", appeal="Einspruch: antworte auf diese Nachricht.")
    assert "entfernt" in de and "Drogen zum Verkauf anbietet" in de and "Moderationsteam" in de
    assert "suspension" in compose("reversed", "drug_sale", appeal="", reversed_action="suspend")


def test_a_notice_is_stored_for_every_action_even_with_no_platform_connected(db_url, tmp_path, monkeypatch):
    write_config(tmp_path, '[notices]\nlanguage = "de"\nappeal = "Einspruch per Antwort."\n', monkeypatch)
    store = open_store(db_url)
    decide_all(store, [post(1)], action="warn")
    overturn(store, "x:1")
    with store.session() as s:
        notes = list(s.scalars(select(Notice).order_by(Notice.id)))
        assert s.scalars(select(PlatformEffect)).all() == []
    assert [(n.kind, n.language) for n in notes] == [("warn", "de"), ("reversed", "de")]
    assert "Verwarnung" in notes[0].text and "Einspruch per Antwort." in notes[0].text
    store.dispose()


def _cli(*args, env_extra=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "plugwatch.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_dsa_export_and_the_transparency_report_from_the_command_line(tmp_path, monkeypatch):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    write_config(tmp_path, "", monkeypatch)
    store = open_store(db)
    decide_all(store, [post(1), post(2)], action="remove")
    decide_all(store, [post(3)], action="suspend")
    decide_all(store, [post(4)], action="dismiss", reason="not_drugs")
    store.dispose()
    out = tmp_path / "sor.jsonl"
    r = _cli("dsa", "export", "--db", db, "-o", str(out))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 3
    for line in lines:
        jsonschema.validate(line, SCHEMA)
    assert _cli("dsa", "export", "--db", db, "--since", "2999-01-01").stdout == ""
    assert _cli("dsa", "export", "--db", db, "--since", "yesterday").returncode == 2
    year = lines[0]["application_date"][:4]
    r = _cli("report", "transparency", "--db", db, "--period", year, "-o", str(tmp_path / "tr"))
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "tr" / "transparency.json").read_text())
    assert report["decisions"] == 4 and report["per_action"] == {"dismiss": 1, "remove": 2, "suspend": 1}
    assert report["per_category"] == {"STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS": 3}
    assert report["per_source"] == {"SOURCE_VOLUNTARY": 3} and report["automated_detection"] == {"yes": 4, "no": 0}
    assert report["median_handling_hours"] is not None
    assert "Transparency report" in (tmp_path / "tr" / "transparency.html").read_text()
    bad = _cli("report", "transparency", "--db", db, "--period", "last week")
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr and "Traceback" not in bad.stderr


MASTODON_SITE = """
[backends.social]
kind = "mastodon"
platforms = ["mastodon"]
url = "https://social.example"
token = {{ env = "PW_TEST_MASTODON_TOKEN" }}
[backends.social.operations]
{effect} = "{operation}"
"""


@pytest.mark.parametrize("action, effect, operation, restriction", [
    # the default for a removal: a report and a warning, the post stays up: it restricts nothing
    ("remove", "remove_content", "report_and_warn", None),
    ("remove", "remove_content", "warn", None),
    ("warn", "warn_account", "warn", None),
    ("remove", "remove_content", "suspend", {"decision_account": "DECISION_ACCOUNT_SUSPENDED",
                                             "decision_provision": "DECISION_PROVISION_TOTAL_SUSPENSION"}),
    ("suspend", "suspend_account", "suspend", {"decision_account": "DECISION_ACCOUNT_SUSPENDED",
                                               "decision_provision": "DECISION_PROVISION_TOTAL_SUSPENSION"}),
    ("suspend", "suspend_account", "silence", {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_DEMOTED"]}),
    ("suspend", "suspend_account", "disable", {"decision_account": "DECISION_ACCOUNT_SUSPENDED"}),
    ("suspend", "suspend_account", "sensitive", {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_LABELLED"]}),
])
def test_a_mastodon_statement_of_reasons_says_what_the_operation_did(db_url, tmp_path, monkeypatch, action, effect,
                                                                    operation, restriction):
    """The statement followed the decision's name: a removal on Mastodon (`report_and_warn`, a report
    and a warning, the post stays up) was stated to the Transparency Database as content removed."""
    monkeypatch.setenv("PW_TEST_MASTODON_TOKEN", "t")
    write_config(tmp_path, MASTODON_SITE.format(effect=effect, operation=operation), monkeypatch)
    store = open_store(db_url)
    decide_all(store, [post(1, platform="mastodon")], action=action)
    found = statements(store)
    if restriction is None:
        assert found == []  # a warning is no restriction (DSA Art. 17): there is nothing to state
    else:
        assert len(found) == 1
        jsonschema.validate(found[0].body, SCHEMA)
        fields = ("decision_visibility", "decision_account", "decision_provision", "decision_monetary")
        assert {k: v for k, v in found[0].body.items() if k in fields} == restriction
    store.dispose()


def test_every_notice_says_whether_it_restricts():
    """What a back-end's operation did is named once, by its notice template; each template says which
    restriction a statement of reasons reports for it, or that it restricts nothing."""
    from plugwatch.enforce import dsa_statements
    from plugwatch.enforce.notices import KINDS

    assert set(dsa_statements.RESTRICTIONS) | set(dsa_statements.NO_RESTRICTION) == set(KINDS)
    assert not set(dsa_statements.RESTRICTIONS) & set(dsa_statements.NO_RESTRICTION)
