"""Retention: delete snapshots (and dismissed items) older than the policy allows, never under a hold.

The policy is a TOML file (default plugwatch/data/retention.toml, which says why each number is
what it is): `[snapshots]` days by the class that froze them (the decision action, `disclosure`,
`hold`) with `default` for the rest; `[items] dismissed` days after a dismissal. "forever" keeps a
class. Deleting a snapshot keeps its chain link (digests only), so the chain still verifies.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugwatch.evidence.holds import held_snapshot_ids
from plugwatch.evidence.snapshot import EvidenceError, delete_snapshot
from plugwatch.store import audit
from plugwatch.store.evidence_tables import LegalHold, Snapshot
from plugwatch.store.schema import Decision, Item, ReviewTask, utcnow

FOREVER = None


@dataclass(frozen=True)
class Policy:
    snapshots: dict[str, int | None]
    default: int | None
    dismissed_items: int | None
    source: str = "built-in"

    def days_for(self, item_class: str) -> int | None:
        return self.snapshots.get(item_class, self.default)


def _days(value: Any, where: str) -> int | None:
    if isinstance(value, str) and value.strip().lower() == "forever":
        return FOREVER
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EvidenceError(f"{where}: {value!r} is not a number of days (0 or more) or \"forever\"")
    return value


def parse_policy(text: str, source: str) -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise EvidenceError(f"{source}: not valid TOML ({e})") from None
    unknown = set(data) - {"snapshots", "items"}
    if unknown:
        raise EvidenceError(f"{source}: unknown section [{sorted(unknown)[0]}] (use [snapshots] and [items])")
    snaps = data.get("snapshots", {})
    items = data.get("items", {})
    if not isinstance(snaps, dict) or not isinstance(items, dict):
        raise EvidenceError(f"{source}: [snapshots] and [items] must be tables")
    classes = {k: _days(v, f"{source}: snapshots.{k}") for k, v in snaps.items() if k != "default"}
    default = _days(snaps["default"], f"{source}: snapshots.default") if "default" in snaps else FOREVER
    bad = set(items) - {"dismissed"}
    if bad:
        raise EvidenceError(f"{source}: unknown key items.{sorted(bad)[0]} (only items.dismissed)")
    dismissed = _days(items["dismissed"], f"{source}: items.dismissed") if "dismissed" in items else FOREVER
    return Policy(classes, default, dismissed, source)


def load_policy(path: str | Path | None = None) -> Policy:
    if path is None:
        text = resources.files("plugwatch.data").joinpath("retention.toml").read_text(encoding="utf-8")
        return parse_policy(text, "retention.toml (built-in)")
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise EvidenceError(f"{p}: cannot read the retention policy ({e.strerror})") from None
    except UnicodeDecodeError:
        raise EvidenceError(f"{p}: not UTF-8 text") from None
    return parse_policy(text, str(p))


@dataclass
class RetentionResult:
    deleted: list[dict[str, Any]] = field(default_factory=list)
    kept_on_hold: list[dict[str, Any]] = field(default_factory=list)
    deleted_items: list[str] = field(default_factory=list)
    items_on_hold: list[str] = field(default_factory=list)
    dry_run: bool = False


def _snap_row(s: Snapshot, now: datetime) -> dict[str, Any]:
    return {"snapshot": s.id, "item": s.item_id, "account": s.account_key, "item_class": s.item_class,
            "created_at": s.created_at.isoformat(), "age_days": (now - s.created_at).days}


def expired_snapshots(session: Session, policy: Policy, now: datetime) -> list[Snapshot]:
    classes = set(session.scalars(select(Snapshot.item_class).distinct()))
    found: list[Snapshot] = []
    for cls in sorted(classes):
        days = policy.days_for(cls)
        if days is FOREVER:
            continue
        found += session.scalars(select(Snapshot).where(Snapshot.item_class == cls,
                                                        Snapshot.created_at < now - timedelta(days=days)))
    return sorted(found, key=lambda s: s.seq)


def expired_dismissed_items(session: Session, policy: Policy, now: datetime) -> list[Item]:
    if policy.dismissed_items is FOREVER:
        return []
    last = (select(Decision.item_id, func.max(Decision.id).label("last_id"))
            .where(Decision.action != "escalate").group_by(Decision.item_id).subquery())
    stmt = (select(Item).join(last, last.c.item_id == Item.id).join(Decision, Decision.id == last.c.last_id)
            .join(ReviewTask, ReviewTask.item_id == Item.id)
            .where(Decision.action == "dismiss", ReviewTask.state == "decided",
                   Decision.created_at < now - timedelta(days=policy.dismissed_items)))
    return list(session.scalars(stmt.order_by(Item.id)))


def run_retention(session: Session, policy: Policy, now: datetime | None = None, dry_run: bool = False,
                  actor: str = "retention") -> RetentionResult:
    from plugwatch.evidence.holds import item_held, lock_holds
    from plugwatch.store.erase import delete_rows

    now = now or utcnow()
    result = RetentionResult(dry_run=dry_run)
    lock_holds(session)  # a hold added meanwhile waits for this run, or this run sees it
    snaps = expired_snapshots(session, policy, now)
    held = held_snapshot_ids(session, snaps)
    for s in snaps:
        row = _snap_row(s, now)
        if s.id in held:
            row["holds"] = _holds_on(session, s)
            result.kept_on_hold.append(row)
            continue
        result.deleted.append(row)
        if not dry_run:
            delete_snapshot(session, s, actor, f"retention: {s.item_class} kept {policy.days_for(s.item_class)} days",
                            now=now)
    items = expired_dismissed_items(session, policy, now)
    doomed = []
    for item in items:
        if item_held(session, item.id, item.account_key):
            result.items_on_hold.append(item.id)
        else:
            doomed.append(item.id)
    result.deleted_items = doomed
    if doomed and not dry_run:
        counts = delete_rows(session, Item.__table__, "id", doomed)
        for item_id in doomed:
            audit.append(session, actor, "retention.delete_item", f"item:{item_id}",
                         {"reason": f"dismissed more than {policy.dismissed_items} days ago"}, at=now)
        result_counts = dict(counts)
        audit.append(session, actor, "retention.items", "retention", {"rows": result_counts}, at=now)
    if not dry_run:
        audit.append(session, actor, "retention.run", "retention",
                     {"policy": policy.source, "snapshots_deleted": len(result.deleted),
                      "snapshots_kept_on_hold": len(result.kept_on_hold), "items_deleted": len(doomed),
                      "items_kept_on_hold": len(result.items_on_hold)}, at=now)
    return result


def _holds_on(session: Session, s: Snapshot) -> list[int]:
    from sqlalchemy import and_, or_

    return list(session.scalars(select(LegalHold.id).where(LegalHold.released_at.is_(None), or_(
        and_(LegalHold.target_type == "snapshot", LegalHold.target == str(s.id)),
        and_(LegalHold.target_type == "item", LegalHold.target == s.item_id),
        and_(LegalHold.target_type == "account", LegalHold.target == (s.account_key or ""))))))
