"""What the item page, the API and `plugwatch worker status` show: each effect's state, and per back-end
delivery latency and failure rate."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugwatch.store.enforcement_tables import EFFECT_STATES, Notice, PlatformEffect


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def effect_view(row: PlatformEffect) -> dict[str, Any]:
    return {"id": row.id, "decision_id": row.decision_id, "backend": row.backend, "effect": row.effect,
            "operation": row.operation, "reverses": row.reverses, "state": row.state, "shadow": row.shadow,
            "attempts": row.attempts, "created_at": _iso(row.created_at), "delivered_at": _iso(row.delivered_at),
            "next_attempt_at": _iso(row.next_attempt_at) if row.state == "failed" else None,
            "error": row.last_error, "response": row.response, "idempotency_key": row.idempotency_key}


def item_effects(session: Session, item_id: str) -> dict[str, Any]:
    rows = session.scalars(select(PlatformEffect).where(PlatformEffect.item_id == item_id)
                           .order_by(PlatformEffect.id)).all()
    notes = session.scalars(select(Notice).where(Notice.item_id == item_id).order_by(Notice.id)).all()
    return {"effects": [effect_view(r) for r in rows],
            "notices": [{"decision_id": n.decision_id, "kind": n.kind, "language": n.language, "text": n.text,
                         "created_at": _iso(n.created_at)} for n in notes]}


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 3)


def delivery_stats(session: Session) -> dict[str, Any]:
    """Per back-end: counts by state, latency from decision to delivery (p50, p95 seconds) and the
    failure rate (share of tried effects that needed more than one attempt or died)."""
    rows = session.execute(select(PlatformEffect.backend, PlatformEffect.state, PlatformEffect.attempts,
                                  PlatformEffect.created_at, PlatformEffect.delivered_at)).all()
    per: dict[str, dict[str, Any]] = defaultdict(lambda: {"states": dict.fromkeys(EFFECT_STATES, 0),
                                                          "latencies": [], "tried": 0, "troubled": 0})
    for backend, state, attempts, created, delivered in rows:
        b = per[backend]
        b["states"][state] = b["states"].get(state, 0) + 1
        if delivered is not None and state == "delivered":
            b["latencies"].append((delivered - created).total_seconds())
        if attempts:
            b["tried"] += 1
            if attempts > 1 or state in ("failed", "dead"):
                b["troubled"] += 1
    out = {}
    for backend, b in sorted(per.items()):
        out[backend] = {"states": b["states"], "delivered": len(b["latencies"]),
                        "latency_p50_s": _quantile(b["latencies"], 0.5),
                        "latency_p95_s": _quantile(b["latencies"], 0.95),
                        "failure_rate": round(b["troubled"] / b["tried"], 4) if b["tried"] else None}
    return out
