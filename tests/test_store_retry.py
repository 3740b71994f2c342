"""Transactions the database aborts to break a deadlock are run again; real errors are not."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from plugwatch.store import is_transient
from plugwatch.store.review import ingest_records
from plugwatch.store.schema import Item
from plugwatch.wiring import open_store


class _PgError(Exception):
    def __init__(self, sqlstate: str):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _dbapi(sqlstate: str) -> DBAPIError:
    return DBAPIError("INSERT ...", {}, _PgError(sqlstate))


def test_deadlocks_and_serialisation_failures_are_transient_other_errors_not():
    assert is_transient(_dbapi("40P01"))
    assert is_transient(_dbapi("40001"))
    assert not is_transient(_dbapi("23505"))  # unique violation: running again cannot help


def test_transact_runs_again_after_a_deadlock_and_gives_up_on_real_errors(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    calls = []

    def deadlocks_once(session):
        calls.append(1)
        if len(calls) == 1:
            raise _dbapi("40P01")
        return "done"

    assert store.transact(deadlocks_once) == "done" and len(calls) == 2

    def always_conflicts(session):
        raise IntegrityError("INSERT ...", {}, _PgError("23505"))

    with pytest.raises(IntegrityError):
        store.transact(always_conflicts)
    store.dispose()


def _record(n: int, author: str) -> dict:
    return {"id": f"x:{n}", "platform": "x", "item_kind": "post", "author": f"x:{author}",
            "created_at": "2025-03-02T10:00:00Z", "text": f"tele: @{author} menu", "identifiers": [
                {"type": "telegram", "value": f"@{author}", "canonical": f"telegram:{author}", "valid": True}],
            "score": 0.9, "flagged": True, "kind": "offer", "drugs": [], "reasons": [],
            "account": {"handle": author, "followers": 5}}


def test_concurrent_ingests_of_the_same_accounts_in_opposite_orders_all_land(db_url):
    store = open_store(db_url)
    authors = [f"seller{i}" for i in range(40)]
    errors: list[BaseException] = []

    def worker(offset: int, order: list[str]) -> None:
        try:
            for round_ in range(6):
                batch = [_record(offset + round_ * 100 + i, a) for i, a in enumerate(order)]
                store.transact(lambda s, batch=batch: ingest_records(s, batch))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(0, authors)),
               threading.Thread(target=worker, args=(10_000, authors[::-1]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 2 * 6 * 40
    store.dispose()
