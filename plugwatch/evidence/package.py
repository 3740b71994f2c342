"""Disclosure packages: build the ZIP for an approved request, and verify one.

Layout:
  manifest.json          request, export time and actor, signing key fingerprint, every other file with SHA-256
  custody.jsonl          hash-chained created/approved/exported log; the last entry holds manifest.json's digest
  signature.sha256       SHA-256 of manifest.json and custody.jsonl (`sha256sum -c` format): what is signed
  signature.sig          Ed25519 signature of signature.sha256 by the exporting organisation's key
  summary.html           the page a person reads
  chain.jsonl            the run of snapshot-chain links (seq, digest, prev) covering the exported snapshots
  README.txt             how to check the package without plugwatch
  snapshots/<id>/manifest.json, raw.json, item.json, verdict.json, account.json, network.json, media/...

Verification re-computes every digest, checks each snapshot manifest against its files and
against the chain, checks the custody chain and its anchor on manifest.json, and finally
rebuilds the ZIP from its contents and compares byte for byte, so a changed byte in a ZIP
header is found too. Every problem names the file, line or ZIP structure it is in.

All of that is integrity only: whoever changes a package can recompute every digest. What ties a
package to its exporter is the signature (plugwatch.evidence.signing), checked when the verifier is
given the exporter's public key.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from plugwatch.evidence import custody as custody_log
from plugwatch.evidence import signing, summary
from plugwatch.evidence.canon import canonical_json, pretty_json, sha256_hex
from plugwatch.evidence.chain import check_files, check_links, file_entry
from plugwatch.evidence.zipfmt import (
    build_zip,
    first_difference,
    header_crc,
    header_name,
    local_entries,
    stored_data,
)

FORMAT = "plugwatch-package/1"
FIXED = ("manifest.json", "custody.jsonl")  # not listed in manifest.json: custody anchors the manifest
SIGNATURE_FILES = (signing.SIGNED_LIST, signing.SIGNATURE)  # not listed either: they sign the two above

README = """plugwatch disclosure package

manifest.json lists every file in this archive (except itself and custody.jsonl) with its SHA-256
digest and size. Each snapshots/<id>/manifest.json lists the files of one frozen item; its SHA-256
is that snapshot's digest, chained to the snapshot frozen before it (see chain.jsonl). custody.jsonl
is a log of who created, approved and exported the request; each line holds the hash of the line
before it, and the "exported" line holds the SHA-256 of manifest.json.

signature.sha256 lists the SHA-256 of manifest.json and custody.jsonl; signature.sig is the
exporting organisation's Ed25519 signature of signature.sha256. Ask the organisation for its public
key (KEY.pub) through a channel you trust, and compare its fingerprint with manifest.json's
"signature" entry. Only the signature shows who made the package: anyone who changes a file can
also recompute the digests.

To check: plugwatch evidence verify THIS.zip --public-key KEY.pub   (exit 0 = every check passed)
Without plugwatch, in a folder where this archive was unpacked:
  openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin -in signature.sha256 -sigfile signature.sig
  sha256sum -c signature.sha256
  then sha256sum each file and compare with manifest.json.
