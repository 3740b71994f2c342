"""The after-decision hook (named in plugwatch.wiring): effects, notice and statement of reasons are
written in the deciding transaction, so a decision never exists without them, nor they without it.

Per connected back-end that serves the item's platform and maps the action's effect to an operation,
one outbox row with a stable idempotency key. A final decision that overturns an earlier one on
appeal enqueues the reverse of each effect the earlier one had sent (or cancels it if it was not sent
yet), and tells the account so.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugwatch.actions import ACTIONS, EFFECTS, POLICY_REASONS
from plugwatch.enforce import backends as backend_registry
from plugwatch.enforce import config as site_config
from plugwatch.enforce import dsa_statements, notices
from plugwatch.store import reports
from plugwatch.store.enforcement_tables import Notice, PlatformEffect, StatementOfReasons
from plugwatch.store.rules_tables import is_automated
from plugwatch.store.schema import Account, Appeal, Decision, Item

DSA_BACKEND = "dsa"  # outbox rows that submit statements of reasons
UNSENT = ("pending", "failed", "held")


def on_decision(session: Session, decision: Decision) -> None:
    cfg = site_config.active()
    item = session.get(Item, decision.item_id)
    if item is None:  # pragma: no cover - a decision is always on a stored item
        return
    account = session.get(Account, item.account_key) if item.account_key else None
    overturned = _overturned(session, decision)
    if overturned is not None:
        _reverse(session, cfg, overturned, decision, item, account)
    spec = ACTIONS[decision.action]
    if not spec.final or spec.effect is None:
        return
    automated = is_automated(session, decision)  # a policy rule took it (plugwatch.rules)
    stock = spec.notice or decision.action

    def notice(kind: str) -> str:
        return notices.compose(kind, decision.policy_reason, language=cfg.language, appeal=cfg.appeal,
                               policy_url=cfg.policy_url, item_url=item.url, automated_detection=bool(item.flagged),
                               automated_decision=automated)

    # The notice says what the back-end's operation really does (a Mastodon "removal" is a report and a
    # warning): one text per template used, each back-end's payload carrying its own.
    texts: dict[str, str] = {}
    for backend in cfg.backends.values():
        if not backend.serves(item.platform) or not backend.operations.get(spec.effect):
            continue
        kind = _notice_kind(backend.kind, spec.effect, backend.operations[spec.effect]) or stock
        if kind not in texts:  # compose each template once
            texts[kind] = notice(kind)
        text = texts[kind]
        payload = _payload(decision, item, account, spec.effect, text)
        payload["automated"]["decision"] = automated
        _enqueue(session, backend, decision, item, spec.effect, payload, automatable=spec.automatable)
    for kind, text in (texts or {stock: notice(stock)}).items():
        session.add(Notice(decision_id=decision.id, item_id=item.id, account_key=item.account_key, kind=kind,
                           language=cfg.language, text=text, automated_decision=automated,
                           created_at=decision.created_at))
    # The statement of reasons, like the notice, says what was done: a Mastodon "removal" is a warning,
    # which restricts nothing and so has none.
    done = list(texts) or [stock]
    if dsa_statements.restricts(decision.action, done):
        _statement(session, cfg, decision, item, automated, done)
    session.flush()


def _notice_kind(kind: str, effect: str, operation: str | None) -> str | None:
    """The notice template for what `operation` does on a back-end of `kind`; None: the action's own
    (also for an operation that only logs: nothing happens, the decision is what the account is told)."""
    if not operation or operation == site_config.LOG:
        return None
    return backend_registry.notice_kind(kind, effect, operation)


def _overturned(session: Session, decision: Decision) -> Decision | None:
    """The earlier decision this one overturned on appeal, if it did."""
    if decision.appeal_id is None:
        return None
    appeal = session.get(Appeal, decision.appeal_id)
    if appeal is None or appeal.state != "overturned":
        return None
    return session.get(Decision, appeal.decision_id)


def _subject(item: Item, account: Account | None, effect: str) -> dict[str, Any]:
    raw = item.raw if isinstance(item.raw, dict) else {}
    native = item.id.split(":", 1)[1] if ":" in item.id else item.id
    return {
        "kind": EFFECTS.get(effect, "content"),
        "item_id": item.id, "platform": item.platform, "native_id": native, "url": item.url,
        "cid": _cid(raw),
        "account": {"key": account.key, "handle": account.handle, "native_id": account.native_id}
        if account is not None else None,
    }


def _cid(raw: dict[str, Any]) -> str | None:
    """A Bluesky post's version, which a takedown names: at the top of an exported post view, under
    `commit` in a Jetstream event (what `plugwatch watch` and the firehose examples store)."""
    commit = raw.get("commit")
    for cid in (raw.get("cid"), commit.get("cid") if isinstance(commit, dict) else None):
        if isinstance(cid, str) and cid:
            return cid
    return None


def _payload(decision: Decision, item: Item, account: Account | None, effect: str, notice: str) -> dict[str, Any]:
    """What a platform is told: the action, the subject, the policy, a short evidence summary (no
    identifier values, no text: the platform has the post), the decision id and the notice."""
    reasons = [r.get("meaning") or r.get("signal") for r in (item.reasons or [])[:20] if isinstance(r, dict)]
    return {
        "decision_id": decision.id, "action": decision.action, "effect": effect,
        "policy_reason": decision.policy_reason, "policy": POLICY_REASONS.get(decision.policy_reason, ""),
        "decided_at": decision.created_at.isoformat(),
        "subject": _subject(item, account, effect),
        "evidence": {"score": item.score, "flagged": bool(item.flagged), "drugs": list(item.drugs or []),
                     "signals": sorted({str(r) for r in reasons if r})[:10],
                     "identifiers": len(item.identifiers or [])},
        "automated": {"detection": bool(item.flagged), "decision": False},
        "notice": notice,
    }


def _enqueue(session: Session, backend, decision: Decision, item: Item, effect: str, payload: dict[str, Any],
             automatable: bool = True, reverses: int | None = None) -> PlatformEffect | None:
    if not backend.serves(item.platform):
        return None
    operation = backend.operations.get(effect)
    if not operation:
        return None  # nothing to do for this effect on that platform
    row = PlatformEffect(decision_id=decision.id, item_id=item.id, backend=backend.name, effect=effect,
                         operation=operation, reverses=reverses,
                         idempotency_key=f"plugwatch-{decision.id}-{backend.name}-{effect}"[:120],
                         payload=payload, shadow=backend.shadow, state="pending" if automatable else "held",
                         next_attempt_at=decision.created_at, created_at=decision.created_at)
    session.add(row)
    return row


def _reverse(session: Session, cfg, original: Decision, decision: Decision, item: Item,
             account: Account | None) -> None:
    spec = ACTIONS[original.action]
    rows = session.scalars(select(PlatformEffect).where(PlatformEffect.decision_id == original.id,
                                                        PlatformEffect.reverses.is_(None),
                                                        PlatformEffect.backend != DSA_BACKEND)).all()
    texts: dict[str, str] = {}  # what the earlier decision did (per back-end) -> the notice that reverses it

    def reversed_notice(done: str) -> str:
        if done not in texts:
            texts[done] = notices.compose("reversed", original.policy_reason, language=cfg.language, appeal="",
                                          item_url=item.url, reversed_action=done)
        return texts[done]

    for row in rows:
        backend = cfg.backends.get(row.backend)
        done = (_notice_kind(backend.kind, row.effect, row.operation) if backend else None) or original.action
        text = reversed_notice(done)
        # Not sent yet: cancel it (conditional, so a worker that took it meanwhile wins and we reverse).
        res = session.execute(update(PlatformEffect).where(PlatformEffect.id == row.id,
                                                           PlatformEffect.state.in_(UNSENT))
                              .values(state="cancelled", last_error="decision overturned on appeal")
                              .execution_options(synchronize_session=False))
        if res.rowcount == 1 or spec.reverse_effect is None or row.state in ("dead", "cancelled"):
            continue
        if backend is None:
            continue
        payload = _payload(decision, item, account, spec.reverse_effect, text)
        payload["reverses"] = {"decision_id": original.id, "effect": row.effect, "idempotency_key": row.idempotency_key}
        _enqueue(session, backend, decision, item, spec.reverse_effect, payload, reverses=row.id)
    if not texts:
        reversed_notice(original.action)
    for text in texts.values():
        session.add(Notice(decision_id=decision.id, item_id=item.id, account_key=item.account_key, kind="reversed",
                           language=cfg.language, text=text, created_at=decision.created_at))


def _statement(session: Session, cfg, decision: Decision, item: Item, automated: bool = False,
               done: list[str] | None = None) -> None:
    puid = dsa_statements.new_puid()
    body = dsa_statements.build(decision, item, cfg.dsa, puid, source=reports.notice_source(session, item.id),
                                automated=automated, done=done or ())
    session.add(StatementOfReasons(puid=puid, decision_id=decision.id, action=decision.action,
                                   category=body["category"], source_type=body["source_type"],
                                   automated_detection=body["automated_detection"] == "Yes",
                                   automated_decision=body["automated_decision"], body=body,
                                   created_at=decision.created_at))
    if cfg.dsa.submits:
        session.add(PlatformEffect(decision_id=decision.id, item_id=item.id, backend=DSA_BACKEND,
                                   effect="dsa_statement", operation="submit", idempotency_key=puid[:120],
                                   payload={"statement": body}, state="pending",
                                   next_attempt_at=decision.created_at, created_at=decision.created_at))
