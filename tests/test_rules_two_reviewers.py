"""A policy rule's `require_two_reviewers`: the first reviewer's decision is an opinion (nothing follows
from it), a different reviewer must give the second; agreement is final once (one evidence snapshot,
one outbox row), disagreement goes to a lead who sees both; a lead alone decides at once. Concurrent
second opinions make one final decision, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from enforce_helpers import write_config
from sqlalchemy import func, select
from test_rules import NOW, write_rule
from test_store import record

from plugwatch import wiring
from plugwatch.rules.model import RuleError, load_file
from plugwatch.service.redaction import redact_item
from plugwatch.store import review, users
from plugwatch.store.enforcement_tables import PlatformEffect
from plugwatch.store.evidence_tables import Snapshot
from plugwatch.store.review import ReviewError
from plugwatch.store.schema import AuditEntry, Decision, ReviewOpinion, ReviewTask, Strike

TWO = ("description: offers from accounts with many followers need two reviewers\nowner: policy@example.org\n"
       "when: verdict.kind == 'offer'\naction: {review: true, require_two_reviewers: true}\nmode: active\n")
CONFIG = """
[backends.shop]
kind = "webhook"
platforms = ["x"]
url = "http://127.0.0.1:9/hook"
secret = { env = "PW_TEST_WEBHOOK_SECRET" }
"""


@pytest.fixture
def st(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PW_TEST_WEBHOOK_SECRET", "a-test-secret-of-some-length")
    write_config(tmp_path, CONFIG, monkeypatch)
    write_rule(tmp_path / "rules", "two-reviewers", TWO)
    store = wiring.open_store(db_url, rules=str(tmp_path / "rules"))
    with store.session() as s:
        for name, role in (("ria", "reviewer"), ("rob", "reviewer"), ("rex", "reviewer"), ("lea", "lead")):
            users.add_user(s, name, role)
        review.ingest_records(s, [record(1), record(2, author="x:other")], now=NOW)
    yield store
    store.dispose()


def _decide(store, who, item="x:1", action="remove", reason="drug_sale", now=NOW):
    with store.session() as s:
        u = users.get_user(s, who)
        review.claim(s, u, item, now=now)
        out = review.decide(s, u, item, action, reason, now=now)
        return type(out).__name__, out.id


def _counts(store, item="x:1"):
    with store.session() as s:
        def n(model, col):
            return s.scalar(select(func.count()).select_from(model).where(col == item))
        return {"decisions": n(Decision, Decision.item_id), "opinions": n(ReviewOpinion, ReviewOpinion.item_id),
                "snapshots": n(Snapshot, Snapshot.item_id), "effects": n(PlatformEffect, PlatformEffect.item_id),
                "strikes": s.scalar(select(func.count()).select_from(Strike)),
                "state": s.scalar(select(ReviewTask.state).where(ReviewTask.item_id == item))}


def test_the_effect_is_checked_and_marks_the_task(st, tmp_path):
    with st.session() as s:
        assert s.scalar(select(ReviewTask.two_reviewers).where(ReviewTask.item_id == "x:1")) is True
    write_rule(tmp_path, "bad", "description: x\nowner: y\nwhen: verdict.flagged\n"
                                "action: {require_two_reviewers: 'yes'}\n")
    with pytest.raises(RuleError, match="require_two_reviewers must be true or false"):
        load_file(tmp_path / "bad.yaml")
    write_rule(tmp_path, "both", "description: x\nowner: y\nwhen: verdict.flagged\n"
                                 "action: {require_two_reviewers: true, apply: remove, reason: drug_sale}\n")
    with pytest.raises(RuleError, match="cannot go with apply"):
        load_file(tmp_path / "both.yaml")
    write_rule(tmp_path, "word", "description: x\nowner: y\nwhen: verdict.flagged\naction: require_two_reviewers\n")
    assert load_file(tmp_path / "word.yaml").action.require_two_reviewers


def test_the_first_decision_is_an_opinion_and_nothing_follows_from_it(st):
    assert _decide(st, "ria")[0] == "ReviewOpinion"
    c = _counts(st)
    assert c == {"decisions": 0, "opinions": 1, "snapshots": 0, "effects": 0, "strikes": 0, "state": "pending"}
    with st.session() as s:
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.subject == "item:x:1")).all() == ["opinion"]
        # The first reviewer no longer sees it in the queue; a second reviewer does.
        ria, rob = users.get_user(s, "ria"), users.get_user(s, "rob")
        shown = {t["item_id"]: t for g in review.queue(s, rob, now=NOW) for t in g["tasks"]}
        assert shown["x:1"]["two_reviewers"] and shown["x:1"]["first_opinion"]
        assert "x:1" not in {t["item_id"] for g in review.queue(s, ria, now=NOW) for t in g["tasks"]}
        assert review.claim_next(s, ria, now=NOW).item_id == "x:2"


def test_the_same_reviewer_cannot_give_the_second_opinion(st):
    _decide(st, "ria")
    with st.session() as s:
        with pytest.raises(ReviewError, match="you gave the first opinion on x:1.*someone else") as e:
            review.claim(s, users.get_user(s, "ria"), "x:1", now=NOW)
        assert e.value.status == 403


def test_a_second_agreeing_reviewer_makes_it_final_once(st):
    _decide(st, "ria")
    kind, decision_id = _decide(st, "rob")
    assert kind == "Decision"
    c = _counts(st)
    assert c == {"decisions": 1, "opinions": 1, "snapshots": 1, "effects": 1, "strikes": 1, "state": "decided"}
    with st.session() as s:
        d = s.get(Decision, decision_id)
        assert users.get_user(s, "rob").id == d.reviewer_id
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "decision")).one()
        assert entry.details["two_reviewers"] == "agreed"


def test_disagreement_goes_to_a_lead_who_sees_both_opinions(st):
    _decide(st, "ria")
    assert _decide(st, "rob", action="dismiss", reason="not_drugs")[0] == "ReviewOpinion"
    c = _counts(st)
    assert c == {"decisions": 0, "opinions": 2, "snapshots": 0, "effects": 0, "strikes": 0, "state": "escalated"}
    with st.session() as s:
        # Nobody escalated it: the refusal (and the item page) said "was escalated by a reviewer".
        with pytest.raises(ReviewError, match="x:1 had two reviewers who disagreed: it needs a lead"):
            review.claim(s, users.get_user(s, "rex"), "x:1", now=NOW)
        view = review.item_view(s, "x:1", now=NOW)
    lead_view = redact_item(view, "lead")
    assert [(o["reviewer"], o["action"]) for o in lead_view["two_reviewers"]["opinions"]] == [
        ("ria", "remove"), ("rob", "dismiss")]
    assert lead_view["two_reviewers"]["opinions"][0]["created_at"].startswith("2025-03-03T12:00")
    assert _decide(st, "lea", action="warn")[0] == "Decision"
    c = _counts(st)
    assert (c["decisions"], c["snapshots"], c["effects"], c["state"]) == (1, 1, 1, "decided")


def test_a_second_reviewer_sees_that_a_first_opinion_exists_but_not_what(st):
    _decide(st, "ria")
    with st.session() as s:
        view = review.item_view(s, "x:1", now=NOW)
    shown = redact_item(view, "reviewer")
    assert shown["two_reviewers"] == {"required": True, "count": 1, "first_given": True}
    assert "two_reviewers.opinions" in shown["redacted"]
    assert "ria" not in str(shown["two_reviewers"]) and "remove" not in str(shown["two_reviewers"])
    assert redact_item(view, "lead")["two_reviewers"]["opinions"][0]["reviewer"] == "ria"


def test_a_lead_alone_decides_at_once(st):
    assert _decide(st, "lea")[0] == "Decision"
    c = _counts(st)
    assert (c["decisions"], c["opinions"], c["snapshots"], c["effects"], c["state"]) == (1, 0, 1, 1, "decided")


def test_an_escalation_by_the_first_reviewer_is_an_ordinary_escalation(st):
    assert _decide(st, "ria", action="escalate", reason="needs_lead")[0] == "Decision"
    assert _counts(st)["state"] == "escalated"
    with st.session() as s, pytest.raises(ReviewError, match="escalated by a reviewer: it needs a lead"):
        review.claim(s, users.get_user(s, "rex"), "x:1", now=NOW)


def test_two_reviewers_through_the_api(db_url, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient
    from test_service_api import bearer

    write_rule(tmp_path / "rules", "two-reviewers", TWO)
    app = wiring.create_app(db_url, rules=str(tmp_path / "rules"))
    with app.state.store.session() as s:
        tokens = {n: users.add_user(s, n, r)[1] for n, r in (("ria", "reviewer"), ("rob", "reviewer"),
                                                              ("lea", "lead"))}
        review.ingest_records(s, [record(1)])
    body = {"action": "remove", "policy_reason": "drug_sale"}
    with TestClient(app) as client:
        assert client.post("/api/queue/claim", headers=bearer(tokens["ria"]), json={"item_id": "x:1"}).status_code == 200
        r = client.post("/api/items/x:1/decision", headers=bearer(tokens["ria"]), json=body)
        assert r.status_code == 200 and r.json()["opinion"] is True and r.json()["id"] is None
        again = client.post("/api/queue/claim", headers=bearer(tokens["ria"]), json={"item_id": "x:1"})
        assert again.status_code == 403 and "you gave the first opinion on x:1" in again.text
        assert client.post("/api/queue/claim", headers=bearer(tokens["ria"])).status_code == 204  # nothing else
        as_rob = client.get("/api/items/x:1", headers=bearer(tokens["rob"])).json()["two_reviewers"]
        assert as_rob == {"required": True, "count": 1, "first_given": True}
        as_lea = client.get("/api/items/x:1", headers=bearer(tokens["lea"])).json()["two_reviewers"]
        assert [(o["reviewer"], o["action"]) for o in as_lea["opinions"]] == [("ria", "remove")]
        assert client.post("/api/queue/claim", headers=bearer(tokens["rob"]), json={"item_id": "x:1"}).status_code == 200
        r = client.post("/api/items/x:1/decision", headers=bearer(tokens["rob"]), json=body)
        assert r.status_code == 200 and r.json()["opinion"] is False and r.json()["id"]
    app.state.store.dispose()


def test_concurrent_second_opinions_make_one_final_decision(st):
    """rob's claim runs out and rex takes the task; both decide at the same moment: one wins."""
    for round_ in range(5):
        item = f"x:{100 + round_}"
        with st.session() as s:
            review.ingest_records(s, [record(100 + round_, author=f"x:r{round_}")], now=NOW)
        _decide(st, "ria", item=item)
        with st.session() as s:
            review.claim(s, users.get_user(s, "rob"), item, ttl_seconds=1, now=NOW)
        later = NOW + timedelta(seconds=5)
        with st.session() as s:
            review.claim(s, users.get_user(s, "rex"), item, now=later)
        barrier = threading.Barrier(2)

        def go(who, action, item=item, later=later, barrier=barrier):
            # Meet before opening a session: on SQLite a session holds the write lock from its start,
            # so a barrier inside it would wait forever for the other thread.
            barrier.wait(timeout=60)
            with st.session() as s:
                u = users.get_user(s, who)
                try:
                    review.decide(s, u, item, action, "drug_sale" if action == "remove" else "not_drugs", now=later)
                    return "ok"
                except ReviewError:
                    return "lost"

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda a: go(*a), [("rob", "remove"), ("rex", "remove")]))
        assert sorted(results) == ["lost", "ok"]
        c = _counts(st, item)
        assert (c["decisions"], c["snapshots"], c["effects"], c["state"]) == (1, 1, 1, "decided")
