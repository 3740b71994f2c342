"""Snapshot manifests and the chain that links them.

A manifest lists every file of a snapshot with its SHA-256 and size, plus what was
frozen and why, and the digest of the previous snapshot's manifest. Its own digest is the
SHA-256 of its canonical JSON. The chain is kept as (seq, digest, prev) links, which hold
no personal data, so they outlive snapshots that retention deletes: an export shows the
run of links between its snapshots and a verifier can see nothing was inserted or
rewritten in between.
"""

from __future__ import annotations

from typing import Any

from plugwatch.evidence.canon import digest_of, sha256_hex

FORMAT = "plugwatch-snapshot/1"


def file_entry(data: bytes) -> dict[str, Any]:
    return {"sha256": sha256_hex(data), "size": len(data)}


def snapshot_manifest(*, snapshot_id: str, seq: int, created_at: str, item_id: str, account: str | None,
                      item_class: str, decision: dict[str, Any] | None, files: dict[str, bytes],
                      prev_digest: str | None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "snapshot": snapshot_id,
        "seq": seq,
        "created_at": created_at,
        "item": item_id,
        "account": account,
        "item_class": item_class,
        "decision": decision,
        "files": {name: file_entry(data) for name, data in sorted(files.items())},
        "prev_manifest_digest": prev_digest,
    }


def manifest_digest(manifest: dict[str, Any]) -> str:
    return digest_of(manifest)


def check_files(manifest: dict[str, Any], files: dict[str, bytes], where: str) -> list[tuple[str, str]]:
    """Problems between a manifest's file list and the files at hand, each naming the file."""
    problems = []
    listed = manifest.get("files") or {}
    for name, meta in sorted(listed.items()):
        path = f"{where}/{name}"
        if name not in files:
            problems.append((path, "listed in the snapshot manifest but missing"))
            continue
        data = files[name]
        if sha256_hex(data) != meta.get("sha256"):
            problems.append((path, f"SHA-256 differs from the snapshot manifest ({meta.get('sha256')})"))
        elif len(data) != meta.get("size"):
            problems.append((path, f"size {len(data)} differs from the snapshot manifest ({meta.get('size')})"))
    for name in sorted(set(files) - set(listed)):
        problems.append((f"{where}/{name}", "not listed in the snapshot manifest"))
    return problems


def check_links(links: list[dict[str, Any]], where: str = "chain") -> list[tuple[str, str]]:
    """A run of (seq, digest, prev) links must be consecutive and each must point at the one before."""
    problems = []
    for before, link in zip(links, links[1:], strict=False):
        if link.get("seq") != before.get("seq", 0) + 1:
            problems.append((f"{where} seq {link.get('seq')}", f"follows seq {before.get('seq')}: a link is missing"))
        if link.get("prev") != before.get("digest"):
            problems.append((f"{where} seq {link.get('seq')}", "does not point at the manifest before it"))
    return problems
