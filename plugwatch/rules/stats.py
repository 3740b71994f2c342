"""Per rule, over a window: matches per day, the share of matched items reviewers then actioned, and
for a shadow rule what an active version would have changed (items it would have queued that were
not, moved to a named queue, boosted, acted on automatically, and how reviewers decided those)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugwatch.rules.backtest import CONFIRMS, final_decisions
from plugwatch.store.rules_tables import RuleMatch, RuleState
from plugwatch.store.schema import ReviewTask, utcnow


def rule_stats(session: Session, days: int = 30, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or utcnow()
    since = now - timedelta(days=days)
    rows = session.execute(select(RuleMatch.rule, RuleMatch.mode, RuleMatch.version, RuleMatch.item_id,
                                  RuleMatch.created_at, RuleMatch.effects)
                           .where(RuleMatch.created_at >= since).order_by(RuleMatch.id)).all()
    loaded = session.execute(select(RuleState.name, RuleState.mode, RuleState.version)
                             .where(RuleState.mode.in_(("active", "shadow")))).all()
    decided = final_decisions(session) if rows else {}
    queued_ids = set(session.scalars(select(ReviewTask.item_id).where(ReviewTask.created_at >= since - timedelta(days=1))))
    by_rule: dict[tuple[str, str], list] = defaultdict(list)
    for row in rows:
        by_rule[(row.rule, row.mode)].append(row)
    out = []
    for (rule, mode), hits in sorted(by_rule.items()):
        per_day = Counter(h.created_at.date().isoformat() for h in hits)
        items = {h.item_id for h in hits}
        dec = [i for i in items if i in decided]
        acted = [i for i in dec if decided[i] in CONFIRMS]
        entry = {"rule": rule, "mode": mode, "versions": sorted({h.version[:12] for h in hits}),
                 "matches": len(hits), "days": days, "per_day": dict(sorted(per_day.items())),
                 "mean_per_day": round(len(hits) / days, 2), "decided": len(dec), "actioned": len(acted),
                 "actioned_share": round(len(acted) / len(dec), 4) if dec else None}
        if mode == "shadow":
            entry["would_change"] = _would_change(hits, queued_ids, decided)
        out.append(entry)
    seen = {e["rule"] for e in out}
    for name, mode, version in loaded:  # loaded rules that matched nothing in the window
        if name not in seen:
            entry = {"rule": name, "mode": mode, "versions": [version[:12]], "matches": 0, "days": days,
                     "per_day": {}, "mean_per_day": 0.0, "decided": 0, "actioned": 0, "actioned_share": None}
            if mode == "shadow":
                entry["would_change"] = _would_change([], set(), {})
            out.append(entry)
    return sorted(out, key=lambda e: (e["rule"], e["mode"]))


def _would_change(hits, queued_ids: set[str], decided: dict[str, str]) -> dict[str, Any]:
    queue_more = moved = boosted = 0
    queues: Counter[str] = Counter()
    auto = {"items": 0, "reviewers_actioned": 0, "reviewers_dismissed": 0, "dismissed_ids": []}
    for h in hits:
        e = h.effects or {}
        queues_it = any(k in e for k in ("review", "queue", "boost", "apply"))
        if queues_it and h.item_id not in queued_ids:
            queue_more += 1
        if e.get("queue"):
            moved += 1
            queues[e["queue"]] += 1
        if e.get("boost"):
            boosted += 1
        if e.get("apply"):
            auto["items"] += 1
            verdict = decided.get(h.item_id)
            if verdict in CONFIRMS:
                auto["reviewers_actioned"] += 1
            elif verdict == "dismiss":
                auto["reviewers_dismissed"] += 1
                auto["dismissed_ids"].append(h.item_id)
    return {"newly_queued": queue_more, "to_named_queue": moved, "queues": dict(queues), "boosted": boosted,
            "automatic_actions": auto}


def text_report(stats: list[dict[str, Any]]) -> str:
    if not stats:
        return "no rules loaded and none matched in the window\n"
    lines = []
    for s in stats:
        share = "-" if s["actioned_share"] is None else f"{s['actioned_share']:.1%}"
        lines.append(f"{s['rule']} ({s['mode']}, version {', '.join(s['versions'])}): {s['matches']} matches in "
                     f"{s['days']} days ({s['mean_per_day']}/day); reviewers actioned {share} "
                     f"({s['actioned']} of {s['decided']} decided)")
        for day, n in s["per_day"].items():
            lines.append(f"  {day}\t{n}")
        w = s.get("would_change")
        if w:
            a = w["automatic_actions"]
            queues = " (" + ", ".join(f"{k}: {v}" for k, v in w["queues"].items()) + ")" if w["queues"] else ""
            lines.append(f"  if active: {w['newly_queued']} more items queued, {w['to_named_queue']} to a named queue"
                         f"{queues}, {w['boosted']} boosted, {a['items']} acted on automatically "
                         f"({a['reviewers_actioned']} that reviewers actioned, {a['reviewers_dismissed']} they dismissed"
                         + (": " + ", ".join(a["dismissed_ids"][:20]) if a["dismissed_ids"] else "") + ")")
    return "\n".join(lines) + "\n"
