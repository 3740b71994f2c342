"""Tasks only a lead may take, on SQLite and PostgreSQL: an item a policy rule routed to the leads keeps
needing a lead on appeal, whoever decided it and whatever they decided."""

from __future__ import annotations

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
