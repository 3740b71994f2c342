"""Statements of reasons for export, and the transparency report: counts per action, category, source
and automation, and the median handling time, for a period."""

from __future__ import annotations

import html
import re
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugwatch.actions import ACTIONS
from plugwatch.errors import UserError
from plugwatch.store.enforcement_tables import StatementOfReasons
from plugwatch.store.schema import Appeal, Decision, Item


def parse_day(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise UserError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _month_after(year: int, month: int) -> datetime:
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def parse_period(text: str) -> tuple[datetime, datetime]:
    """[start, end) for YYYY, YYYY-MM, YYYY-H1 / YYYY-H2, or FROM..TO (both days included)."""
    text = text.strip()
    if ".." in text:
        first, _, last = text.partition("..")
        start, end = parse_day(first), parse_day(last) + timedelta(days=1)
    elif m := re.fullmatch(r"(\d{4})", text):
        start, end = datetime(int(m[1]), 1, 1, tzinfo=UTC), datetime(int(m[1]) + 1, 1, 1, tzinfo=UTC)
    elif m := re.fullmatch(r"(\d{4})-H([12])", text, re.I):
        year, half = int(m[1]), int(m[2])
        start = datetime(year, 1 if half == 1 else 7, 1, tzinfo=UTC)
        end = datetime(year, 7, 1, tzinfo=UTC) if half == 1 else datetime(year + 1, 1, 1, tzinfo=UTC)
    elif (m := re.fullmatch(r"(\d{4})-(\d{2})", text)) and 1 <= int(m[2]) <= 12:
        start, end = datetime(int(m[1]), int(m[2]), 1, tzinfo=UTC), _month_after(int(m[1]), int(m[2]))
    else:
        raise UserError(f"--period {text!r}: use YYYY, YYYY-MM, YYYY-H1, YYYY-H2 or YYYY-MM-DD..YYYY-MM-DD")
    if end <= start:
        raise UserError(f"--period {text!r}: the end is before the start")
    return start, end


def export_statements(session: Session, since: datetime | None = None) -> list[dict[str, Any]]:
    q = select(StatementOfReasons.body).order_by(StatementOfReasons.id)
    if since is not None:
        q = q.where(StatementOfReasons.created_at >= since)
    return list(session.scalars(q))


def _overturned(session: Session, appeal_ids: list[int]) -> int:
    if not appeal_ids:
        return 0
    return len(session.scalars(select(Appeal.id).where(Appeal.id.in_(appeal_ids), Appeal.state == "overturned")).all())


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def transparency_report(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    rows = session.execute(select(Decision, Item.received_at, Item.flagged).join(Item, Item.id == Decision.item_id)
                           .where(Decision.created_at >= start, Decision.created_at < end)).all()
    final = [(d, received, flagged) for d, received, flagged in rows if ACTIONS[d.action].final]
    statements = session.scalars(select(StatementOfReasons).where(StatementOfReasons.created_at >= start,
                                                                  StatementOfReasons.created_at < end)).all()
    handling = [(d.created_at - received).total_seconds() for d, received, _ in final if received is not None]
    reviewing = [d.handling_seconds for d, _, _ in final if d.handling_seconds is not None]
    return {
        "period": {"from": start.date().isoformat(), "to": (end - timedelta(days=1)).date().isoformat()},
        "decisions": len(final),
        "per_action": dict(sorted(Counter(d.action for d, _, _ in final).items())),
        "per_policy_reason": dict(sorted(Counter(d.policy_reason for d, _, _ in final).items())),
        "overturned_on_appeal": _overturned(session, [d.appeal_id for d, _, _ in final if d.appeal_id]),
        "statements_of_reasons": len(statements),
        "per_category": dict(sorted(Counter(s.category for s in statements).items())),
        "per_source": dict(sorted(Counter(s.source_type for s in statements).items())),
        "automated_detection": {"yes": sum(1 for _, _, f in final if f), "no": sum(1 for _, _, f in final if not f)},
        "automated_decision": dict(sorted(Counter(s.automated_decision for s in statements).items())),
        "median_handling_hours": _median([h / 3600 for h in handling]),  # from receiving the item to deciding
        "median_review_seconds": _median(reviewing),  # from claiming the item to deciding
    }


def _table(title: str, counts: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in counts.items())
    return f"<h2>{html.escape(title)}</h2><table><tbody>{rows or '<tr><td colspan=2>none</td></tr>'}</tbody></table>"


def render_html(report: dict[str, Any]) -> str:
    period = f"{report['period']['from']} to {report['period']['to']}"
    summary = {"final decisions": report["decisions"], "statements of reasons": report["statements_of_reasons"],
               "changed on appeal": report["overturned_on_appeal"],
               "median handling time (hours, from receipt to decision)": report["median_handling_hours"],
               "median review time (seconds, from claim to decision)": report["median_review_seconds"]}
    parts = [_table("Summary", summary), _table("Decisions per action", report["per_action"]),
             _table("Decisions per policy reason", report["per_policy_reason"]),
             _table("Statements per category", report["per_category"]),
             _table("Statements per source", report["per_source"]),
             _table("Automated detection", report["automated_detection"]),
             _table("Automated decision", report["automated_decision"])]
    return ("<!doctype html><html lang=en><meta charset=utf-8><title>Transparency report " + html.escape(period)
            + "</title><style>body{font-family:sans-serif;max-width:50em;margin:2em auto}table{border-collapse:"
              "collapse}td{border:1px solid #ccc;padding:.2em .6em}</style><h1>Transparency report, "
            + html.escape(period) + "</h1>" + "".join(parts) + "</html>\n")
