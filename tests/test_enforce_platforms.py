"""Mastodon (Mastodon.py) and Bluesky Ozone (atproto SDK) back-ends against local servers implementing
the documented endpoints: what the platform received (method, path, body, authentication), that a
resend applies nothing twice, and that an overturned appeal reverses the effect."""

from __future__ import annotations

import pytest
from enforce_helpers import crash_after_send, decide_all, open_store, overturn, post, serving, write_config
from fake_platforms import FakeMastodon, FakeOzone
from sqlalchemy import select

from plugwatch.enforce import config as site_config
from plugwatch.enforce.worker import Worker
from plugwatch.store.enforcement_tables import Notice, PlatformEffect

TOKEN = "mastodon-admin-token-8d1f0c2b"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
MOD_DID, LABELER_DID = "did:plc:moderator000000000000001", "did:plc:labeler0000000000000001"
AUTHOR_DID = "did:plc:dealer00000000000000001"
CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"


def rows(store):
    with store.session() as s:
        return list(s.scalars(select(PlatformEffect).order_by(PlatformEffect.id)))


def toots(n: int) -> list[dict]:
    return [post(i, platform="mastodon", native=f"11{i}", account_id=f"20{i}") for i in range(1, n + 1)]


@pytest.fixture
def mastodon(tmp_path, monkeypatch):
    monkeypatch.setenv("PW_TEST_MASTODON_TOKEN", TOKEN)
    fake = FakeMastodon(TOKEN)
    with serving(fake.app) as url:
        write_config(tmp_path, f"""
[notices]
appeal = "Reply to this e-mail to appeal."
[backends.social]
kind = "mastodon"
platforms = ["mastodon"]
url = "{url}"
token = {{ env = "PW_TEST_MASTODON_TOKEN" }}
max_attempts = 4
""", monkeypatch)
        yield fake


def test_mastodon_suspension_files_a_report_and_resolves_it_with_the_account_action(db_url, mastodon):
    store = open_store(db_url)
    decide_all(store, toots(1), action="suspend")
    assert Worker(store, site_config.active()).drain() == {"delivered": 1}
    calls = [(r["method"], r["path"]) for r in mastodon.requests]
    assert calls == [("POST", "/api/v1/reports"), ("POST", "/api/v1/admin/accounts/201/action")]
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in mastodon.requests)
    report = mastodon.requests[0]["body"]
    assert report["account_id"] == "201" and report["status_ids"] == ["111"] and report["category"] == "violation"
    key = rows(store)[0].idempotency_key
    assert f"[{key}]" in report["comment"]
    action = mastodon.requests[1]["body"]
    assert action["type"] == "suspend" and action["report_id"] == "1"
    assert "suspended your account" in action["text"] and "Reply to this e-mail to appeal." in action["text"]
    assert mastodon.accounts["201"]["suspended"] and mastodon.reports[1]["action_taken"]
    assert rows(store)[0].response == {"report_id": "1", "action": "suspend"}
    store.dispose()


def test_mastodon_removal_reports_the_status_and_resolves_it_with_a_warning(db_url, mastodon):
    store = open_store(db_url)
    decide_all(store, toots(1), action="remove")
    Worker(store, site_config.active()).drain()
    assert mastodon.actions == [{"account": "201", "type": "none", "report_id": "1",
                                 "text": mastodon.actions[0]["text"]}]
    # Stock Mastodon cannot delete the post: the account is told it was reported for removal, not removed.
    text = mastodon.actions[0]["text"]
    assert "removed your post" not in text and "reported to this server's moderators for removal" in text
    with store.session() as s:
        assert [(n.kind, n.text) for n in s.scalars(select(Notice))] == [("remove_reported", text)]
    assert rows(store)[0].payload["notice"] == text
    store.dispose()


def test_mastodon_notice_says_what_the_mapped_operation_does(db_url, mastodon, tmp_path, monkeypatch):
    config = (tmp_path / "site.toml").read_text() + '[backends.social.operations]\nsuspend_account = "silence"\n'
    write_config(tmp_path, config, monkeypatch)
    store = open_store(db_url)
    decide_all(store, toots(1), action="suspend")
    assert Worker(store, site_config.active()).drain() == {"delivered": 1}
    assert [a["type"] for a in mastodon.actions] == ["silence"]
    text = mastodon.actions[0]["text"]
    assert "limited your account" in text and "suspended" not in text
    store.dispose()


