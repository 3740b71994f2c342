"""Hash banks: named lists of PDQ hashes of known pictures (a seller's menu, a product photo), each with
a label and where it came from, matched through the multi-index (index.py).

On disk a bank is JSON lines `{"pdq": ..., "label": ..., "source": ...}`. It moves to and from
python-threatexchange and Hasher-Matcher-Actioner as the CSV that `threatexchange dataset -P --csv`
writes (columns collab, signal_type, signal_str, category, tags) and as the plain signal files its
file exchange reads (`pdq HASH` per line, or just the hash).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from plugwatch.images.index import PdqIndex
from plugwatch.images.pdq import MATCH_DISTANCE, is_pdq

TX_COLUMNS = ("collab", "signal_type", "signal_str", "category", "tags")
TX_POSITIVE = "POSITIVE_CLASS"


@dataclass(frozen=True, slots=True)
class BankEntry:
    pdq: str
    label: str | None = None
    source: str | None = None
    variants: tuple[str, ...] = ()  # plugwatch's cropped/trimmed hashes of the picture, when it was hashed here

    def to_dict(self) -> dict:
        d = {"pdq": self.pdq, "label": self.label, "source": self.source}
        if self.variants:
            d["variants"] = list(self.variants)
        return d


@dataclass(frozen=True, slots=True)
class BankMatch:
    entry: BankEntry
    distance: int


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    reason: str


class Bank:
    def __init__(self, name: str, entries: list[BankEntry] | None = None):
        self.name = name
        self.entries: list[BankEntry] = []
        self._known: set[str] = set()
        self._index: PdqIndex | None = None
        self.add(entries or [])

    def add(self, entries: list[BankEntry]) -> int:
        """Adds the entries whose hash is not in the bank yet; returns how many were added."""
        added = 0
        for e in entries:
            key = e.pdq.lower()
            if key in self._known:
                continue
            self._known.add(key)
            self.entries.append(BankEntry(key, e.label, e.source, tuple(v.lower() for v in e.variants)))
            added += 1
        if added:
            self._index = None
        return added

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, pdqs: str | list[str], max_distance: int = MATCH_DISTANCE) -> list[BankMatch]:
        """Entries within `max_distance` of the picture whose hash (or hashes: reference and variants)
        are given, by the nearest pair of hashes, nearest first."""
        if self._index is None:
            hashes, owners = [], []
            for i, e in enumerate(self.entries):
                for h in (e.pdq, *e.variants):
                    hashes.append(h)
                    owners.append(i)
            self._index, self._owners = PdqIndex(hashes), owners
        best: dict[int, int] = {}
        for pdq in [pdqs] if isinstance(pdqs, str) else pdqs:
            for hit in self._index.query(pdq.lower(), max_distance):
                owner = self._owners[hit.index]
                best[owner] = min(best.get(owner, hit.distance), hit.distance)
        return [BankMatch(self.entries[i], d) for i, d in sorted(best.items(), key=lambda x: (x[1], x[0]))]


def bank_name(path: Path) -> str:
    return path.stem


def load_bank(path: Path) -> tuple[Bank, list[BadLine]]:
    """The bank in `path` (JSON lines; an absent file is an empty bank) and the lines that were not entries."""
    bank = Bank(bank_name(path))
    if not path.exists():
        return bank, []
    entries, bad = parse_entries(path.read_text(encoding="utf-8"))
    bank.add(entries)
    return bank, bad


def save_bank(bank: Bank, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in bank.entries),
                   encoding="utf-8")
    tmp.replace(path)


def parse_entries(text: str, default_label: str | None = None) -> tuple[list[BankEntry], list[BadLine]]:
    """Entries from JSON lines, threatexchange CSV, or plain signal lines (format told by the first line)."""
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
    if first.startswith("collab,") or first.startswith("signal_type,"):
        return _from_tx_csv(text.lstrip("\ufeff"), default_label)
    entries, bad = [], []
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            entry = _from_json(line)
        else:  # threatexchange file exchange: "pdq HASH", or the hash alone
            kind, _, value = line.partition(" ")
            entry = (BankEntry(kind.lower(), default_label) if not value and is_pdq(kind) else
                     BankEntry(value.strip().lower(), default_label) if kind == "pdq" and is_pdq(value.strip()) else
                     f"not a PDQ signal: {line[:80]!r}" if kind != "pdq" and value else
                     f"not a 64-digit hex PDQ hash: {line[:80]!r}")
        if isinstance(entry, str):
            bad.append(BadLine(number, entry))
        else:
            entries.append(entry if entry.label or not default_label else
                           BankEntry(entry.pdq, default_label, entry.source, entry.variants))
    return entries, bad


def _from_json(line: str) -> BankEntry | str:
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as e:
        return f"invalid JSON: {e.msg} at column {e.colno}"
    if not isinstance(doc, dict):
        return "a bank line is a JSON object {pdq, label, source}"
    pdq = doc.get("pdq")
    if not isinstance(pdq, str) or not is_pdq(pdq):
        return "pdq is not a 64-digit hex PDQ hash"
    label, source, variants = doc.get("label"), doc.get("source"), doc.get("variants") or []
    if not isinstance(variants, list) or not all(isinstance(v, str) and is_pdq(v) for v in variants):
        return "variants is not a list of 64-digit hex PDQ hashes"
    return BankEntry(pdq.lower(), label if isinstance(label, str) else None,
                     source if isinstance(source, str) else None, tuple(variants))


def _from_tx_csv(text: str, default_label: str | None) -> tuple[list[BankEntry], list[BadLine]]:
    entries, bad = [], []
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        number = reader.line_num
        if (row.get("signal_type") or "").strip() != "pdq":
            bad.append(BadLine(number, f"signal_type {row.get('signal_type')!r} is not pdq"))
            continue
        pdq = (row.get("signal_str") or "").strip()
        if not is_pdq(pdq):
            bad.append(BadLine(number, "signal_str is not a 64-digit hex PDQ hash"))
            continue
        if (row.get("category") or TX_POSITIVE).strip() not in ("", TX_POSITIVE):
            bad.append(BadLine(number, f"category {row.get('category')!r}: only positive-class signals are banked"))
            continue
        label = (row.get("tags") or "").strip() or default_label
        entries.append(BankEntry(pdq.lower(), label, (row.get("collab") or "").strip() or None))
    return entries, bad


def to_tx_csv(bank: Bank) -> str:
    """The bank as python-threatexchange's dataset CSV; a label becomes tags (its spaces as underscores,
    since tags are space-separated)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, TX_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for e in bank.entries:
        writer.writerow({"collab": bank.name, "signal_type": "pdq", "signal_str": e.pdq, "category": TX_POSITIVE,
                         "tags": (e.label or "").replace(" ", "_")})
    return out.getvalue()


def to_jsonl(bank: Bank) -> str:
    return "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in bank.entries)
