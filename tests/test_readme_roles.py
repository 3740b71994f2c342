"""The README's roles table and key locations say what the code does (plugwatch/actions.py,
plugwatch/service/keys.py): a right added or taken away in the code shows up here."""

from __future__ import annotations

import re
from pathlib import Path

from plugwatch.actions import ACTIONS, PERMISSIONS, ROLES, allowed

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")

# operation -> what the README's roles table says for it (one phrase per operation)
PHRASES = {
    "items.add": "add items (`POST /api/ingest`)",
    "items.read": "read items",
    "legal.approve": "approve or reject",
    "queue.work": "see the queue, claim, release, decide",
    "records.full": "full records",
    "stats.read": "see stats",
    "appeals.file": "file appeals",
    "decisions.export": "export decisions",
    "legal.use": "export (and sign) packages",
    "pages.use": "sign in to the pages",
    "effects.retry": "retry or release platform effects",
    "reports.file": "`GET /api/reports`",
    "reports.reveal": "see who reported an item",
    "opinions.read": "opinions",
}


def _rows() -> dict[str, str]:
    table = README.split("| role | may |", 1)[1].split("\n\n", 1)[0]
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| (\w+) \| (.+) \|$", table, re.M)}


def test_the_roles_table_matches_the_permission_table():
    rows = _rows()
    assert set(rows) == set(ROLES)
    assert set(PHRASES) == set(PERMISSIONS)
    for op, phrase in PHRASES.items():
        for role in ROLES:
            assert (phrase in rows[role]) == allowed(op, role), (op, role, phrase)
    for role in ("legal", "admin"):  # what legal.use covers, spelled out for both
        for phrase in ("record disclosure requests", "release legal holds", "subject access and deletion"):
            assert phrase in rows[role], (role, phrase)
    assert "approve or reject" in rows["legal"] and "approv" not in rows["admin"].replace("except approving", "")
    for name, action in ACTIONS.items():
        for role in ("reviewer", "lead"):
            said = re.search(rf"\b{name}\b", rows[role]) is not None
            assert said == (role in action.roles), (name, role)
    assert "`plugwatch/actions.py`" in README and "service/permissions.py" not in README


def test_the_readme_says_where_the_session_key_is_and_that_the_cli_is_not_authentication(tmp_path, monkeypatch):
    from plugwatch.service.keys import session_key_path

    for env in ("PLUGWATCH_SESSION_KEY_FILE", "PLUGWATCH_PSEUDONYM_KEY_FILE"):
        monkeypatch.delenv(env, raising=False)
    monkeypatch.setenv("PLUGWATCH_KEY_DIR", str(tmp_path))
    assert session_key_path() == tmp_path / "session.key"
    people = " ".join(README.split("### People and roles", 1)[1].split("### API", 1)[0].split())
    assert "`session.key` in the key folder: `$PLUGWATCH_KEY_DIR`" in people
    assert "`--user NAME`" in people and "is not authentication" in people


def test_the_readme_does_not_promise_audit_entries_for_claims(db_url):
    """People and roles said reviewers' and leads' 'claims and decisions are' audit entries; a claim
    writes none (it is a lock on the task), only the decision does."""
    from sqlalchemy import func, select
    from test_store import record

    from plugwatch.store import review, users
    from plugwatch.store.schema import AuditEntry
    from plugwatch.wiring import open_store

    store = open_store(db_url)
    with store.session() as s:
        review.ingest_records(s, [record(1)])
        ann = users.add_user(s, "ann", "reviewer")[0]
        before = s.scalar(select(func.count()).select_from(AuditEntry))
        review.claim(s, ann, "x:1")
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
    store.dispose()
    assert "their claims and decisions are" not in README
    assert "their decisions are; a claim is a lock on the task, not an audit entry" in " ".join(README.split())
