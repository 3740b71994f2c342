"""API tokens expire: 90 days for people and 365 for machines by default, chosen per token, 0 for
never; an expired token is refused by the API and at sign-in like a wrong one (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from plugwatch.cli import app as cli_app
from plugwatch.errors import UserError
from plugwatch.service import auth
from plugwatch.store import users
from plugwatch.store.schema import AuditEntry, utcnow
from plugwatch.wiring import create_app, open_store

runner = CliRunner()


@pytest.fixture
def service(db_url):
    app = create_app(db_url, detector=object())
    with app.state.store.session() as s:
        tokens = {name: users.add_user(s, name, role)[1] for name, role in (("ann", "reviewer"), ("bot", "ingest"))}
    with TestClient(app) as client:
        yield app, client, tokens
    app.state.store.dispose()


def _expire(app, name: str, when) -> None:
    with app.state.store.session() as s:
        users.get_user(s, name).token_expires_at = when


def test_default_lifetimes_differ_for_people_and_machines_and_zero_means_never(service):
    app, _, _ = service
    now = utcnow()
    with app.state.store.session() as s:
        ann, bot = users.get_user(s, "ann"), users.get_user(s, "bot")
        assert timedelta(days=89) < ann.token_expires_at - now <= timedelta(days=90)
        assert timedelta(days=364) < bot.token_expires_at - now <= timedelta(days=365)
        users.reset_token(s, "ann", days=0)
        assert users.get_user(s, "ann").token_expires_at is None
        users.reset_token(s, "ann", days=7)
        assert timedelta(days=7) <= users.get_user(s, "ann").token_expires_at - now < timedelta(days=7, minutes=1)
        with pytest.raises(UserError, match="lifetime"):
            users.reset_token(s, "ann", days=-1)
        logged = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.token")).all()
        assert [e.details["expires"] is None for e in logged] == [True, False]


def test_an_expired_token_is_refused_by_the_api_and_at_sign_in(service):
    app, client, tokens = service
    bearer = {"Authorization": f"Bearer {tokens['ann']}"}
    assert client.get("/api/me", headers=bearer).status_code == 200
    _expire(app, "ann", utcnow() - timedelta(seconds=1))
    assert client.get("/api/me", headers=bearer).status_code == 401
    with app.state.store.session() as s:
        assert auth.authenticate(s, "ann", tokens["ann"]) is None  # the token as a sign-in password
        assert users.find_by_token(s, tokens["ann"]) is None
    _expire(app, "ann", None)  # a token issued before expiry existed (migration 0010) never expires
    assert client.get("/api/me", headers=bearer).status_code == 200


def test_cli_issues_tokens_with_a_lifetime_and_lists_when_they_expire(db_url):
    open_store(db_url).dispose()
    added = runner.invoke(cli_app, ["users", "add", "carol", "--role", "legal", "--token-days", "30", "--db", db_url])
    assert added.exit_code == 0, added.output
    assert "expires" in added.stderr
    issued = runner.invoke(cli_app, ["users", "token", "carol", "--days", "0", "--db", db_url])
    assert issued.exit_code == 0 and "never expires" in issued.stderr
    listed = runner.invoke(cli_app, ["users", "list", "--db", db_url])
    assert "carol\tlegal\tactive" in listed.stdout and "token never expires" in listed.stdout
    bad = runner.invoke(cli_app, ["users", "token", "carol", "--days", "-3", "--db", db_url])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_a_token_lifetime_too_long_for_a_date_is_a_usage_error(db_url):
    """`users token NAME --days 100000000` ended in an OverflowError traceback (no such date)."""
    open_store(db_url).dispose()
    for args in (["users", "add", "dora", "--role", "ingest", "--token-days", "99999999999"],
                 ["users", "add", "dora", "--role", "ingest"], ["users", "token", "dora", "--days", "100000000"]):
        res = runner.invoke(cli_app, [*args, "--db", db_url])
        assert "Traceback" not in res.output and not isinstance(res.exception, OverflowError), res.output
    assert res.exit_code == 2 and "36525" in res.output
    with pytest.raises(UserError, match="up to 36525"):
        users.token_expiry("ingest", 40_000)
