"""Tasks only a lead may take, on SQLite and PostgreSQL: an item a policy rule routed to the leads keeps
needing a lead on appeal, whoever decided it and whatever they decided; a reviewer refused such a task
is told why (the rule, an escalation, an appeal)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from test_rules import WICKR, write_rule
from test_store import record

from plugwatch import wiring
from plugwatch.store import make_engine, review, upgrade, users
from plugwatch.store.review import ReviewError
from plugwatch.store.schema import Appeal, ReviewTask


@pytest.fixture
def routed(db_url, tmp_path):
    """x:1 routed to the leads by the active rule wickr-new-account, x:2 not; ann and ben review, lea and
    leo lead, adm files appeals. Returns (store, people)."""
    write_rule(tmp_path / "rules", "wickr-new-account", WICKR.replace("MODE", "active"))
    st = wiring.open_store(db_url, rules=str(tmp_path / "rules"))
    young = record(1, author="x:young", idents=[("wickr", "plugman99")])
    young["account"]["created_at"] = "2025-02-28T00:00:00+00:00"
    with st.session() as s:
        review.ingest_records(s, [young, record(2, author="x:old")])
        people = {name: users.add_user(s, name, role)[0] for name, role in
                  (("ann", "reviewer"), ("ben", "reviewer"), ("lea", "lead"), ("leo", "lead"), ("adm", "admin"))}
    yield st, people
    st.dispose()


def _shown(s, user) -> list[str]:
    return [t["item_id"] for g in review.queue(s, user) for t in g["tasks"]]


def test_an_appeal_on_an_item_a_rule_routed_to_the_leads_is_for_leads_only(routed):
    st, p = routed
    with st.session() as s:
        review.claim(s, p["lea"], "x:1")
        review.decide(s, p["lea"], "x:1", "remove", "drug_sale")  # an action a reviewer could take too
        appeal = review.file_appeal(s, "x:1", "it was a joke", filed_by="adm")
        assert review.item_view(s, "x:1")["task"]["required_role"] == "lead"
        for name in ("ann", "ben"):  # the rule said a lead must see this item: reviewers neither see nor get it
            assert "x:1" not in _shown(s, p[name])
            with pytest.raises(ReviewError, match="needs a lead") as e:
                review.claim(s, p[name], "x:1")
            assert e.value.status == 403
        assert review.claim_next(s, p["ann"]).item_id == "x:2"  # the queue is not closed to them otherwise
        assert review.claim_next(s, p["lea"]) is None  # nor to the lead whose decision it is
        assert review.claim_next(s, p["leo"]).item_id == "x:1"
        review.decide(s, p["leo"], "x:1", "dismiss", "news_or_discussion")
        assert s.get(Appeal, appeal.id).state == "overturned"
        # The next appeal too: the routing outlives the first appeal (leo's dismissal, open to reviewers
        # otherwise, goes to the other lead).
        review.file_appeal(s, "x:1", "it was not a joke", filed_by="adm")
        assert [name for name in ("ann", "ben", "lea", "leo") if "x:1" in _shown(s, p[name])] == ["lea"]


def test_an_appeal_on_an_item_no_rule_routed_goes_to_any_other_reviewer(routed):
    st, p = routed
    with st.session() as s:
        review.claim(s, p["ann"], "x:2")
        review.decide(s, p["ann"], "x:2", "remove", "drug_sale")
        review.file_appeal(s, "x:2", "not mine", filed_by="adm")
        assert s.scalars(select(ReviewTask.required_role).where(ReviewTask.item_id == "x:2")).one() is None
        assert review.claim_next(s, p["ben"]).item_id == "x:2"


def _refusal(s, user, item_id) -> str:
    with pytest.raises(ReviewError) as e:
        review.claim(s, user, item_id)
    assert e.value.status == 403
    return str(e.value)


def test_a_refused_claim_says_why_the_task_needs_a_lead(routed):
    st, p = routed
    with st.session() as s:
        # Routed by a rule: no person escalated it.
        assert _refusal(s, p["ann"], "x:1") == ("item x:1 was routed to the leads by policy rule wickr-new-account: "
                                                "it needs a lead")
        assert review.item_view(s, "x:1")["task"]["lead_reason"] == ("was routed to the leads by policy rule "
                                                                     "wickr-new-account")  # the item page says it too
        review.claim(s, p["ann"], "x:2")
        review.decide(s, p["ann"], "x:2", "escalate", "needs_lead")
        assert _refusal(s, p["ben"], "x:2") == "item x:2 was escalated by a reviewer: it needs a lead"
        review.claim(s, p["lea"], "x:2")
        review.decide(s, p["lea"], "x:2", "suspend", "drug_sale")
        review.file_appeal(s, "x:2", "I was selling vitamins", filed_by="adm")
        assert _refusal(s, p["ben"], "x:2") == "item x:2 is an appeal of a lead's decision (suspend): it needs a lead"
        review.claim(s, p["lea"], "x:1")
        review.decide(s, p["lea"], "x:1", "remove", "drug_sale")
        review.file_appeal(s, "x:1", "it was a joke", filed_by="adm")
        assert _refusal(s, p["ben"], "x:1") == ("item x:1 is an appeal on an item routed to the leads by policy rule "
                                                "wickr-new-account: it needs a lead")


def test_the_upgrade_marks_tasks_routed_before_it_and_sends_their_open_appeals_to_the_leads(db_url):
    engine = make_engine(db_url)
    upgrade(engine, db_url, "0012_reporter_pseudonyms")
    with engine.begin() as conn:
        for n, (queue, state) in enumerate((("leads", "decided"), ("leads", "appealed"), ("fraud", "appealed")), 1):
            conn.execute(text("INSERT INTO items (id, platform, kind, text, received_at, flagged, drugs, reasons, "
                              "identifiers, record) VALUES (:id, 'x', 'post', 't', '2025-01-01', :t, '[]', '[]', "
                              "'[]', '{}')"), {"id": f"x:{n}", "t": True})
            conn.execute(text("INSERT INTO review_tasks (item_id, group_key, priority, state, open_state, "
                              "two_reviewers, created_at) VALUES (:id, 'g', 1.0, :s, :s, :f, '2025-01-01')"),
                         {"id": f"x:{n}", "s": state, "f": False})
            conn.execute(text("INSERT INTO task_routes (item_id, queue, labels) VALUES (:id, :q, '[]')"),
                         {"id": f"x:{n}", "q": queue})
    upgrade(engine, db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT item_id, routed_role, required_role FROM review_tasks ORDER BY item_id"))
        assert rows.all() == [("x:1", "lead", None), ("x:2", "lead", "lead"), ("x:3", None, None)]
    engine.dispose()


def test_the_upgrade_names_the_rule_that_routed_a_task_to_the_leads_before_it(db_url):
    engine = make_engine(db_url)
    upgrade(engine, db_url, "0013_routed_role")
    matches = {"x:1": [("old-leads", "shadow", {"queue": "leads"}), ("labels", "active", {"labels": ["a"]}),
                       ("wickr", "active", {"queue": "leads"}), ("later", "active", {"queue": "leads"})],
               "x:2": [("old-leads", "shadow", {"queue": "leads"})]}
    with engine.begin() as conn:
        for item_id, role in (("x:1", "lead"), ("x:2", None)):
            conn.execute(text("INSERT INTO items (id, platform, kind, text, received_at, flagged, drugs, reasons, "
                              "identifiers, record) VALUES (:id, 'x', 'post', 't', '2025-01-01', :t, '[]', '[]', "
                              "'[]', '{}')"), {"id": item_id, "t": True})
            conn.execute(text("INSERT INTO review_tasks (item_id, group_key, priority, state, open_state, "
                              "two_reviewers, created_at, routed_role) VALUES (:id, 'g', 1.0, 'decided', 'decided', "
                              ":f, '2025-01-01', :role)"), {"id": item_id, "f": False, "role": role})
            for rule, mode, effects in matches[item_id]:
                conn.execute(text("INSERT INTO rule_matches (item_id, rule, version, mode, effects, created_at) "
                                  "VALUES (:id, :rule, 'v', :mode, :effects, '2025-01-01')"),
                             {"id": item_id, "rule": rule, "mode": mode, "effects": json.dumps(effects)})
    upgrade(engine, db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT item_id, routed_by FROM review_tasks ORDER BY item_id"))
        assert rows.all() == [("x:1", "wickr"), ("x:2", None)]  # the first active rule's; a shadow one routes nothing
    engine.dispose()
