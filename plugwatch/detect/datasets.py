"""Labelled examples for training and evaluation, read from files the user has.

Sources (see ../shared/data/README.md): darknet listings (Agora, Dream) and
onion-site paragraphs are sale / not-sale proxies; Reddit drug talk is
not-sale; the project's own hand-written social-media set lives in devdata/.
Each proxy is split deterministically by a hash of its id so the same rows
are always held out for evaluation.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LABELS = ("not_sale", "sale", "buy")


class DataError(Exception):
    """A labelled file is missing or malformed."""


@dataclass(slots=True)
class Example:
    id: str
    text: str
    label: str
    source: str
    slice: str = ""
    lang: str = ""
    bio: str | None = None
    platform: str = "generic"


def held_out(key: str, percent: int = 20) -> bool:
    """Deterministic split: the same id always lands on the same side."""
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 100 < percent


def csv_rows(path: Path, columns: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """The rows of a proxy CSV; DataError naming the file when it lacks a column read here, holds no row,
    or cannot be read (a source silently dropped would change the model without a word)."""
    rows = 0
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in columns if c not in (reader.fieldnames or ())]
            if missing:
                raise DataError(f"{path}: no column {', '.join(missing)} (its columns: "
                                f"{', '.join(reader.fieldnames or ()) or 'none, an empty file'})")
            for row in reader:
                rows += 1
                yield row
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 (byte {e.object[e.start]:#04x}); save it as UTF-8") from None
    except csv.Error as e:
        raise DataError(f"{path}: line {reader.line_num}: {e}") from None
    if not rows:
        raise DataError(f"{path}: no rows under its header")


def agora(data: Path) -> Iterator[Example]:
    for i, row in enumerate(csv_rows(data / "agora" / "agora_2014Q1_listings.csv", ("title", "cat"))):
        title = (row.get("title") or "").strip()
        if title:
            label = "sale" if row.get("cat") == "Drugs" else "not_sale"
            yield Example(f"agora-{i}", title, label, "agora", slice=f"agora_{row.get('cat', '').lower()}")


def dream(data: Path) -> Iterator[Example]:
    for i, row in enumerate(csv_rows(data / "dream" / "dream_market_cocaine_listings.csv", ("product_title",))):
        title = (row.get("product_title") or "").strip()
        if title:
            yield Example(f"dream-{i}", title, "sale", "dream", slice="dream_cocaine")


def darknet_paragraphs(data: Path) -> Iterator[Example]:
    path = data / "darknet_paragraphs" / "choshen2019_paragraphs_trainval.csv"
    for i, row in enumerate(csv_rows(path, ("text", "label", "split"))):
        text = (row.get("text") or "").strip()
        if len(text) >= 20:  # shorter rows are page furniture ("More Info", menu fragments)
            label = "sale" if row["label"] == "onion_drugs_illegal" else "not_sale"
            yield Example(f"choshen-{row.get('split', '')}-{i}", text, label, "darknet_paragraphs", slice=row["label"])


def reddit_opiates(data: Path) -> Iterator[Example]:
    for i, row in enumerate(csv_rows(data / "reddit_opiates_ner" / "drugs_ner_compact.csv", ("split", "text"))):
        text = (row.get("text") or "").strip()
        if len(text) >= 3:
            yield Example(f"reddit-{row['split']}-{i}", text, "not_sale", "reddit_opiates", slice="reddit_drug_talk")


PROXIES = {"agora": agora, "dream": dream, "darknet_paragraphs": darknet_paragraphs, "reddit_opiates": reddit_opiates}


def proxies(data: Path, part: str) -> list[Example]:
    """`part` is "train" or "eval": the same deterministic 20% is always held out."""
    if not data.is_dir():
        raise DataError(f"{data}: shared data folder not found (give --data PATH)")
    out = []
    for name, loader in PROXIES.items():
        try:
            for ex in loader(data):
                if held_out(ex.id) == (part == "eval"):
                    out.append(ex)
        except FileNotFoundError as e:
            raise DataError(f"{data}: missing {name} file ({e.filename})") from None
    return out


def read_labelled(path: Path, source: str | None = None) -> list[Example]:
    """JSONL with id, text, label (sale / not_sale / buy) and optional slice, lang, bio, platform."""
    out: list[Example] = []
    try:
        fh = path.open("rb")
    except OSError as e:
        raise DataError(f"{path}: cannot open ({e.strerror})") from None
    with fh:
        for n, raw in enumerate(fh, 1):
            if n == 1 and raw.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise DataError(f"{path}: UTF-16 text; save it as UTF-8 (one JSON object per line)")
            try:  # a UTF-8 byte order mark (Windows editors write one) is not part of the first record
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise DataError(f"{path}:{n}: not UTF-8 (byte {raw[e.start]:#04x} at column {e.start + 1}); "
                                "save the file as UTF-8") from None
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}:{n}: invalid JSON ({e.msg})") from None
            except RecursionError:
                raise DataError(f"{path}:{n}: invalid JSON (nested too deeply)") from None
            if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
                raise DataError(f"{path}:{n}: a record needs a text string")
            if rec.get("bio") is not None and not isinstance(rec["bio"], str):
                raise DataError(f"{path}:{n}: bio must be a string, got {rec['bio']!r:.40}")
            label = rec.get("label")
            if label not in LABELS:
                raise DataError(f"{path}:{n}: label must be one of {', '.join(LABELS)}, got {label!r}")
            out.append(Example(
                id=str(rec.get("id") or f"{path.stem}-{n}"), text=rec["text"], label=label,
                source=source or path.stem, slice=str(rec.get("slice") or ""), lang=str(rec.get("lang") or ""),
                bio=rec.get("bio") or None, platform=str(rec.get("platform") or "generic"),
            ))
    if not out:
        raise DataError(f"{path}: no labelled records")
    return out