@pytest.mark.parametrize("kind, effect, operation, template", [
    ("mastodon", "remove_content", "report_and_warn", "remove_reported"),
    ("mastodon", "remove_content", "warn", "warn"),
    ("mastodon", "remove_content", "suspend", "suspend"),
    ("mastodon", "warn_account", "warn", "warn"),
    ("mastodon", "suspend_account", "suspend", "suspend"),
    ("mastodon", "suspend_account", "silence", "silence"),
    ("mastodon", "suspend_account", "disable", "disable"),
    ("mastodon", "suspend_account", "sensitive", "sensitive"),
    ("ozone", "remove_content", "takedown", "remove"),
    ("ozone", "suspend_account", "takedown", "suspend"),
    ("ozone", "warn_account", "label", "warn"),
    ("ozone", "remove_content", "label", "label_post"),
    ("ozone", "remove_content", "acknowledge", "warn"),
    ("webhook", "remove_content", "remove_content", "remove"),
    ("webhook", "remove_content", "warn_account", "warn"),
    ("dryrun", "suspend_account", "suspend_account", "suspend"),
])
def test_the_notice_template_follows_the_operation_not_the_decision(kind, effect, operation, template):
    from plugwatch.enforce.backends import notice_kind
    from plugwatch.enforce.notices import KINDS, LANGUAGES, compose

    assert notice_kind(kind, effect, operation) == template
    for language in LANGUAGES:  # every template exists in every language
        assert compose(template, "drug_sale", language=language, appeal="")
        assert compose("reversed", "drug_sale", language=language, appeal="", reversed_action=template)
    assert template in KINDS


def test_every_operation_that_acts_has_a_truthful_notice():
    from plugwatch.enforce import mastodon as masto_module
    from plugwatch.enforce import ozone as ozone_module

    assert set(masto_module.NOTICES) == set(masto_module.ACCOUNT_ACTIONS)
    assert set(ozone_module.NOTICES) == ozone_module.OPERATIONS - {"reverse_takedown", "unlabel"}


def test_mastodon_resend_after_a_crash_finds_the_resolved_report_and_acts_once(db_url, mastodon):
    store = open_store(db_url)
    decide_all(store, toots(1), action="suspend")
    crash_after_send(store)  # applied on Mastodon, then the worker "dies" before recording it
    assert Worker(store, site_config.active(), name="second").drain() == {"delivered": 1}
    assert [a["type"] for a in mastodon.actions] == ["suspend"] and len(mastodon.reports) == 1
    assert rows(store)[0].response["already_applied"] is True and rows(store)[0].attempts == 2
    store.dispose()


def test_mastodon_500_is_retried_and_an_overturned_suspension_is_unsuspended(db_url, mastodon):
    store = open_store(db_url)
    decide_all(store, toots(1), action="suspend")
    worker = Worker(store, site_config.active(), backoff_base=0.001)
    mastodon.fail_next = 1
    assert worker.run_once() == {"failed": 1}
    assert TOKEN not in rows(store)[0].last_error and "500" in rows(store)[0].last_error
    import time

    time.sleep(0.01)
    assert worker.drain() == {"delivered": 1}
    overturn(store, "mastodon:111")
    assert worker.drain() == {"delivered": 1}
    assert [a["type"] for a in mastodon.actions] == ["suspend", "unsuspend"]
    assert mastodon.requests[-1]["path"] == "/api/v1/admin/accounts/201/unsuspend"
    assert not mastodon.accounts["201"]["suspended"]
    assert [(r.effect, r.operation, r.state) for r in rows(store)] == [
        ("suspend_account", "suspend", "delivered"), ("unsuspend_account", "unsuspend", "delivered")]
    store.dispose()


def test_mastodon_refusal_is_a_dead_letter_at_once(db_url, mastodon, monkeypatch):
    monkeypatch.setenv("PW_TEST_MASTODON_TOKEN", "wrong-token-value")
    store = open_store(db_url)
    decide_all(store, toots(1), action="warn")
    assert Worker(store, site_config.active()).drain() == {"dead": 1}
    assert "401" in rows(store)[0].last_error and "wrong-token-value" not in rows(store)[0].last_error
    store.dispose()


