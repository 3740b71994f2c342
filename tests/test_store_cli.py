"""`plugwatch ingest` and the demo users of `serve --example`, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from plugwatch.cli import app
from plugwatch.commands.service import _demo_user
from plugwatch.service.auth import authenticate
from plugwatch.store import audit
from plugwatch.store.schema import AuditEntry
from plugwatch.wiring import open_store

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()


def test_ingest_command_stores_once_and_reports_rejects(db_url, tmp_path):
    first = runner.invoke(app, ["ingest", str(EXAMPLES), "--db", db_url])
    assert first.exit_code == 0, first.output
    assert "stored: 53" in first.output and "queued for review: 22" in first.output
    again = runner.invoke(app, ["ingest", str(EXAMPLES / "posts.jsonl"), "--db", db_url])
    assert again.exit_code == 0 and "stored: 0  already stored: 20" in again.output
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"id": "m1", "text": "hello"}\nnot json\n', encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(mixed), "--db", db_url])
    assert result.exit_code == 3 and "mixed.jsonl:2" in result.output and "stored: 1" in result.output
    missing = runner.invoke(app, ["ingest", str(tmp_path / "nope.jsonl"), "--db", db_url])
    assert missing.exit_code == 4


def test_demo_users_can_sign_in_and_are_audited(db_url):
    store = open_store(db_url)
    password = _demo_user(store, "demo-reviewer", "reviewer")
    renewed = _demo_user(store, "demo-reviewer", "reviewer")  # a second start gives a new password
    with store.session() as s:
        assert authenticate(s, "demo-reviewer", password) is None
        assert authenticate(s, "demo-reviewer", renewed).role == "reviewer"
        assert audit.verify(s) is None and audit.head(s)[0] == 2


def _scan(tmp_path, *inputs: Path) -> Path:
    out = tmp_path / "scan.jsonl"
    result = runner.invoke(app, ["scan", *map(str, inputs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_ingest_of_a_scan_output_keeps_its_ids_and_accounts(db_url, tmp_path):
    from sqlalchemy import select

    from plugwatch.store.schema import Account, Item

    exports = (EXAMPLES / "mastodon_timeline.json", EXAMPLES / "bluesky_jetstream.jsonl")
    out = _scan(tmp_path, *exports)
    scanned = runner.invoke(app, ["ingest", str(out), "--db", db_url])
    assert scanned.exit_code == 0 and "stored: 9  already stored: 0" in scanned.output, scanned.output
    store = open_store(db_url)
    with store.session() as s:
        ids = set(s.scalars(select(Item.id)))
        accounts = {a.key: a for a in s.scalars(select(Account))}
    assert "mastodon:111722233344455566" in ids and not any(i.startswith(("mastodon:mastodon:", "bluesky:bluesky:"))
                                                            for i in ids)
    seller = accounts["mastodon:greenleaf_ams@mastodon.social"]
    assert seller.handle == "greenleaf_ams@mastodon.social" and seller.native_id
    assert not any(k.startswith(("mastodon:mastodon:", "bluesky:bluesky:")) for k in accounts)
    store.dispose()
    # The exports themselves are the same items; the scan output again changes nothing.
    for again in ([str(p) for p in exports], [str(out)]):
        result = runner.invoke(app, ["ingest", *again, "--db", db_url])
        assert result.exit_code == 0 and "stored: 0  already stored: 9" in result.output, result.output


def test_a_disabled_user_is_enabled_again_and_a_new_token_says_it_waits_for_that(db_url):
    """There was no way back from `users disable`: `users token` printed a token that was then refused
    ('unknown or revoked token') without a word, and `users add` said the name exists."""
    from cli_helpers import cli

    from plugwatch.store.users import find_by_token

    assert cli("users", "add", "ria", "--role", "reviewer", "--db", db_url).exit_code == 0
    assert cli("users", "disable", "ria", "--db", db_url).exit_code == 0
    out = cli("users", "token", "ria", "--db", db_url)
    token = out.stdout.strip()
    assert out.exit_code == 0 and "ria is disabled" in out.stderr and "plugwatch users enable ria" in out.stderr
    store = open_store(db_url)
    with store.session() as s:
        assert find_by_token(s, token) is None
    store.dispose()
    out = cli("users", "enable", "ria", "--db", db_url)
    assert out.exit_code == 0 and "ria enabled" in out.stderr
    with store.session() as s:
        assert find_by_token(s, token).name == "ria"
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.subject == "user:ria")
                         .order_by(AuditEntry.seq.desc())).first() == "user.enable"
    store.dispose()
    assert cli("users", "enable", "nobody", "--db", db_url).exit_code == 2


def test_serve_refuses_a_port_or_worker_count_it_cannot_use(db_url):
    """`serve --port 99999` was an OverflowError traceback (after loading everything), and `--workers 0`
    a server whose every database request, and whose shutdown, hung."""
    from cli_helpers import cli

    for args in (("--port", "99999"), ("--port", "0"), ("--workers", "0"), ("--workers", "-3")):
        out = cli("serve", "--db", db_url, *args)
        assert out.exit_code == 2 and "Invalid value" in out.stderr and args[0] in out.stderr, args


def test_a_token_lifetime_past_the_calendar_is_a_usage_error(db_url):
    """`users token NAME --days 10000000` was an OverflowError traceback (date value out of range)."""
    from cli_helpers import cli

    assert cli("users", "add", "col", "--role", "ingest", "--db", db_url).exit_code == 0
    for args in (("users", "token", "col", "--days", "10000000"),
                 ("users", "add", "col2", "--role", "ingest", "--token-days", "99999999")):
        out = cli(*args, "--db", db_url)
        assert out.exit_code == 2 and "Invalid value" in out.stderr, args
    assert cli("users", "token", "col", "--days", "36500", "--db", db_url).exit_code == 0
