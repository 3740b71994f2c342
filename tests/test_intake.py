"""Live intake against local servers speaking the platforms' protocols, through the real client
libraries (`websockets` for Jetstream, Mastodon.py for Mastodon): every event sent is stored, counted
as not content, or rejected with a reason, and no item is stored twice, across a dropped connection
and a restart from the checkpoint."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
from enforce_helpers import serving
from intake_servers import T0, FakeJetstream, FakeMastodon, admin_report, post_event, post_id, status
from sqlalchemy import func, select

from plugwatch.intake.config import parse_source
from plugwatch.intake.jetstream import Jetstream
from plugwatch.intake.watch import watch
from plugwatch.store import intake_state, review
from plugwatch.store.intake_tables import Reporter, UserReport
from plugwatch.store.schema import Account, Item
from plugwatch.store.users import add_user, get_user
from plugwatch.wiring import open_store


def wait_for(condition, timeout: float = 30.0, state=lambda: None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for the connector: {state()}")
        time.sleep(0.05)


class Watching:
    """`watch` in a thread, stopped on leaving."""

    def __init__(self, store, detector, cfg):
        self.stop = threading.Event()
        self.result = []
        self.thread = threading.Thread(target=lambda: self.result.append(watch(store, detector, cfg, stop=self.stop)),
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(20)
        assert not self.thread.is_alive()


def stats(store, name):
    with store.session() as s:
        return intake_state.intake_stats(s).get(name, {})


def items(store, platform):
    with store.session() as s:
        return sorted(s.scalars(select(Item.id).where(Item.platform == platform)))


def test_jetstream_survives_a_dropped_connection_and_resumes_from_its_cursor(db_url, detector):
    identity = {"did": "did:plc:seller", "time_us": T0, "kind": "identity",
                "identity": {"did": "did:plc:seller", "handle": "seller.bsky.social", "seq": 1, "time": "2025-06-15T10:00:00Z"}}
    like = {"did": "did:plc:fan", "time_us": T0 + 2500, "kind": "commit",
            "commit": {"operation": "create", "collection": "app.bsky.feed.like", "rkey": "l1", "record": {}}}
    profile = {"did": "did:plc:seller", "time_us": T0 + 2600, "kind": "commit",
               "commit": {"operation": "update", "collection": "app.bsky.actor.profile", "rkey": "self",
                          "record": {"displayName": "Plug", "description": "menu in bio, wickr plugman99"}}}
    broken = {"did": "did:plc:seller", "time_us": T0 + 2700, "kind": "commit",
              "commit": {"operation": "create", "collection": "app.bsky.feed.post", "rkey": "bad"}}
    offer = post_event(1, text="selling mdma pills and xanax bars, dm me on wickr plugman99")
    events = [identity, offer, "this is not json {", post_event(2), like,  # <- the connection drops here
              profile, broken, *(post_event(i) for i in range(3, 7))]
    store = open_store(db_url)
    cfg = parse_source("bsky", {"kind": "jetstream", "rewind_seconds": 0, "backoff_min": 0.05}, "test")
    server = FakeJetstream(events, drop_after=5)
    with server as url:
        cfg = parse_source("bsky", {"kind": "jetstream", "url": url, "rewind_seconds": 0, "backoff_min": 0.05}, "test")
        with Watching(store, detector, cfg):
            wait_for(lambda: len(items(store, "bluesky")) == 6 and stats(store, "bsky").get("rejected") == 2,
                     state=lambda: (stats(store, "bsky"), items(store, "bluesky"), server.cursors))
        c = stats(store, "bsky")
        assert server.cursors == [None, T0 + 2500]  # the second connection resumed at the last event read
        assert items(store, "bluesky") == sorted(post_id(i) for i in range(1, 7))
        # 12 messages read: 6 posts stored once, the identity event and the like twice (replayed) not
        # content, the profile update on the account, the junk and the post without a record rejected.
        assert (c["read"], c["stored"], c["duplicates"], c["dropped"], c["profiles"], c["rejected"]) == (12, 6, 0, 3, 1, 2)
        assert c["reconnects"] >= 1 and c["cursor"] == str(T0 + 6000)
        with store.session() as s:
            reasons = sorted(r["reason"] for r in intake_state.rejects(s, "bsky"))
            assert reasons[0].startswith("Bluesky post commit without a record") and reasons[1].startswith("not JSON")
            acct = s.get(Account, "bluesky:seller.bsky.social")
            assert acct.bio == "menu in bio, wickr plugman99" and acct.display_name == "Plug"
            offer_item = s.get(Item, post_id(1))
            assert offer_item.flagged and offer_item.account_key == "bluesky:seller.bsky.social"
            assert review.queue_stats(s)["pending"] == 1  # scored by the same pipeline as ingest, and queued
        # A restart resumes from the checkpoint in the store: what was stored is not asked for again.
        server.events.extend([post_event(7), post_event(8)])
        with Watching(store, detector, cfg):
            wait_for(lambda: len(items(store, "bluesky")) == 8)
        assert server.cursors[-1] == T0 + 6000
        c = stats(store, "bsky")
        assert (c["stored"], c["duplicates"]) == (8, 1)  # post 6, at the cursor, is read again and stored once
    store.dispose()


def test_a_stream_that_cannot_connect_counts_its_reconnections(db_url, detector):
    """Reconnections were added to the counters only with the next stored batch: a stream that kept
    failing showed `reconnects` 0 on /api/stats and in `watch`'s totals, however often it retried."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed on leaving: nothing listens there
    store = open_store(db_url)
    cfg = parse_source("down", {"kind": "jetstream", "url": f"ws://127.0.0.1:{port}/subscribe",
                                "backoff_min": 0.05, "backoff_max": 0.1}, "test")
    with Watching(store, detector, cfg) as w:
        wait_for(lambda: stats(store, "down").get("reconnects", 0) >= 2, state=lambda: stats(store, "down"))
    c = stats(store, "down")
    assert c["read"] == 0 and w.result[0].totals["reconnects"] == c["reconnects"] >= 2
    store.dispose()