def _toot(n: int, handle: str, url: str | None = None) -> dict:
    record = post(n, platform="mastodon", native=f"11{n}", account_id=f"20{n}", author=f"mastodon:{handle}")
    record["url"] = url
    return record


def test_mastodon_refuses_accounts_of_other_servers_and_sends_nothing(db_url, mastodon):
    # Ids from another instance's export name someone else here: the effect dies, nothing is sent.
    store = open_store(db_url)
    decide_all(store, [_toot(1, "dealer@other.social"), _toot(2, "dealer2", "https://other.social/@dealer2/112")],
               action="suspend")
    assert Worker(store, site_config.active()).drain() == {"dead": 2}
    assert mastodon.requests == [] and mastodon.actions == []
    errors = [r.last_error for r in rows(store)]
    assert "the account @dealer@other.social is not local to http://127.0.0.1:" in errors[0]
    assert "the status https://other.social/@dealer2/112 is not on http://127.0.0.1:" in errors[1]
    assert all("nothing was sent" in e for e in errors)
    store.dispose()


def test_mastodon_acts_on_local_accounts_with_or_without_their_domain(db_url, mastodon, tmp_path, monkeypatch):
    config = (tmp_path / "site.toml").read_text().replace("max_attempts = 4", 'max_attempts = 4\ndomain = "example.com"')
    write_config(tmp_path, config, monkeypatch)
    host = site_config.active().backends["social"].url.removeprefix("http://").split(":")[0]
    store = open_store(db_url)
    decide_all(store, [_toot(1, "seller1"), _toot(2, f"seller2@{host}", f"http://{host}/@seller2/112"),
                       _toot(3, "seller3@Example.com")], action="warn")
    assert Worker(store, site_config.active()).drain() == {"delivered": 3}
    assert [a["account"] for a in mastodon.actions] == ["201", "202", "203"]
    store.dispose()


@pytest.fixture
def ozone(tmp_path, monkeypatch):
    monkeypatch.setenv("PW_TEST_OZONE_PASSWORD", APP_PASSWORD)
    fake = FakeOzone("mod.example.org", APP_PASSWORD, MOD_DID, LABELER_DID)
    with serving(fake.app) as url:
        write_config(tmp_path, f"""
[backends.labeler]
kind = "ozone"
platforms = ["bluesky"]
url = "{url}"
identifier = "mod.example.org"
password = {{ env = "PW_TEST_OZONE_PASSWORD" }}
labeler_did = "{LABELER_DID}"
labels = ["drug-sale"]
email_notices = true
""", monkeypatch)
        yield fake


def skeets(n: int) -> list[dict]:
    return [post(i, platform="bluesky", native=f"at://{AUTHOR_DID}/app.bsky.feed.post/3kabc{i}",
                 author=f"bluesky:dealer{i}.bsky.social", account_id=AUTHOR_DID, raw={"cid": CID}) for i in range(1, n + 1)]


def test_ozone_takedown_of_a_post_is_a_strong_ref_event_through_the_labeler_proxy(db_url, ozone):
    store = open_store(db_url)
    decide_all(store, skeets(1), action="remove")
    assert Worker(store, site_config.active()).drain() == {"delivered": 1}
    session, takedown, email = ozone.requests
    assert session["path"] == "/xrpc/com.atproto.server.createSession"
    assert takedown["path"] == "/xrpc/tools.ozone.moderation.emitEvent" and takedown["auth"] == f"Bearer {ozone.jwt}"
    assert takedown["proxy"] == f"{LABELER_DID}#atproto_labeler"
    body = takedown["body"]
    assert body["event"]["$type"] == "tools.ozone.moderation.defs#modEventTakedown"
    assert body["event"]["policies"] == ["drug_sale"] and body["createdBy"] == MOD_DID
    assert body["subject"] == {"$type": "com.atproto.repo.strongRef", "uri": f"at://{AUTHOR_DID}/app.bsky.feed.post/3kabc1",
                               "cid": CID}
    assert body["externalId"] == rows(store)[0].idempotency_key
    assert email["body"]["event"]["$type"] == "tools.ozone.moderation.defs#modEventEmail"
    assert email["body"]["subject"] == {"$type": "com.atproto.admin.defs#repoRef", "did": AUTHOR_DID}
    assert "removed your post" in email["body"]["event"]["content"]
    store.dispose()