"""


@dataclass(slots=True)
class PackedSnapshot:
    id: str
    manifest: dict[str, Any]
    files: dict[str, bytes]


@dataclass(slots=True)
class Package:
    data: bytes
    sha256: str
    manifest_sha256: str
    export_entry: dict[str, Any]
    files: int
    signed_by: str | None = None  # fingerprint of the signing key; None: an unsigned package
    # snapshots the request's approval covered that were deleted since (hold released, then retention or
    # a subject deletion): not in the package, which the one exporting it must be told
    deleted_since_approval: list[int] = field(default_factory=list)


def build_package(*, request: dict[str, Any], snapshots: list[PackedSnapshot], chain: list[dict[str, Any]],
                  custody: list[dict[str, Any]], exported_by: str, exported_role: str | None,
                  exported_at: datetime | None = None, signer: signing.Signer | None = None) -> Package:
    """The ZIP bytes for `request`; `custody` is the log so far (created, approved, ...). With a
    signer the manifest names its key and the package carries the signature; without, it says
    `"signature": null` and can only be checked for integrity."""
    if not custody:
        raise ValueError("a package needs the custody log of its request (at least created and approved)")
    exported_at = (exported_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    when = exported_at.isoformat()
    snapshots = sorted(snapshots, key=lambda s: s.manifest.get("seq", 0))
    contents: dict[str, bytes] = {}
    views = []
    for snap in snapshots:
        base = f"snapshots/{snap.id}"
        manifest_bytes = canonical_json(snap.manifest)
        contents[f"{base}/manifest.json"] = manifest_bytes
        for name, data in sorted(snap.files.items()):
            contents[f"{base}/{name}"] = data
        views.append(summary.snapshot_view(snap.id, snap.manifest, sha256_hex(manifest_bytes), snap.files))
    contents["chain.jsonl"] = b"".join(canonical_json(link) + b"\n" for link in chain)
    contents["README.txt"] = README.encode()
    signed_by = signer.fingerprint if signer is not None else None
    contents["summary.html"] = summary.render(request=request, snapshots=views, custody=custody,
                                              exported_at=when, exported_by=exported_by,
                                              exported_role=exported_role, signed_by=signed_by)
    manifest = {
        "format": FORMAT,
        "request": request,
        "exported_at": when,
        "exported_by": exported_by,
        "signature": ({"algorithm": signing.ALGORITHM, "key_fingerprint": signed_by,
                       "files": list(SIGNATURE_FILES)} if signer is not None else None),
        "snapshots": [{"id": s.id, "seq": s.manifest.get("seq"), "item": s.manifest.get("item"),
                       "account": s.manifest.get("account"), "manifest_digest": v["manifest_digest"]}
                      for s, v in zip(snapshots, views, strict=True)],
        "files": {name: file_entry(data) for name, data in sorted(contents.items())},
    }
    manifest_bytes = pretty_json(manifest)
    manifest_sha = sha256_hex(manifest_bytes)
    export = custody_log.entry(custody[-1], "exported", exported_by, exported_role, when, str(request["id"]),
                               {"manifest_sha256": manifest_sha, "snapshots": len(snapshots), "signing_key": signed_by})
    log = custody_log.to_jsonl([*custody, export])
    entries = [("manifest.json", manifest_bytes), ("custody.jsonl", log)]
    if signer is not None:
        statement = signing.signed_list({"manifest.json": manifest_bytes, "custody.jsonl": log})
        entries += [(signing.SIGNED_LIST, statement), (signing.SIGNATURE, signer.sign(statement))]
    entries += [("summary.html", contents.pop("summary.html")), ("README.txt", contents.pop("README.txt")),
                ("chain.jsonl", contents.pop("chain.jsonl"))]
    entries += sorted(contents.items())
    data, _ = build_zip(entries, exported_at.timetuple()[:6])
    return Package(data, sha256_hex(data), manifest_sha, export, len(entries), signed_by)


# ------------------------------------------------------------------------------------------ verify


@dataclass(slots=True)
class Report:
    problems: list[tuple[str, str]] = field(default_factory=list)
    files: int = 0
    snapshots: int = 0
    custody: int = 0
    request: dict[str, Any] | None = None
    damaged_directory: str | None = None
    signed_by: str | None = None  # the key fingerprint the manifest names (None: unsigned)
    signature_checked: bool = False  # True only when a public key was given and the signature verified

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, where: str, what: str) -> None:
        if (where, what) not in self.problems:
            self.problems.append((where, what))


def _json(data: bytes, where: str, report: Report) -> Any:
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        report.add(where, f"not valid JSON ({e.__class__.__name__}: {str(e)[:80]})")
        return None


def _read_entries(archive: bytes, report: Report, crcs: dict[str, int]) -> list[tuple[str, bytes]] | None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(archive))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        entries = local_entries(archive)
        if not entries:
            report.add("ZIP structure", f"not a readable ZIP archive ({e})")
            return None
        report.damaged_directory = f"the ZIP directory cannot be read ({e}); files were read from their headers"
        return entries
    entries: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            report.add(info.filename, "appears twice in the ZIP")
        seen.add(info.filename)
        data = None
        name = info.filename
        if info.compress_type == zipfile.ZIP_STORED:
            data = stored_data(archive, info.header_offset, info.compress_size)
            local = header_name(archive, info.header_offset)
            if data is None or local is None:
                report.add(f"ZIP header of {name}", "local header damaged")
            elif local != name:
                report.add(f"ZIP directory entry of {local}", f"names the file {name!r}, its header says {local!r}")
                name = local
        else:
            try:
                data = zf.read(info)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError) as e:
                report.add(info.filename, f"cannot be read from the ZIP ({e})")
        if data is not None:
            entries.append((name, data))
            if header_crc(archive, info.header_offset) == info.CRC != zlib.crc32(data):
                crcs[name] = info.CRC  # both headers agree: the content changed, not the headers
    return entries


def verify_package(archive: bytes, public_key: signing.Ed25519PublicKey | None = None) -> Report:
    """Every check on `archive`; with `public_key` also that the exporter holding its private key
    signed this manifest and custody log (without one, integrity only: see Report.signature_checked)."""
    report = Report()
    crcs: dict[str, int] = {}
    entries = _read_entries(archive, report, crcs)
    if entries is None:
        return report
    files = dict(entries)
    report.files = len(files)
    for name in FIXED:
        if name not in files:
            report.add(name, "missing from the package")
    manifest = _json(files["manifest.json"], "manifest.json", report) if "manifest.json" in files else None
    if manifest is not None and not (isinstance(manifest, dict) and manifest.get("format") == FORMAT):
        report.add("manifest.json", f"not a {FORMAT} manifest")
        manifest = None
    if manifest is not None:
        report.request = manifest.get("request")
        _check_listed(manifest, files, report)
        _check_snapshots(manifest, files, report)
    if "custody.jsonl" in files:
        _check_custody(files["custody.jsonl"], files.get("manifest.json"), manifest, report)
    _check_signature(manifest, files, public_key, report)
    for name in sorted(crcs):  # e.g. signature.sig without a key to check it: no digest covers it
        if not any(where == name or where.startswith(name + " ") for where, _ in report.problems):
            report.add(name, "content changed: it no longer matches the CRC-32 its ZIP headers record")
    _check_layout(archive, entries, manifest, report, crcs)
    if report.damaged_directory and not any(w.startswith("ZIP directory") for w, _ in report.problems):
        report.add("ZIP directory", report.damaged_directory)
    return report


def _check_listed(manifest: dict[str, Any], files: dict[str, bytes], report: Report) -> None:
    listed = manifest.get("files") or {}
    for name, meta in sorted(listed.items()):
        if name not in files:
            report.add(name, "listed in manifest.json but missing from the package")
        elif sha256_hex(files[name]) != (meta or {}).get("sha256"):
            report.add(name, f"SHA-256 {sha256_hex(files[name])} differs from manifest.json ({meta.get('sha256')})")
        elif len(files[name]) != meta.get("size"):
            report.add(name, f"size {len(files[name])} differs from manifest.json ({meta.get('size')})")
    unlisted = set(FIXED) | (set(SIGNATURE_FILES) if manifest.get("signature") else set())
    for name in sorted(set(files) - set(listed) - unlisted):
        report.add(name, "in the package but not listed in manifest.json")


def _check_snapshots(manifest: dict[str, Any], files: dict[str, bytes], report: Report) -> None:
    chain: list[dict[str, Any]] = []
    if "chain.jsonl" in files:
        for n, line in enumerate(files["chain.jsonl"].splitlines(), 1):
            link = _json(line, f"chain.jsonl line {n}", report)
            if isinstance(link, dict):
                chain.append(link)
        for where, what in check_links(chain, "chain.jsonl"):
            report.add(where, what)
    else:
        report.add("chain.jsonl", "missing from the package")
    by_seq = {link.get("seq"): link for link in chain}
    entries = manifest.get("snapshots") or []
    report.snapshots = len(entries)
    listed_dirs = set()
    for snap in entries:
        base = f"snapshots/{snap.get('id')}"
        listed_dirs.add(base)
        path = f"{base}/manifest.json"
        if path not in files:
            report.add(path, "snapshot manifest missing")
            continue
        raw = files[path]
        digest = sha256_hex(raw)
        if digest != snap.get("manifest_digest"):
            report.add(path, "digest differs from the one manifest.json records for this snapshot")
        smanifest = _json(raw, path, report)
        if not isinstance(smanifest, dict):
            continue
        if canonical_json(smanifest) != raw:
            report.add(path, "bytes are not the canonical form of the manifest")
        own = {name[len(base) + 1:]: data for name, data in files.items()
               if name.startswith(base + "/") and name != path}
        for where, what in check_files(smanifest, own, base):
            report.add(where, what)
        link = by_seq.get(smanifest.get("seq"))
        if link is None:
            report.add(path, f"chain position {smanifest.get('seq')} is not in chain.jsonl")
        else:
            if link.get("digest") != digest:
                report.add(path, f"digest does not match chain.jsonl at seq {smanifest.get('seq')}")
            if link.get("prev") != smanifest.get("prev_manifest_digest"):
                report.add(path, f"previous-manifest digest does not match chain.jsonl at seq {smanifest.get('seq')}")
    for name in sorted(files):
        if name.startswith("snapshots/") and "/".join(name.split("/")[:2]) not in listed_dirs:
            report.add(name, "belongs to no snapshot listed in manifest.json")


def _check_custody(log: bytes, manifest_bytes: bytes | None, manifest: dict[str, Any] | None,
                   report: Report) -> None:
    entries, problems = custody_log.verify(log)
    report.custody = len(entries)
    for where, what in problems:
        report.add(where, what)
    actions = [e.get("action") for e in entries]
    by_action = {}
    for e in entries:
        by_action.setdefault(e.get("action"), e)
    missing = [a for a in custody_log.ORDER if a not in by_action]
    if missing:
        report.add("custody.jsonl", f"no {', '.join(missing)} entry")
    elif not (actions.index("created") < actions.index("approved") < len(actions) - 1):
        report.add("custody.jsonl", "entries are not in created → approved → exported order")
    approved = by_action.get("approved")
    if approved and approved.get("role") != "legal":
        report.add("custody.jsonl", f"approved by {approved.get('actor')!r} whose role is not legal")
    if approved and by_action.get("created") and approved.get("actor") == by_action["created"].get("actor"):
        report.add("custody.jsonl", "approved by the same person who created the request")
    if entries and entries[-1].get("action") != "exported":
        report.add("custody.jsonl", "the last entry is not the export of this package")
    elif entries and manifest_bytes is not None:
        if entries[-1].get("details", {}).get("manifest_sha256") != sha256_hex(manifest_bytes):
            report.add("manifest.json", "SHA-256 differs from the one the custody log's export entry records")
    if manifest is not None and isinstance(manifest.get("request"), dict):
        rid = str(manifest["request"].get("id"))
        for n, e in enumerate(entries, 1):
            if str(e.get("request")) != rid:
                report.add(f"custody.jsonl line {n}", f"is about request {e.get('request')}, not {rid}")


def _check_signature(manifest: dict[str, Any] | None, files: dict[str, bytes],
                     public_key: signing.Ed25519PublicKey | None, report: Report) -> None:
    declared = manifest.get("signature") if manifest is not None else None
    if manifest is not None and declared is not None and not isinstance(declared, dict):
        report.add("manifest.json", "the signature entry is not an object")
        declared = None
    if declared is None:
        if public_key is not None and manifest is not None:
            report.add("package", "not signed: nothing ties it to the key given (it may have been made by anyone)")
        return
    report.signed_by = str(declared.get("key_fingerprint"))
    statement, signature = files.get(signing.SIGNED_LIST), files.get(signing.SIGNATURE)
    for name, data in ((signing.SIGNED_LIST, statement), (signing.SIGNATURE, signature)):
        if data is None:
            report.add(name, "missing from the package (manifest.json says it is signed)")
    if statement is None or signature is None or any(n not in files for n in signing.SIGNED_FILES):
        return
    matches = statement == signing.signed_list(files)
    if not matches:
        report.add(signing.SIGNED_LIST, "does not hold the SHA-256 of manifest.json and custody.jsonl as they are")
    if public_key is None:
        return
    given = signing.fingerprint(public_key)
    same_key = report.signed_by == given
    if not same_key:
        report.add("manifest.json", f"names the signing key {report.signed_by}, not the key given ({given})")
    valid = signing.signature_valid(public_key, statement, signature)
    if not valid:
        report.add(signing.SIGNATURE, "does not verify with the key given: the package was changed after "
                                      "signing, or another key signed it")
    report.signature_checked = matches and same_key and valid


def _check_layout(archive: bytes, entries: list[tuple[str, bytes]], manifest: dict[str, Any] | None,
                  report: Report, crcs: dict[str, int]) -> None:
    """Rebuild the ZIP the way plugwatch writes it; any other byte difference is a change to the archive."""
    when = None
    if manifest is not None:
        try:
            when = datetime.fromisoformat(str(manifest.get("exported_at"))).astimezone(UTC).timetuple()[:6]
        except ValueError:
            report.add("manifest.json", "exported_at is not a date")
    if when is None:
        try:
            when = zipfile.ZipFile(io.BytesIO(archive)).infolist()[0].date_time
        except (zipfile.BadZipFile, IndexError, ValueError, OSError):
            return
    rebuilt, regions = build_zip(entries, when, crcs)
    if rebuilt == archive:
        return
    if len(rebuilt) != len(archive):
        at = first_difference(rebuilt, archive)
        report.add("ZIP structure", f"the archive differs from the layout plugwatch writes from byte {at} on "
                                    "(files added, removed, repacked or edited)")
        return
    named = [where for where, _ in report.problems]
    for r in regions:
        if rebuilt[r.start:r.end] == archive[r.start:r.end]:
            continue
        if any(w == r.what or w.startswith(r.what + " ") for w in named):
            continue
        at = first_difference(rebuilt[r.start:r.end], archive[r.start:r.end])
        report.add(r.what, f"changed at byte {r.start + (at or 0)} of the archive")
