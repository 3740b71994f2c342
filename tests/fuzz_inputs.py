"""Mutated inputs for fuzzing the importers and `plugwatch scan`, shared by tests/test_fuzz_sources.py
(hypothesis draws the mutations) and bench/fuzz_scan.py (a seeded random draws them).

A case is a seed file from examples/ or tests/fixtures/sources/ (its name kept, since the extension can
choose the format), a few edits (byte flips, cuts, deletions, repeated lines, insertions of NUL, CR,
lone surrogates as bytes and as JSON escapes, invalid UTF-8, a BOM, a huge field, deep nesting) and
then, maybe, a change to the whole file (UTF-16, Latin-1, gzip, corrupt or truncated gzip).
"""

from __future__ import annotations

import gzip
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_DIRS = (ROOT / "examples", ROOT / "tests" / "fixtures" / "sources")
SEED_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".txt")

# Small hand-made seeds for the formats no fixture covers.
EXTRA_SEEDS = {
    "posts.txt": b"selling mdma pills, dm me on wickr plugman99\n\nhad a lovely walk today\nt.me/plugshop $40\n",
    "export.tsv": b"id\tuser\ttext\n1\tbob\tfresh batch in, wickr: bob_plug\n2\tann\tlovely weather\n",
    # a Mastodon account archive's outbox, one line as Mastodon writes it (its folder also holds media)
    "outbox.json": (ROOT / "tests" / "fixtures" / "mastodon_archive" / "outbox.json").read_bytes(),
}

INSERTS = (
    b"\x00", b"\r", b"\r\n", b"\n", b'"', b",", b"\t", b"{", b"[", b"]", b"}",
    b"\\ud800", b"\\udc80", b"\\ud83d", b"\\u0000", b"\\", b"\xff", b"\xfe\xff", b"\xed\xa0\x80", b"\xc3",
    b"\xef\xbb\xbf", "\U0001f48a\u200b".encode(), b"\x1b[31m",
    b'{"text": "x"}\n', b"[]\n", b"[1, {}]\n", b"null\n",
)
HUGE = b"x" * 200_000  # over the CSV field limit (131,072)
DEEP = b"[" * 50_000  # deeper than any JSON parser recurses
EDITS = ("flip", "cut", "delete", "insert", "repeat_line", "huge", "deep")
WRAPS = (None, None, None, "utf-16", "latin-1", "gzip", "gzip-corrupt", "gzip-cut")


def load_seeds() -> list[tuple[str, bytes]]:
    seeds = [(p.name, p.read_bytes()) for folder in SEED_DIRS for p in sorted(folder.iterdir())
             if p.is_file() and p.suffix in SEED_SUFFIXES]
    return seeds + sorted(EXTRA_SEEDS.items())


def edit(data: bytes, kind: str, at: int, value: int) -> bytes:
    """One edit at position `at` (taken modulo the length); `value` picks a bit, a payload or a length."""
    n = len(data)
    pos = at % (n + 1)
    if kind == "flip" and n:
        pos %= n
        return data[:pos] + bytes([data[pos] ^ (1 << (value % 8))]) + data[pos + 1:]
    if kind == "cut":
        return data[:pos]
    if kind == "delete":
        return data[:pos] + data[pos + 1 + value % 64:]
    if kind == "insert":
        return data[:pos] + INSERTS[value % len(INSERTS)] + data[pos:]
    if kind == "repeat_line":
        start = data.rfind(b"\n", 0, pos) + 1
        end = data.find(b"\n", pos)
        line = data[start:end + 1 if end >= 0 else n]
        return data[:start] + line * (2 + value % 3) + data[start:]
    if kind == "huge":
        return data[:pos] + HUGE + data[pos:]
    if kind == "deep":
        return data[:pos] + DEEP + data[pos:]
    return data


def wrap(data: bytes, how: str | None, value: int = 0) -> tuple[bytes, str]:
    """The whole file changed, and the suffix its name gets ("" or ".gz")."""
    if how == "utf-16":
        return data.decode("utf-8", "replace").encode("utf-16"), ""
    if how == "latin-1":
        return data.decode("utf-8", "replace").encode("latin-1", "replace"), ""
    if how is not None and how.startswith("gzip"):
        packed = gzip.compress(data, mtime=0)
        if how == "gzip-corrupt" and len(packed) > 20:
            pos = 10 + value % (len(packed) - 20)
            packed = packed[:pos] + bytes([packed[pos] ^ 0x55]) + packed[pos + 1:]
        elif how == "gzip-cut":
            packed = packed[: max(3, len(packed) * (value % 100) // 100)]
        return packed, ".gz"
    return data, ""


def mutate(data: bytes, edits: list[tuple[str, int, int]], how: str | None, value: int = 0) -> tuple[bytes, str]:
    for kind, at, v in edits:
        data = edit(data, kind, at, v)
    return wrap(data, how, value)


def random_case(rng: random.Random, seeds: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """(file name, content) of one mutated input."""
    name, data = rng.choice(seeds)
    edits = [(rng.choice(EDITS), rng.randrange(1 << 20), rng.randrange(1 << 10)) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.85:  # huge and deep inserts are costly: keep them to a share of the cases
        edits = [e if e[0] not in ("huge", "deep") else ("insert", e[1], e[2]) for e in edits]
    content, suffix = mutate(data, edits, rng.choice(WRAPS), rng.randrange(1 << 10))
    return name + suffix, content