def test_ozone_warning_labels_the_account_and_the_overturn_negates_the_label(db_url, ozone):
    store = open_store(db_url)
    decide_all(store, skeets(1), action="warn")
    worker = Worker(store, site_config.active())
    worker.drain()
    overturn(store, skeets(1)[0]["id"])
    worker.drain()
    labels = [e["event"] for e in ozone.events if e["event"]["$type"].endswith("modEventLabel")]
    assert [(e["createLabelVals"], e["negateLabelVals"]) for e in labels] == [(["drug-sale"], []), ([], ["drug-sale"])]
    assert all(e["subject"] == {"$type": "com.atproto.admin.defs#repoRef", "did": AUTHOR_DID}
               for e in ozone.events)
    store.dispose()


def test_ozone_resend_is_refused_as_a_duplicate_external_id_and_counts_as_delivered_once(db_url, ozone):
    store = open_store(db_url)
    decide_all(store, skeets(1), action="suspend")
    crash_after_send(store)
    assert Worker(store, site_config.active(), name="second").drain() == {"delivered": 1}
    takedowns = [e for e in ozone.events if e["event"]["$type"].endswith("modEventTakedown")]
    assert len(takedowns) == 1 and takedowns[0]["subject"]["did"] == AUTHOR_DID
    assert rows(store)[0].response["already_applied"] is True
    store.dispose()


def test_ozone_post_without_a_cid_cannot_be_addressed_and_says_so(db_url, ozone):
    store = open_store(db_url)
    records = skeets(1)
    records[0].pop("raw")
    decide_all(store, records, action="remove")
    assert Worker(store, site_config.active()).drain() == {"dead": 1}
    assert "no CID" in rows(store)[0].last_error
    store.dispose()


def test_ozone_takedown_of_a_post_read_from_jetstream_names_the_commit_cid(db_url, ozone):
    """What `plugwatch watch` and the Jetstream example store is the event: the post's CID is under `commit`."""
    from pathlib import Path

    from plugwatch.model import Item
    from plugwatch.sources import read

    example = Path(__file__).parent.parent / "examples" / "bluesky_jetstream.jsonl"
    [item] = [i for i in read([str(example)]) if isinstance(i, Item) and i.native_id.endswith("3l3qo3shroo2k")]
    store = open_store(db_url)
    record = post(1, platform="bluesky", native=item.native_id, author=f"bluesky:{item.author.native_id}",
                  account_id=item.author.native_id, raw=item.raw)
    decide_all(store, [record], action="remove")
    assert Worker(store, site_config.active()).drain() == {"delivered": 1}
    takedown = next(r for r in ozone.requests if r["path"] == "/xrpc/tools.ozone.moderation.emitEvent")
    assert takedown["body"]["subject"]["cid"] == item.raw["commit"]["cid"] and item.raw.get("cid") is None
    store.dispose()


def test_a_dry_run_refuses_what_live_delivery_would_refuse(db_url, mastodon, tmp_path, monkeypatch):
    """A shadow run that logs an effect live delivery would kill looks right when it is not: it is dead too,
    with the same reason, and nothing is sent either way."""
    path = tmp_path / "site.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('kind = "mastodon"', 'kind = "mastodon"\nshadow = true'),
                    encoding="utf-8")
    store = open_store(db_url)
    decide_all(store, [_toot(1, "dealer@other.social"), *toots(2)[1:]], action="suspend")
    assert Worker(store, site_config.active()).drain() == {"dead": 1, "logged": 1}
    assert mastodon.requests == [] and mastodon.actions == []
    dead, logged = rows(store)
    assert dead.shadow and dead.last_error.startswith("dry run: the account @dealer@other.social is not local")
    assert logged.shadow and logged.response["dry_run"]
    # A subject the check itself trips on (a URL urlsplit refuses) is a dead effect too, never a stalled worker.
    decide_all(store, [_toot(3, "dealer3", "https://[bad/@x/1")], action="suspend")
    assert Worker(store, site_config.active()).drain() == {"dead": 1}
    assert rows(store)[-1].last_error.startswith("dry run: ValueError")
    store.dispose()
