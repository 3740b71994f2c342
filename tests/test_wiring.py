"""The composition root: every way to a store runs the root's hooks, and nothing else finds stages."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from test_store import record

from plugwatch import wiring
from plugwatch.enforce.outbox import on_decision as enqueue_platform_effects
from plugwatch.evidence.snapshot import on_decision
from plugwatch.rules.routing import after_ingest as carry_out_rules
from plugwatch.share.matching import after_ingest
from plugwatch.store import reports, review, users
from plugwatch.store.evidence_tables import Snapshot
from plugwatch.store.hooks import hooks_of
from plugwatch.store.image_banks import after_ingest as match_image_banks
from plugwatch.store.image_banks import on_decision as bank_confirmed_pictures


def test_every_session_of_the_root_store_freezes_evidence_and_matches_watch_lists(db_url):
    store = wiring.open_store(db_url)
    with store.session() as s:
        # Each stage is imported when its hook first runs (commands that never ingest or decide skip them).
        stages = [hook.stage() for hook in hooks_of(s).after_decision]
        assert stages == [reports.on_decision, on_decision, enqueue_platform_effects, bank_confirmed_pictures]
        assert [hook.stage() for hook in hooks_of(s).after_ingest] == [
            after_ingest, reports.after_ingest, match_image_banks, carry_out_rules]
        assert hooks_of(s).route is not None  # the policy rules route what is ingested
        review.ingest_records(s, [record(1, "x:dealer")])
        user = users.add_user(s, "ann", "reviewer")[0]
        review.claim(s, user, "x:1")
        review.decide(s, user, "x:1", "remove", "drug_sale")
    with store.session() as s:  # the decision froze its item without anyone importing the evidence stage
        assert s.query(Snapshot).filter_by(item_id="x:1").count() == 1
    store.dispose()


def test_a_session_not_opened_by_a_store_is_refused_before_it_can_skip_the_hooks(db_url):
    store = wiring.open_store(db_url)
    with Session(store.engine) as s, pytest.raises(RuntimeError, match="not opened by a Store"):
        review.ingest_records(s, [record(1, "x:dealer")])
    store.dispose()


def test_the_service_mounts_the_routers_the_root_names(tmp_path):
    from fastapi.testclient import TestClient

    app = wiring.create_app(f"sqlite:///{tmp_path / 'p.db'}")
    client = TestClient(app)
    assert client.get("/login").status_code == 200  # pages
    assert client.get("/api/queue").status_code == 401  # API
    assert client.get("/api/legal/requests").status_code == 401  # legal API
    assert client.get("/taxii2/").status_code == 401  # TAXII
    app.state.store.dispose()


def test_the_cli_offers_every_command_group_of_the_root():
    from plugwatch.cli import app

    names = {c.name or c.callback.__name__ for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert {"scan", "train", "eval", "proxies", "networks", "serve", "ingest", "evidence", "share", "vocab"} <= names