def test_jetstream_url_asks_for_the_collections_the_accounts_and_a_rewound_cursor():
    cfg = parse_source("b", {"kind": "jetstream", "dids": ["did:plc:a"], "url": "wss://js.example/subscribe"}, "t")
    j = Jetstream(cfg, runner=None, cursor=str(T0))
    assert j.url() == ("wss://js.example/subscribe?wantedCollections=app.bsky.feed.post&wantedCollections="
                       f"app.bsky.actor.profile&wantedDids=did%3Aplc%3Aa&cursor={T0 - 5_000_000}")


def test_mastodon_stream_backfill_and_admin_reports(db_url, detector, monkeypatch):
    monkeypatch.setenv("MASTO_TOKEN", "tok-123")
    bad = status(0, content="")  # no text, no media: rejected
    first, gap, later = [status(1), bad, status(2)], [status(3), status(4)], [status(5), status(6)]
    report = admin_report("7", "witness", [status(2)], comment="he sells pills in DMs")
    fake = FakeMastodon("tok-123", first, gap, later, [report])
    store = open_store(db_url)
    with store.session() as s:
        add_user(s, "lena", "lead")
    with serving(fake.app) as url:
        cfg = parse_source("social", {"kind": "mastodon", "url": url, "token": {"env": "MASTO_TOKEN"}, "reports": True,
                                      "resolve_reports": True, "poll_seconds": 0.2, "backoff_min": 0.05}, "test")
        with Watching(store, detector, cfg):
            wait_for(lambda: len(items(store, "mastodon")) == 6 and stats(store, "social").get("reports") == 1)
            assert items(store, "mastodon") == [f"mastodon:{100 + i}" for i in range(1, 7)]
            with store.session() as s:
                filed = s.scalars(select(UserReport)).one()
                reporter = s.get(Reporter, filed.reporter_id)
                assert (filed.item_id, filed.external_id, filed.source) == ("mastodon:102", "7", "social")
                assert reporter.key == "mastodon:witness@127.0.0.1" or reporter.key.startswith("mastodon:witness@")
                assert "he sells pills" in filed.text
                lead = get_user(s, "lena")
                review.claim(s, lead, "mastodon:102")
                review.decide(s, lead, "mastodon:102", "remove", "drug_sale")
            wait_for(lambda: fake.resolved == ["7"])  # the reporter's server is told
        c = stats(store, "social")
        assert fake.since_ids[0] == "102"  # the gap was filled from where the stream stopped
        with store.session() as s:
            assert [r["reason"] for r in intake_state.rejects(s, "social")] == ["record has no text"]
            assert s.scalars(select(UserReport)).one().feedback_sent_at is not None
            assert s.scalar(select(func.count()).select_from(Item)) == 6
        # 9 statuses read (2 streamed, the bad one, 2 from the gap, 2 streamed later, the reported one
        # again with its report), 1 report; stored once each.
        assert c["stored"] == 6 and c["rejected"] == 1 and c["reports"] == 1
        assert c["read"] == c["stored"] + c["duplicates"] + c["rejected"] + c["reports"] + c["dropped"]
        assert json.loads(c["cursor"]) == {"status": "106", "report": "7"}
    store.dispose()


