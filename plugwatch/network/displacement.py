"""Displacement: where offers send buyers off-platform, per week or month, and how the mix shifts.

Each offer counts once per destination it names: a Telegram handle or t.me link -> telegram, a Wickr
name -> wickr, a phone number on its own -> phone (a number given for Signal or WhatsApp counts for
that app only), a non-generic link -> website. A handle of the platform the offer is on (an @handle
inside Telegram) is not off-platform and is not counted.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from plugwatch.network.generic import is_generic
from plugwatch.text.identifier_types import TYPES, Family

# Apps are the contact types; destinations in the order identifier_types declares them.
APPS = tuple(name for name, t in TYPES.items() if t.family is Family.CONTACT)
DESTINATIONS = tuple(dict.fromkeys(t.destination for t in TYPES.values() if t.destination))
_ALIASES = {"twitter": "x"}


def destinations(rec: dict[str, Any]) -> set[str]:
    platform = _ALIASES.get(rec.get("platform") or "", rec.get("platform") or "")
    found: set[str] = set()
    app_phones: set[str] = set()
    phones: set[str] = set()
    for ident in rec.get("identifiers") or ():
        kind, canonical = ident.get("type"), ident.get("canonical")
        if not isinstance(kind, str) or not isinstance(canonical, str):
            continue
        if kind in APPS:
            if kind != platform and not is_generic(kind, canonical):
                found.add(kind)
            app_phones.add(canonical.partition(":")[2])
        elif kind == "zelle":
            app_phones.add(canonical.partition(":")[2])
        elif kind == "phone":
            phones.add(canonical)
        elif kind == "email":
            if not is_generic(kind, canonical):
                found.add("email")
        elif kind in ("url", "domain") and not is_generic(kind, canonical):
            found.add("website")
    if phones - app_phones:
        found.add("phone")
    return found


def period_of(ts: float, period: str) -> str:
    day = datetime.fromtimestamp(ts, UTC).date()
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def period_start(label: str) -> date:
    if "-W" in label:
        year, week = label.split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    year, month = label.split("-")
    return date(int(year), int(month), 1)


class Displacement:
    def __init__(self, period: str = "week"):
        if period not in ("week", "month"):
            raise ValueError(f"period is week or month, got {period!r}")
        self.period = period
        self.counts: dict[str, Counter] = {}
        self.offers: Counter = Counter()  # offers per period (with or without a destination)
        self.undated = 0

    def add(self, rec: dict[str, Any], ts: float | None) -> None:
        if ts is None:
            self.undated += 1
            return
        label = period_of(ts, self.period)
        self.offers[label] += 1
        found = destinations(rec)
        if found:
            self.counts.setdefault(label, Counter()).update(found)

    def periods(self) -> list[str]:
        """Every period from the first to the last offer, empty ones included, so gaps show."""
        if not self.offers:
            return []
        labels = sorted(self.offers, key=period_start)
        start, end = period_start(labels[0]), period_start(labels[-1])
        out, day = [], start
        while day <= end:
            out.append(period_of(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp(), self.period))
            day = day + timedelta(days=7) if self.period == "week" else _next_month(day)
        return out

    def rows(self) -> list[tuple[str, str, int, float]]:
        """(period, destination, count, share of the period's destination mentions)."""
        seen = [d for d in DESTINATIONS if any(d in c for c in self.counts.values())]
        rows = []
        for label in self.periods():
            counts = self.counts.get(label, Counter())
            total = sum(counts.values())
            for dest in seen:
                n = counts.get(dest, 0)
                rows.append((label, dest, n, round(n / total, 4) if total else 0.0))
        return rows

    def write_csv(self, path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["period", "destination", "count", "share"])
            out.writerows(self.rows())

    def plot(self, path: Path, events: list[tuple[date, str]] = (), title: str | None = None) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = self.rows()
        labels = self.periods()
        dests = list(dict.fromkeys(r[1] for r in rows))
        x = [period_start(p) for p in labels]
        share = {d: [0.0] * len(labels) for d in dests}
        pos = {p: i for i, p in enumerate(labels)}
        for label, dest, _, s in rows:
            share[dest][pos[label]] = s
        fig, ax = plt.subplots(figsize=(9, 4.8), dpi=110)
        if dests:
            ax.stackplot(x, *[share[d] for d in dests], labels=dests, alpha=0.85, step=None)
        for when, text in events:
            ax.axvline(when, color="black", linestyle="--", linewidth=1)
            ax.annotate(text, (when, 1.0), xytext=(3, -12), textcoords="offset points", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_ylabel("share of off-platform destinations in offers")
        ax.set_xlabel(self.period)
        ax.set_title(title or f"Where offers send buyers, per {self.period}")
        if dests:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        if not labels:
            ax.text(0.5, 0.5, "no dated offers with an off-platform destination", ha="center", transform=ax.transAxes)
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)
