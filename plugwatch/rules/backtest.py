"""A rule run over stored items and compared with reviewers' final decisions.

An item is actioned when its final decision confirms a violation (remove, warn, suspend, refer:
`confirms` in plugwatch/actions.py) and dismissed when it was dismissed; items under appeal,
escalations still open and items only a rule acted on (no person decided them) count as undecided. Precision is actioned matches over decided matches; the
coverage is actioned matches over all actioned items in the period.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Text, func, select, type_coerce
from sqlalchemy.orm import Session

from plugwatch.actions import names_where
from plugwatch.rules.facts import Lookups, facts_context, need_of
from plugwatch.rules.model import Rule
from plugwatch.store.review import FINAL_ACTIONS
from plugwatch.store.rules_tables import by_a_person
from plugwatch.store.schema import Decision, Item, ReviewTask

CONFIRMS = names_where("confirms")
BATCH = 20_000


def final_decisions(session: Session, since: datetime | None = None) -> dict[str, str]:
    """item id -> its final decision's action, for items whose task is decided by a person (an item a
    rule acted on, and nobody reviewed since, is not decided by reviewers)."""
    latest = (select(Decision.item_id, func.max(Decision.id).label("id"))
              .where(Decision.action.in_(FINAL_ACTIONS)).group_by(Decision.item_id).subquery())
    q = (select(Decision.item_id, Decision.action).join(latest, latest.c.id == Decision.id)
         .join(ReviewTask, ReviewTask.item_id == Decision.item_id)
         .where(ReviewTask.state == "decided", by_a_person()))
    if since is not None:
        q = q.join(Item, Item.id == Decision.item_id).where(func.coalesce(Item.created_at, Item.received_at) >= since)
    return dict(session.execute(q).all())


def _columns(need) -> list:
    cols = [Item.id, Item.platform, Item.kind, Item.created_at, Item.received_at, Item.reach, Item.score,
            Item.flagged, Item.offer_kind, Item.account_key]
    verdict, post = need.get("verdict", frozenset()), need.get("post", frozenset())
    if "drugs" in verdict:
        cols.append(Item.drugs)
    if "post" in need:
        cols.append(Item.text)
    if verdict & {"reasons", "evidence", "tactics"} or "images" in need:
        cols.append(Item.reasons)
    if "identifiers" in need or "tactics" in verdict:
        cols.append(type_coerce(Item.identifiers, Text).label("identifiers"))  # decoded when first read
    if "language" in post or "reports" in need or "tactics" in verdict:
        cols.append(Item.record)
    return cols


def run(session: Session, rule: Rule, since: date | None = None) -> dict[str, Any]:
    start = datetime.combine(since, time(), tzinfo=UTC) if since else None
    decided = final_decisions(session, start)
    queued = set(session.scalars(select(ReviewTask.item_id)))
    need = need_of([rule])
    lookups = Lookups.load(session, None, None, need)
    cols = _columns(need)
    names = [c.key for c in cols]
    q = select(*cols).order_by(Item.id)
    if start is not None:
        q = q.where(func.coalesce(Item.created_at, Item.received_at) >= start)
    scanned = 0
    matched: list[str] = []
    per_day: Counter[str] = Counter()
    added_per_day: Counter[str] = Counter()
    program = rule.program
    for row in session.execute(q.execution_options(yield_per=BATCH)):
        scanned += 1
        item = dict(zip(names, row, strict=True))
        if program.execute(facts_context(item, lookups, need)) is not True:
            continue
        matched.append(item["id"])
        day = (item["created_at"] or item["received_at"]).date().isoformat()
        per_day[day] += 1
        if item["id"] not in queued:
            added_per_day[day] += 1
    actioned_all = {i for i, a in decided.items() if a in CONFIRMS}
    decided_hits = [i for i in matched if i in decided]
    actioned_hits = [i for i in decided_hits if i in actioned_all]
    dismissed = sorted(i for i in decided_hits if decided[i] == "dismiss")
    days = sorted(per_day)
    return {
        "rule": rule.name, "version": rule.version, "since": since.isoformat() if since else None,
        "items": scanned, "matches": len(matched), "decided": len(decided_hits), "actioned": len(actioned_hits),
        "precision": round(len(actioned_hits) / len(decided_hits), 4) if decided_hits else None,
        "actioned_items": len(actioned_all),
        "coverage": round(len(actioned_hits) / len(actioned_all), 4) if actioned_all else None,
        "dismissed": len(dismissed), "dismissed_ids": dismissed,
        "queue_per_day": {d: {"matches": per_day[d], "added": added_per_day[d]} for d in days},
        "days": len(days),
        "mean_added_per_day": round(sum(added_per_day.values()) / len(days), 2) if days else 0.0,
    }


def text_report(r: dict[str, Any]) -> str:
    pct = lambda x: "-" if x is None else f"{x:.1%}"  # noqa: E731
    lines = [f"rule {r['rule']} (version {r['version'][:12]}) over {r['items']} stored items"
             + (f" since {r['since']}" if r["since"] else ""),
             f"matches: {r['matches']} ({r['decided']} with a final decision)",
             f"precision: {pct(r['precision'])} ({r['actioned']} of {r['decided']} decided matches were actioned)",
             f"covers: {pct(r['coverage'])} of actioned items ({r['actioned']} of {r['actioned_items']})",
             f"dismissed by reviewers: {r['dismissed']}" + (": " + ", ".join(r["dismissed_ids"][:50])
                                                           if r["dismissed_ids"] else "")
             + (f" (and {r['dismissed'] - 50} more, see --json)" if r["dismissed"] > 50 else ""),
             f"queue volume per day: mean {r['mean_added_per_day']} items not otherwise queued over {r['days']} days",
             "day\tmatches\tadded"]
    lines += [f"{d}\t{v['matches']}\t{v['added']}" for d, v in r["queue_per_day"].items()]
    return "\n".join(lines) + "\n"
