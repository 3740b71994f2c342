"""`plugwatch worker` and `serve --worker` on the command line: credentials checked at start-up, quiet
output, a readable status."""

from __future__ import annotations

import pytest
from enforce_helpers import write_config
from typer.testing import CliRunner

from plugwatch.cli import app

runner = CliRunner(env={"COLUMNS": "400"})


def one_line(output: str) -> str:
    return " ".join(output.split())
MASTODON = """
[backends.social]
kind = "mastodon"
platforms = ["mastodon"]
url = "https://social.example"
token = { env = "PW_TEST_UNSET_MASTODON_TOKEN" }
"""


@pytest.fixture
def live_config(tmp_path, monkeypatch):
    monkeypatch.delenv("PW_TEST_UNSET_MASTODON_TOKEN", raising=False)
    return write_config(tmp_path, MASTODON, monkeypatch)


def test_worker_run_refuses_to_start_without_a_live_backends_token(live_config, tmp_path):
    result = runner.invoke(app, ["worker", "run", "--once", "--config", str(live_config),
                                 "--db", f"sqlite:///{tmp_path / 'p.db'}"])
    assert result.exit_code == 2, result.output
    assert "backends.social.token" in one_line(result.output)
    assert "the environment variable PW_TEST_UNSET_MASTODON_TOKEN is not set" in one_line(result.output)


def test_serve_with_worker_refuses_to_start_without_a_live_backends_token(live_config, tmp_path, monkeypatch):
    def no_server(*a, **k):  # without the check, the command would go on to load the detector and serve
        raise AssertionError("the service started")

    monkeypatch.setattr("plugwatch.commands.service._detector", no_server)
    result = runner.invoke(app, ["serve", "--worker", "--config", str(live_config),
                                 "--db", f"sqlite:///{tmp_path / 'p.db'}"])
    assert result.exit_code == 2, result.output
    assert "PW_TEST_UNSET_MASTODON_TOKEN is not set" in one_line(result.output)


def test_shadow_and_set_tokens_start(live_config, tmp_path, monkeypatch):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    monkeypatch.setenv("PW_TEST_UNSET_MASTODON_TOKEN", "a-token-value")
    assert runner.invoke(app, ["worker", "run", "--once", "--config", str(live_config), "--db", db]).exit_code == 0
    monkeypatch.delenv("PW_TEST_UNSET_MASTODON_TOKEN")
    shadow = write_config(tmp_path, MASTODON + "shadow = true\n", monkeypatch)
    assert runner.invoke(app, ["worker", "run", "--once", "--config", str(shadow), "--db", db]).exit_code == 0


def test_worker_run_once_prints_its_counts_without_alembics_log(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    config = tmp_path / "try.toml"
    config.write_text('[backends.try]\nkind = "dryrun"\n', encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, "-m", "plugwatch.cli", "worker", "run", "--once", "--config", str(config),
                          "--db", f"sqlite:///{tmp_path / 'fresh.db'}"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert run.returncode == 0, run.stderr
    assert "alembic" not in run.stderr and "Running upgrade" not in run.stderr, run.stderr
    assert "delivered: 0" in run.stderr


def test_worker_status_says_when_there_are_no_effects_yet(tmp_path):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    from plugwatch.wiring import open_store

    open_store(db).dispose()
    result = runner.invoke(app, ["worker", "status", "--db", db])
    assert result.exit_code == 0 and "no effects yet" in result.stderr
    assert result.stdout.strip() == "{}"  # piped: still JSON for scripts


def test_worker_list_refuses_a_state_no_effect_can_be_in(tmp_path):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    assert runner.invoke(app, ["users", "add", "ops", "--role", "admin", "--db", db]).exit_code == 0  # a database
    assert runner.invoke(app, ["worker", "list", "--state", "dead", "--db", db]).exit_code == 0
    result = runner.invoke(app, ["worker", "list", "--state", "bogus", "--db", db])
    assert result.exit_code == 2 and "--state 'bogus': one of pending, sending, delivered" in one_line(result.output)
