"""The review queue on SQLite and PostgreSQL: priority, grouping, claims, decisions, strikes, appeals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_store import record

from plugwatch.store import Store, audit, review, users
from plugwatch.store.hooks import Hooks
from plugwatch.store.review import ReviewError
from plugwatch.store.schema import Account, Appeal, utcnow
from plugwatch.wiring import open_store


@pytest.fixture
def store(db_url):
    return open_store(db_url)


def people(store):
    with store.session() as s:
        return {name: users.add_user(s, name, role)[0] for name, role in
                (("ann", "reviewer"), ("ben", "reviewer"), ("lea", "lead"), ("adm", "admin"))}


def load(store, recs, now=None):
    with store.session() as s:
        return review.ingest_records(s, recs, now=now)


def test_priority_orders_by_score_reach_and_waiting(store):
    now = utcnow()
    load(store, [record(1, "x:a", score=0.7), record(2, "x:b", score=0.99, followers=50_000)], now=now)
    load(store, [record(3, "x:c", score=0.95)], now=now - timedelta(days=5))  # waited five days
    p = people(store)
    with store.session() as s:
        order = [review.claim_next(s, p[name], now=now).item_id for name in ("ann", "ben", "lea")]
    # Five days of waiting (+10) beat the big account; the big account beats the plain 0.7 score.
    assert order == ["x:3", "x:2", "x:1"]


def test_claim_is_exclusive_and_times_out(store):
    load(store, [record(1)])
    p = people(store)
    now = utcnow()
    with store.session() as s:
        assert review.claim_next(s, p["ann"], ttl_seconds=60, now=now).item_id == "x:1"
        assert review.claim_next(s, p["ben"], now=now) is None
        with pytest.raises(ReviewError, match="claimed by ann"):
            review.claim(s, p["ben"], "x:1", now=now)
        # The lock runs out: another reviewer may take it, and the first one's decision is refused.
        later = now + timedelta(seconds=61)
        assert review.claim_next(s, p["ben"], now=later).item_id == "x:1"
        with pytest.raises(ReviewError, match="claim x:1 before deciding"):
            review.decide(s, p["ann"], "x:1", "remove", "drug_sale", now=later)
        review.release(s, p["ben"], "x:1")
        task = review.claim(s, p["ann"], "x:1", now=later)
        assert task.claimed_by == p["ann"].id


def test_decide_records_strikes_audit_and_hooks(store):
    load(store, [record(i, "x:dealer") for i in range(4)])
    p = people(store)
    seen = []

    def hook(session, decision):
        seen.append((decision.item_id, decision.action))

    # A store on the same database that runs this hook after every decision, besides the root's own.
    hooked = Store(store.url, store.engine, Hooks(after_decision=(*store.hooks.after_decision, hook)))
    with hooked.session() as s:
        for action in ("remove", "warn", "remove"):
            task = review.claim_next(s, p["ann"])
            review.decide(s, p["ann"], task.item_id, action, "drug_sale", note="menu and telegram")
        view = review.item_view(s, task.item_id)
    assert [a for _, a in seen] == ["remove", "warn", "remove"]
    strikes = view["account"]["strikes"]
    assert strikes["active"] == 3 and strikes["suspend_suggested"] is True
    assert view["decisions"][0]["reviewer"] == "ann" and view["decisions"][0]["note"] == "menu and telegram"
    assert len(view["group"]) == 3  # the seller's other items are shown with this one
    with store.session() as s:
        assert audit.verify(s) is None
        entries = s.query(audit.AuditEntry).all()
        assert [e.action for e in entries].count("decision") == 3
        assert sum(e.action == "user.add" for e in entries) == 4
        # Strikes run out after the window.
        assert review.active_strikes(s, "x:dealer", now=utcnow() + timedelta(days=review.STRIKE_DAYS + 1)) == 0


def test_action_roles_and_escalation(store):
    load(store, [record(1), record(2, "x:other")])
    p = people(store)
    with store.session() as s:
        task = review.claim_next(s, p["ann"])
        with pytest.raises(ReviewError, match="suspend needs the role lead"):
            review.decide(s, p["ann"], task.item_id, "suspend", "drug_sale")
        with pytest.raises(ReviewError, match="unknown policy reason"):
            review.decide(s, p["ann"], task.item_id, "remove", "because")
        review.decide(s, p["ann"], task.item_id, "escalate", "needs_lead")
        escalated = task.item_id
        # Reviewers no longer see it; the lead does and can suspend.
        assert escalated not in [t["item_id"] for g in review.queue(s, p["ben"]) for t in g["tasks"]]
        with pytest.raises(ReviewError, match="needs a lead"):
            review.claim(s, p["ben"], escalated)
        assert review.claim(s, p["lea"], escalated).state == "claimed"
        review.decide(s, p["lea"], escalated, "suspend", "drug_sale")
        account = s.get(Account, "x:seller" if escalated == "x:1" else "x:other")
        assert account.suspended_at is not None
        with pytest.raises(ReviewError, match="does not review"):
            review.claim_next(s, p["adm"])


@pytest.fixture
def removed(store):
    """x:1 (by x:seller) claimed and removed by ann: a decision to appeal. Returns the people."""
    load(store, [record(1)])
    p = people(store)
    with store.session() as s:
        review.claim_next(s, p["ann"])
        review.decide(s, p["ann"], "x:1", "remove", "drug_sale")
    return p


def test_appeal_goes_to_another_reviewer_and_can_overturn(store, removed):
    p = removed
    with store.session() as s:
        with pytest.raises(ReviewError, match="no final decision|already decided"):
            review.claim(s, p["ben"], "x:1")
        appeal = review.file_appeal(s, "x:1", "it is a harm-reduction post", filed_by="adm")
        assert review.claim_next(s, p["ann"]) is None  # not back to the one who decided it
        with pytest.raises(ReviewError, match="your own decision"):
            review.claim(s, p["ann"], "x:1")
        assert review.claim_next(s, p["ben"]).item_id == "x:1"
        d = review.decide(s, p["ben"], "x:1", "dismiss", "harm_reduction")
        assert d.appeal_id == appeal.id
        assert s.get(Appeal, appeal.id).state == "overturned"
        assert review.active_strikes(s, "x:seller") == 0  # the overturned removal's strike is revoked
        view = review.item_view(s, "x:1")
        assert [x["action"] for x in view["decisions"]] == ["remove", "dismiss"]
        assert view["appeals"][0]["reviewer"] == "ben"
        assert audit.verify(s) is None


def test_appeal_upheld_keeps_strike(store, removed):
    p = removed
    with store.session() as s:
        appeal = review.file_appeal(s, "x:1", "not mine", filed_by="adm")
        review.claim(s, p["ben"], "x:1")
        review.decide(s, p["ben"], "x:1", "remove", "drug_sale")
        assert s.get(Appeal, appeal.id).state == "upheld"
        assert review.active_strikes(s, "x:seller") == 1


def test_queue_groups_by_seller_and_network(store):
    load(store, [record(1, "x:a", score=0.99), record(2, "x:b", score=0.5), record(3, "x:a", score=0.6),
                 record(4, "x:c", score=0.55)])
    p = people(store)
    with store.session() as s:
        s.get(Account, "x:b").network_id = "n1"
        s.get(Account, "x:c").network_id = "n1"
        assert review.regroup(s) == 2
        groups = review.queue(s, p["ann"])
    assert [g["group_key"] for g in groups] == ["x:a", "network:n1"]
    assert [t["item_id"] for t in groups[0]["tasks"]] == ["x:1", "x:3"]
    assert sorted(t["item_id"] for t in groups[1]["tasks"]) == ["x:2", "x:4"]
    # After deciding one of a seller's items, the reviewer gets the seller's next one before anything else.
    load(store, [record(5, "x:z", score=0.9)])
    with store.session() as s:
        review.claim(s, p["ann"], "x:2")
        review.decide(s, p["ann"], "x:2", "remove", "drug_sale")
        assert review.claim_next(s, p["ann"]).item_id == "x:4"


def test_a_claim_that_ran_out_is_not_shown_or_counted_as_claimed(store):
    """The queue page kept a badge 'ann' ("claimed until —") and the statistics 'Claimed 1' on an item whose
    lock ran out hours ago, though anyone could take it."""
    load(store, [record(1), record(2)])
    p = people(store)
    now = utcnow()
    with store.session() as s:
        review.claim(s, p["ann"], "x:1", ttl_seconds=60, now=now)
        rows = {t["item_id"]: t for g in review.queue(s, p["ben"], now=now) for t in g["tasks"]}
        assert (rows["x:1"]["state"], rows["x:1"]["claimed_by"]) == ("claimed", "ann")
        assert review.queue_stats(s, now=now)["claimed"] == 1
        later = now + timedelta(seconds=61)
        rows = {t["item_id"]: t for g in review.queue(s, p["ben"], now=later) for t in g["tasks"]}
        assert (rows["x:1"]["state"], rows["x:1"]["claimed_by"], rows["x:1"]["claimed_until"]) == ("pending", None,
                                                                                                    None)
        stats = review.queue_stats(s, now=later)
        assert (stats["claimed"], stats["pending"]) == (0, 2)


def test_queue_stats(store):
    now = utcnow()
    load(store, [record(i) for i in range(5)], now=now)
    load(store, [record(10), record(11, flagged=False, kind=None)], now=now - timedelta(days=2))
    p = people(store)
    with store.session() as s:
        for action, secs in (("remove", 30), ("dismiss", 60), ("warn", 120)):
            t = review.claim_next(s, p["ann"], now=now)
            review.decide(s, p["ann"], t.item_id, action, "drug_sale" if action != "dismiss" else "not_drugs",
                          now=now + timedelta(seconds=secs))
        stats = review.queue_stats(s, now=now + timedelta(seconds=200))
    assert stats["pending"] == 3 and stats["inbound_24h"] == 5 and stats["items_24h"] == 5
    assert stats["action_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert stats["median_handling_seconds"] == 60.0
    assert stats["actions"]["remove"] == 1 and stats["decisions"] == 3


def test_decisions_are_recorded_against_trafficking_techniques(store):
    rec = record(1, "x:dealer", idents=[("telegram", "telegram:plug1")])
    load(store, [rec])
    p = people(store)
    with store.session() as s:
        task = review.claim_next(s, p["ann"])
        review.decide(s, p["ann"], task.item_id, "remove", "drug_sale")
        entry = [e for e in s.query(audit.AuditEntry).all() if e.action == "decision"][-1]
    assert "PWT-004" in entry.details["tactics"]  # a Telegram contact: routed off-platform


def test_only_a_role_that_may_take_an_action_may_overturn_it_on_appeal(store):
    load(store, [record(1)])
    p = people(store)
    with store.session() as s:
        leo = users.add_user(s, "leo", "lead")[0]
        review.claim(s, p["lea"], "x:1")
        review.decide(s, p["lea"], "x:1", "suspend", "drug_sale")
        appeal = review.file_appeal(s, "x:1", "I was selling vitamins", filed_by="adm")
        # A reviewer can neither uphold nor overturn a suspension: the appeal goes to the leads at once.
        with pytest.raises(ReviewError, match="needs a lead") as e:
            review.claim(s, p["ann"], "x:1")
        assert e.value.status == 403
        assert s.get(Appeal, appeal.id).state == "open" and s.get(Account, "x:seller").suspended_at is not None
        review.claim(s, leo, "x:1")
        review.decide(s, leo, "x:1", "warn", "drug_sale")
        assert s.get(Appeal, appeal.id).state == "overturned" and s.get(Account, "x:seller").suspended_at is None


@pytest.mark.parametrize("action,reason", [("suspend", "drug_sale"), ("refer", "imminent_harm")])
def test_an_appeal_of_a_leads_decision_is_for_leads_only(store, action, reason):
    load(store, [record(1)])
    p = people(store)
    with store.session() as s:
        leo = users.add_user(s, "leo", "lead")[0]
        review.claim(s, p["lea"], "x:1")
        review.decide(s, p["lea"], "x:1", action, reason)
        review.file_appeal(s, "x:1", "I was selling vitamins", filed_by="adm")
        assert review.item_view(s, "x:1")["task"]["required_role"] == "lead"
        for name in ("ann", "ben"):  # reviewers neither see nor get it
            assert "x:1" not in [t["item_id"] for g in review.queue(s, p[name]) for t in g["tasks"]]
            assert review.claim_next(s, p[name]) is None
        assert review.claim_next(s, p["lea"]) is None  # nor the lead who decided it
        shown = [t for g in review.queue(s, leo) for t in g["tasks"]]
        assert [(t["item_id"], t["appeal"], t["required_role"]) for t in shown] == [("x:1", True, "lead")]
        assert review.claim_next(s, leo).item_id == "x:1"
        review.decide(s, leo, "x:1", action, reason)
        assert s.get(Appeal, 1).state == "upheld"


def test_a_reviewer_may_still_overturn_what_a_reviewer_may_decide(store, removed):
    p = removed
    with store.session() as s:
        appeal = review.file_appeal(s, "x:1", "not mine", filed_by="adm")
        review.claim(s, p["ben"], "x:1")
        review.decide(s, p["ben"], "x:1", "warn", "drug_sale")
        assert s.get(Appeal, appeal.id).state == "overturned"


def test_a_lead_made_a_reviewer_cannot_decide_the_leads_task_they_held(store):
    """Roles were checked at the claim only: a lead demoted with `users set-role` while holding an
    escalated item still decided it as a reviewer."""
    load(store, [record(1)])
    p = people(store)
    with store.session() as s:
        review.claim(s, p["ann"], "x:1")
        review.decide(s, p["ann"], "x:1", "escalate", "needs_lead")
        review.claim(s, p["lea"], "x:1")
        users.set_role(s, "lea", "reviewer")
    with store.session() as s:
        lea = users.get_user(s, "lea")
        with pytest.raises(ReviewError, match="x:1 was escalated by a reviewer: it needs a lead") as e:
            review.decide(s, lea, "x:1", "remove", "drug_sale")
        assert e.value.status == 403
    with store.session() as s:
        users.set_role(s, "lea", "lead")
        assert review.decide(s, users.get_user(s, "lea"), "x:1", "remove", "drug_sale").action == "remove"
