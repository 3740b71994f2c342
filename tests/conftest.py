"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import pytest

from plugwatch.detect import Detector


@pytest.fixture(scope="session")
def detector() -> Detector:
    """The shipped model, loaded once: its embedding model is the slow part and loads on first use."""
    return Detector.load()


# --- storage back-ends -------------------------------------------------------------------------
# Every storage and service test takes `db_url` and so runs twice: on a SQLite file and on a real
# PostgreSQL server. PLUGWATCH_TEST_PG is a server URL (`.ci/run` starts the server and sets it);
# without it the PostgreSQL runs are skipped, with it an unreachable server is a failure.

import os  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402


def _pg_admin_url() -> str | None:
    return os.environ.get("PLUGWATCH_TEST_PG") or None


@contextmanager
def _pg_database(admin: str) -> Iterator[str]:
    """A new empty database on the server `admin` connects to, dropped afterwards; yields its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"pw_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'plugwatch.db'}"
        return
    admin = _pg_admin_url()
    if not admin:
        pytest.skip("PLUGWATCH_TEST_PG not set (.ci/run sets it and starts PostgreSQL)")
    with _pg_database(admin) as url:
        yield url


@pytest.fixture
def second_db(db_url, tmp_path):
    """Another empty database on the same back-end as `db_url`, for a second plugwatch instance."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    with _pg_database(_pg_admin_url()) as url:
        yield url


def _run_folder(variable: str, folder) -> Iterator[None]:
    """`variable` names `folder` for the test run, and is put back as it was afterwards."""
    old = os.environ.get(variable)
    os.environ[variable] = str(folder)
    yield
    if old is None:
        os.environ.pop(variable, None)
    else:
        os.environ[variable] = old


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory):
    """The sentence encoder's unpacked files go to a folder of the test run, never the user's own cache."""
    yield from _run_folder("PLUGWATCH_CACHE_DIR", tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True, scope="session")
def _private_key_dir(tmp_path_factory):
    """Key files and published audit heads go to a folder of the test run, never the user's own."""
    yield from _run_folder("PLUGWATCH_KEY_DIR", tmp_path_factory.mktemp("keys"))