@pytest.mark.parametrize("raw, message", [
    ({"kind": "nope"}, "sources.x.kind"),
    ({"kind": "jetstream", "url": "http://x"}, "needs a ws or wss URL"),
    ({"kind": "mastodon", "url": "https://m", "stream": "firehose"}, "public, local, hashtag:NAME or none"),
    ({"kind": "mastodon", "url": "https://m", "report_reason": "not_drugs"}, "report_reason"),
    ({"kind": "mastodon", "url": "https://m", "token": "plain-secret"}, "never the secret itself"),
    ({"kind": "jetstream", "buffer": 0}, "buffer"),
    # a misspelt key was ignored: these watched the whole network, and polled no reports
    ({"kind": "jetstream", "did": ["did:plc:x"]}, r"sources.x: unknown key did \(a jetstream source takes .*dids"),
    ({"kind": "mastodon", "url": "https://m", "report": True}, "unknown key report "),
    ({"kind": "mastodon", "url": "https://m", "reports": "no"}, r"sources.x.reports: true or false, not 'no'"),
])
def test_bad_source_configuration_is_one_clear_message(raw, message):
    from plugwatch.errors import UserError

    with pytest.raises(UserError, match=message):
        parse_source("x", raw, "site.toml")


def test_watch_and_reporters_commands(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from plugwatch.cli import app

    db = f"sqlite:///{tmp_path / 'pw.db'}"
    site = tmp_path / "site.toml"
    site.write_text('[sources.bsky]\nkind = "jetstream"\n')
    monkeypatch.delenv("PLUGWATCH_CONFIG", raising=False)
    r = CliRunner().invoke(app, ["watch", "nosuch", "--config", str(site), "--db", db])
    assert r.exit_code == 2 and "no [sources.nosuch]" in r.output and "configured: bsky" in r.output
    site.write_text('[sources.bsky]\nkind = "jetstream"\nurl = "https://x"\n')
    r = CliRunner().invoke(app, ["watch", "bsky", "--config", str(site), "--db", db])
    assert r.exit_code == 2 and "sources.bsky.url" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["reporters", "trust", "telegram:@Hotline", "--name", "Hotline e.V.", "--db", db])
    assert r.exit_code == 0 and "telegram:hotline: trusted flagger 'Hotline e.V.'" in r.output
    store = open_store(db)
    with store.session() as s:
        who = s.scalars(select(Reporter)).one()
        assert who.trusted_flagger and who.trusted_name == "Hotline e.V."
    store.dispose()
    assert CliRunner().invoke(app, ["reporters", "untrust", "telegram:hotline", "--db", db]).exit_code == 0


