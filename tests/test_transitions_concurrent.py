"""Every state transition holds when several clients make it at the same moment, on SQLite and PostgreSQL.

Each contender is a thread with its own session (so its own database connection), released together
by a barrier just before the transition. Each race is run ROUNDS times on fresh rows: on PostgreSQL a
check-then-write without a lock lost about half of such races, so ten rounds catch it.
A contender may lose with the transition's own error (EvidenceError, ReviewError, PartnerError: a
4xx in the API, a one-line message in the CLI); any other exception (a unique violation, a deadlock)
would be a 500 and fails the test.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from test_evidence_support import NOW, decide, ingest, make_store, record, user

from plugwatch.evidence import holds
from plugwatch.evidence import requests as rq
from plugwatch.evidence.package import verify_package
from plugwatch.evidence.retention import parse_policy, run_retention
from plugwatch.evidence.signing import generate_keypair, load_signer
from plugwatch.evidence.snapshot import EvidenceError, freeze
from plugwatch.share import partners
from plugwatch.store import audit, review
from plugwatch.store.evidence_tables import CustodyEvent, DisclosureRequest, LegalHold, Snapshot
from plugwatch.store.review import ReviewError
from plugwatch.store.schema import Appeal, AuditEntry, Decision, ReviewTask
from plugwatch.store.sharing_tables import Partner
from plugwatch.store.users import add_user

ROUNDS = 10
EXPECTED = (EvidenceError, ReviewError, partners.PartnerError)


@pytest.fixture(autouse=True)
def key_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGWATCH_KEY_DIR", str(tmp_path / "keys"))  # the audit head log goes here


@pytest.fixture
def store(db_url):
    st = make_store(db_url)  # rev (reviewer), lead1 (lead), ann and bob (legal), root (admin)
    with st.session() as s:
        for name, role in (("cara", "legal"), ("rev2", "reviewer"), ("rev3", "reviewer"), ("rev4", "reviewer"),
                           ("lead2", "lead")):
            add_user(s, name, role)
    yield st
    st.dispose()


@pytest.fixture
def signer(tmp_path):
    key = tmp_path / "keys" / "evidence-signing.key"
    generate_keypair(key)
    return load_signer(key)


def race(store, *jobs):
    """Run each job(session) in its own transaction on its own thread, all at once. Returns, per job,
    ("ok", result) or ("lost", the transition's error); any other error fails the test."""
    start = threading.Barrier(len(jobs))

    def run(job):
        start.wait()
        try:
            with store.session() as s:
                return "ok", job(s)
        except EXPECTED as e:
            return "lost", e

    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        return [f.result() for f in futures]  # re-raises an unexpected error (IntegrityError, deadlock)


def users_by_name(store, *names):
    with store.session() as s:
        return {n: user(s, n) for n in names}


def winners(results) -> list[int]:
    return [i for i, (status, _) in enumerate(results) if status == "ok"]


def lost_because(results, *phrases: str) -> bool:
    """Every loser was told one of `phrases` (the transition's own refusal, not some other error)."""
    return all(any(p in str(e) for p in phrases) for status, e in results if status == "lost")


def audit_actions(s, subject: str) -> list[str]:
    return list(s.scalars(select(AuditEntry.action).where(AuditEntry.subject == subject).order_by(AuditEntry.seq)))


# -------------------------------------------------------------------------------- disclosure requests


def _new_request(store, n: int) -> int:
    with store.session() as s:
        return rq.create_request(s, user(s, "ann"), agency="NCA", legal_basis="production order",
                                 reference=f"NCA-{n}", accounts=["telegram:shop_one"]).id


def test_approve_and_reject_of_one_request_never_both_succeed(store, signer):
    ingest(store, [record(1)])
    u = users_by_name(store, "bob", "cara")
    for n in range(ROUNDS):
        rid = _new_request(store, n)
        results = race(store, lambda s, rid=rid: rq.approve_request(s, u["bob"], rid).state,
                       lambda s, rid=rid: rq.reject_request(s, u["cara"], rid, note="no basis").state)
        assert len(winners(results)) == 1, results
        won = results[winners(results)[0]][1]
        lost = [e for status, e in results if status == "lost"][0]
        assert "not a draft" in str(lost)
        with store.session() as s:
            req = s.get(DisclosureRequest, rid)
            assert req.state == won
            custody = [c.entry["action"] for c in s.scalars(select(CustodyEvent).where(
                CustodyEvent.request_id == rid).order_by(CustodyEvent.seq))]
            assert custody == ["created", won]
            decisions = [a for a in audit_actions(s, f"request:{rid}") if a in ("request.approve", "request.reject")]
            assert len(decisions) == 1
        with store.session() as s:
            if won == "approved":
                assert verify_package(rq.export_request(s, u["bob"], rid, signer=signer).data).ok
            else:
                with pytest.raises(EvidenceError, match="only an approved request"):
                    rq.export_request(s, u["bob"], rid, signer=signer)
    with store.session() as s:
        assert audit.verify(s) is None


def test_two_legal_users_approving_one_request_give_one_approval(store):
    ingest(store, [record(1)])
    u = users_by_name(store, "bob", "cara")
    for n in range(ROUNDS):
        rid = _new_request(store, n)
        results = race(store, lambda s, rid=rid: rq.approve_request(s, u["bob"], rid).decided_by,
                       lambda s, rid=rid: rq.approve_request(s, u["cara"], rid).decided_by)
        assert len(winners(results)) == 1, results
        with store.session() as s:
            assert s.get(DisclosureRequest, rid).decided_by == results[winners(results)[0]][1]
            assert audit_actions(s, f"request:{rid}").count("request.approve") == 1


def test_simultaneous_exports_are_logged_one_after_the_other(store, signer):
    ingest(store, [record(1)])
    u = users_by_name(store, "bob", "cara")
    for n in range(ROUNDS // 2):
        rid = _new_request(store, n)
        with store.session() as s:
            rq.approve_request(s, u["cara"], rid)
        results = race(store, *[lambda s, rid=rid: rq.export_request(s, u["bob"], rid, signer=signer)] * 3)
        assert len(winners(results)) == 3
        with store.session() as s:
            assert s.get(DisclosureRequest, rid).exports == 3
            seqs = list(s.scalars(select(CustodyEvent.seq).where(CustodyEvent.request_id == rid)
                                  .order_by(CustodyEvent.seq)))
            assert seqs == [1, 2, 3, 4, 5]
        # each package holds the custody log as it was at its own export
        assert sorted(p.export_entry["seq"] for _, p in results) == [3, 4, 5]
        assert all(verify_package(p.data).ok for _, p in results)


# ------------------------------------------------------------------------------------------ holds


def test_a_hold_is_released_once(store):
    for n in range(ROUNDS):
        with store.session() as s:
            hid = holds.add_hold(s, "account", f"telegram:held{n}", "court order", "ann").id
        results = race(store, *[lambda s, who=who, hid=hid: holds.release_hold(s, hid, who).released_by
                                for who in ("ann", "bob", "cara", "root")])
        assert len(winners(results)) == 1, results
        assert all("already released" in str(e) for status, e in results if status == "lost")
        with store.session() as s:
            assert s.get(LegalHold, hid).released_by == results[winners(results)[0]][1]
            assert audit_actions(s, f"account:telegram:held{n}") == ["hold.add", "hold.release"]


def test_a_hold_added_while_retention_runs_is_never_on_a_deleted_snapshot(store):
    ingest(store, [record(n) for n in range(1, ROUNDS + 1)])
    old = NOW - timedelta(days=4000)
    with store.session() as s:
        snaps = [freeze(s, f"telegram:{n}", item_class="manual", actor="ann", now=old).id
                 for n in range(1, ROUNDS + 1)]
    policy = parse_policy("[snapshots]\ndefault = 30\n", "test")
    for sid in snaps:
        results = race(store, lambda s, sid=sid: holds.add_hold(s, "snapshot", str(sid), "court order", "ann").id,
                       lambda s: len(run_retention(s, policy, now=NOW, actor="retention").deleted))
        with store.session() as s:
            held = s.scalar(select(func.count()).select_from(LegalHold).where(
                LegalHold.target_type == "snapshot", LegalHold.target == str(sid), LegalHold.released_at.is_(None)))
            exists = s.get(Snapshot, sid) is not None
        # either the hold came first and the snapshot stays, or retention came first and the hold is refused
        assert (held, exists) in ((1, True), (0, False)), (results, held, exists)
        if not exists:
            assert results[0][0] == "lost" and "no snapshot" in str(results[0][1])


# ------------------------------------------------------------------------------------ review queue


def _decided_item(store, n: int, who: str = "rev") -> str:
    item = f"telegram:{100 + n}"
    ingest(store, [record(100 + n, author=f"telegram:seller{n}")])
    decide(store, item, "remove", who=who)
    return item


def test_simultaneous_appeals_on_one_item_open_one_appeal(store):
    for n in range(ROUNDS):
        item = _decided_item(store, n)
        results = race(store, *[lambda s, i=i, item=item: review.file_appeal(s, item, f"appeal {i}", f"user{i}").id
                                for i in range(4)])
        assert len(winners(results)) == 1, results
        assert all("no final decision" in str(e) for status, e in results if status == "lost")
        with store.session() as s:
            appeals = s.scalars(select(Appeal).where(Appeal.item_id == item)).all()
            assert [(a.id, a.state) for a in appeals] == [(results[winners(results)[0]][1], "open")]
            assert audit_actions(s, f"item:{item}").count("appeal") == 1
    with store.session() as s:
        assert review.queue_stats(s)["open_appeals"] == ROUNDS


def test_an_appeal_is_decided_once(store):
    u = users_by_name(store, "rev2")
    for n in range(ROUNDS):
        item = _decided_item(store, n)
        with store.session() as s:
            appeal = review.file_appeal(s, item, "harm reduction post", "root").id
            review.claim(s, u["rev2"], item, now=NOW)
        # the same reviewer's decision sent twice at once (a double click, two tabs)
        results = race(store, *[lambda s, item=item, a=a, r=r: review.decide(s, u["rev2"], item, a, r, now=NOW).id
                                for a, r in (("dismiss", "harm_reduction"), ("remove", "drug_sale"))])
        assert len(winners(results)) == 1 and lost_because(results, "before deciding", "was lost"), results
        with store.session() as s:
            a = s.get(Appeal, appeal)
            decisions = s.scalars(select(Decision).where(Decision.appeal_id == appeal)).all()
            assert len(decisions) == 1 and a.state in ("upheld", "overturned") and a.reviewer_id == u["rev2"].id
            assert a.state == ("upheld" if decisions[0].action == "remove" else "overturned")


def test_one_reviewer_gets_a_claim(store):
    u = users_by_name(store, "rev", "rev2", "rev3", "rev4")
    for n in range(ROUNDS):
        item = f"telegram:{200 + n}"
        ingest(store, [record(200 + n)])
        results = race(store, *[lambda s, who=who, item=item: review.claim(s, u[who], item, now=NOW).claimed_by
                                for who in u])
        assert len(winners(results)) == 1 and lost_because(results, "is claimed by"), results
        with store.session() as s:
            task = s.scalars(select(ReviewTask).where(ReviewTask.item_id == item)).one()
            assert task.claimed_by == results[winners(results)[0]][1]


def test_two_reviewers_deciding_one_item_give_one_decision(store):
    u = users_by_name(store, "rev", "rev2", "rev3", "lead2")

    def claim_and_decide(who, item):
        def job(s):
            review.claim(s, u[who], item, now=NOW)
            return review.decide(s, u[who], item, "remove", "drug_sale", now=NOW).id
        return job

    for n in range(ROUNDS):
        item = f"telegram:{300 + n}"
        ingest(store, [record(300 + n, author=f"telegram:dealer{n}")])
        results = race(store, *[claim_and_decide(who, item) for who in u])
        assert len(winners(results)) == 1 and lost_because(results, "is claimed by", "already decided", "was lost"), results
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(Decision).where(Decision.item_id == item)) == 1
            assert audit_actions(s, f"item:{item}").count("decision") == 1
    # a claim that ran out and was taken over: only the new holder's decision counts
    item = "telegram:399"
    ingest(store, [record(399)])
    with store.session() as s:
        review.claim(s, u["rev"], item, ttl_seconds=60, now=NOW)
    later = NOW + timedelta(seconds=61)
    with store.session() as s:
        review.claim(s, u["rev2"], item, now=later)
    results = race(store, *[lambda s, who=who: review.decide(s, u[who], item, "remove", "drug_sale", now=later).id
                            for who in ("rev", "rev2")])
    assert [status for status, _ in results] == ["lost", "ok"] and lost_because(results, "before deciding")


# ---------------------------------------------------------------------------------------- partners


def test_a_partner_name_is_added_once(store):
    for n in range(ROUNDS):
        name = f"partner-{n}"
        results = race(store, *[lambda s, name=name: partners.add(s, name, "auto")[0].id] * 4)
        assert len(winners(results)) == 1, results
        assert all("exists already" in str(e) for status, e in results if status == "lost")
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(Partner).where(Partner.name == name)) == 1


def test_partner_changes_are_applied_one_after_the_other(store):
    with store.session() as s:
        partners.add(s, "partner-b", "notify-only")
    for _ in range(ROUNDS):
        results = race(store, lambda s: partners.update(s, "partner-b", trust="auto", actor="ann"),
                       lambda s: partners.update(s, "partner-b", trust="notify-only", actor="bob"),
                       lambda s: partners.update(s, "partner-b", active=False, actor="cara"),
                       lambda s: partners.update(s, "partner-b", active=True, actor="root"))
        assert len(winners(results)) == 4
    with store.session() as s:
        changes = [e.details for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action == "partner changed").order_by(AuditEntry.seq))]
        partner = partners.get(s, "partner-b")
    # every change saw the state the one before it left: each "from" is the previous "to"
    state = {"trust": "notify-only", "active": True}
    for change in changes:
        for field, (before, after) in change.items():
            assert before == state[field], changes
            state[field] = after
    assert (partner.trust, partner.active) == (state["trust"], state["active"])