def test_behind_the_stream_only_the_cheap_stage_scores_and_the_rest_is_scored_later(db_url, detector):
    """A full buffer makes scoring take the cheap stage and record the items; once the buffer runs low
    they are scored fully. Nothing is dropped, and the connector's counters and lag show on /api/stats."""
    from fastapi.testclient import TestClient

    from plugwatch.intake.buffer import Event
    from plugwatch.intake.runner import Runner
    from plugwatch.store.intake_tables import DeferredScore
    from plugwatch.store.users import reset_token
    from plugwatch.wiring import create_app

    store = open_store(db_url)
    cfg = parse_source("bsky", {"kind": "jetstream", "buffer": 40, "batch": 10}, "test")
    runner = Runner(store, detector, cfg)
    offer = post_event(1, text="selling mdma pills and xanax bars, dm me on wickr plugman99")
    events = [offer] + [post_event(i) for i in range(2, 31)]
    now = time.time()
    for e in events:
        assert runner.put(Event("record", e, str(e["time_us"]), "bluesky", cursor=str(e["time_us"]), event_time=now - 3))
    assert runner.behind()  # 30 of 40: scoring is behind
    runner.step()
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(DeferredScore)) == 10  # cheap stage only, recorded
    while runner.step(timeout=0.01):
        pass
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(DeferredScore)) == 0  # all scored fully by now
        assert s.scalar(select(func.count()).select_from(Item)) == 30
        full = s.get(Item, post_id(1))
        assert full.flagged and full.reasons and review.queue_stats(s)["pending"] == 1
        add_user(s, "rita", "reviewer", "correct horse battery")
        token = reset_token(s, "rita")
    c = stats(store, "bsky")
    assert (c["read"], c["stored"], c["deferred"], c["waiting_for_full_scoring"]) == (30, 30, 10, 0)
    assert c["max_lag_seconds"] >= 3 and c["lag_seconds"] == 0.0  # it fell back once caught up
    store.dispose()
    app = create_app(db_url, detector=detector)
    client = TestClient(app)
    got = client.get("/api/stats", headers={"Authorization": f"Bearer {token}"}).json()["intake"]["bsky"]
    assert got["stored"] == 30 and got["rejected"] == 0
    page = TestClient(app, follow_redirects=False)
    login = re.search(r'name="login_token" value="([^"]+)"', page.get("/login").text).group(1)
    page.post("/login", data={"name": "rita", "password": "correct horse battery", "login_token": login, "next": "/"})
    shown = page.get("/fragments/stats").text
    assert 'data-intake="bsky"' in shown and "30 read · 0 dropped · 0 rejected" in shown
    app.state.store.dispose()


def test_a_bad_post_of_a_pushed_page_is_rejected_alone(db_url, detector, caplog):
    """A record holding many posts (an X API page) gives its good posts and a reject for the bad one,
    and the reject's reason is in the log (`watch` and /api/stats gave only the count)."""
    from plugwatch.intake.buffer import Event
    from plugwatch.intake.runner import Runner

    store = open_store(db_url)
    runner = Runner(store, detector, parse_source("push", {"kind": "jetstream"}, "test"))
    page = {"data": [{"id": "71", "text": "selling xanax bars, wickr plugman99", "author_id": "9"},
                     {"id": "72", "author_id": "9"}],
            "includes": {"users": [{"id": "9", "username": "plugman"}]}}
    assert runner.put(Event("record", page, "page-1", "x"))
    while runner.step(timeout=0.01):
        pass
    with store.session() as s:
        assert s.get(Item, "x:71") is not None and s.get(Item, "x:72") is None
    c = stats(store, "push")
    assert (c["read"], c["stored"], c["rejected"]) == (1, 1, 1)
    with store.session() as s:
        reason = intake_state.rejects(s, "push")[0]["reason"]
    assert f"push: rejected page-1: {reason}" in caplog.text
    store.dispose()
