"""Disclosure packages without a database: build, verify, and find any changed byte."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from plugwatch.evidence import custody
from plugwatch.evidence.canon import canonical_json, sha256_hex
from plugwatch.evidence.chain import check_links, manifest_digest, snapshot_manifest
from plugwatch.evidence.package import PackedSnapshot, build_package, verify_package
from plugwatch.evidence.zipfmt import build_zip

REQUEST = {"id": "7", "agency": "DEA Boston", "legal_basis": "subpoena", "reference": "DEA-7",
           "scope": {"accounts": ["telegram:shop"], "identifiers": [], "date_from": None, "date_to": None},
           "emergency": True, "emergency_reason": "overdose cluster", "due_date": "2025-03-02"}


def _chain(n=3):
    prev, snaps, links = None, [], []
    for i in range(1, n + 1):
        files = {"raw.json": b'{"text": "bars %d"}\n' % i,
                 "item.json": json.dumps({"text": f"pressed bars {i} <b>", "identifiers": [
                     {"type": "wickr", "canonical": "wickr:shop"}]}).encode(),
                 "verdict.json": b'{"score": 0.9, "reasons": [{"signal": "drug", "meaning": "names a drug"}]}',
                 "media/photo.jpg": bytes(range(256)) * 4}
        m = snapshot_manifest(snapshot_id=str(i), seq=i, created_at="2025-02-01T00:00:00+00:00", item_id=f"telegram:{i}",
                              account="telegram:shop", item_class="remove", decision={"action": "remove", "actor": "lead1"},
                              files=files, prev_digest=prev)
        d = manifest_digest(m)
        links.append({"seq": i, "digest": d, "prev": prev})
        prev = d
        snaps.append(PackedSnapshot(str(i), m, files))
    return snaps, links


def _custody(creator="ann", approver="bob", role="legal"):
    c1 = custody.entry(None, "created", creator, "legal", datetime(2025, 3, 1, 9, tzinfo=UTC), "7")
    c2 = custody.entry(c1, "approved", approver, role, datetime(2025, 3, 1, 10, tzinfo=UTC), "7")
    return [c1, c2]


@pytest.fixture(scope="module")
def package():
    snaps, links = _chain()
    # snapshots 1 and 3 exported: the chain run still covers 2, so nothing can be slipped in between
    return build_package(request=REQUEST, snapshots=[snaps[0], snaps[2]], chain=links, custody=_custody(),
                         exported_by="bob", exported_role="legal", exported_at=datetime(2025, 3, 1, 11, tzinfo=UTC))


def _regions(data: bytes):
    zf = zipfile.ZipFile(io.BytesIO(data))
    _, regions = build_zip([(i.filename, zf.read(i)) for i in zf.infolist()], zf.infolist()[0].date_time)
    return regions


def _flip(data: bytes, offset: int) -> bytes:
    b = bytearray(data)
    b[offset] ^= 0x20
    return bytes(b)


def test_a_fresh_package_verifies(package):
    report = verify_package(package.data)
    assert report.ok, report.problems
    assert report.snapshots == 2 and report.custody == 3
    names = zipfile.ZipFile(io.BytesIO(package.data)).namelist()
    assert names[:5] == ["manifest.json", "custody.jsonl", "summary.html", "README.txt", "chain.jsonl"]
    assert "snapshots/3/media/photo.jpg" in names and "snapshots/2/raw.json" not in names
    assert package.sha256 == sha256_hex(package.data)


def test_building_twice_gives_the_same_bytes():
    snaps, links = _chain()
    args = dict(request=REQUEST, snapshots=snaps, chain=links, custody=_custody(), exported_by="bob",
                exported_role="legal", exported_at=datetime(2025, 3, 1, 11, tzinfo=UTC))
    assert build_package(**args).data == build_package(**args).data


def test_summary_shows_the_request_escaped_and_flags_the_emergency(package):
    html = zipfile.ZipFile(io.BytesIO(package.data)).read("summary.html").decode()
    assert "EMERGENCY REQUEST" in html and "overdose cluster" in html
    assert "DEA-7" in html and "pressed bars 3 &lt;b&gt;" in html and "<b>" not in html.split("<body>")[1]
    assert "wickr:shop" in html and "names a drug" in html


@pytest.mark.parametrize("kind", ["manifest.json", "custody.jsonl", "summary.html", "README.txt", "chain.jsonl",
                                  "snapshots/1/manifest.json", "snapshots/1/raw.json", "snapshots/3/item.json",
                                  "snapshots/3/verdict.json", "snapshots/3/media/photo.jpg"])
def test_a_changed_byte_in_any_file_is_found_and_named(package, kind):
    region = next(r for r in _regions(package.data) if r.what == kind)
    for offset in (region.start, (region.start + region.end) // 2, region.end - 2):
        report = verify_package(_flip(package.data, offset))
        assert not report.ok
        assert any(where.startswith(kind) for where, _ in report.problems), (offset, report.problems)


def test_a_changed_byte_in_zip_headers_is_found_and_named(package):
    regions = [r for r in _regions(package.data) if r.what.startswith(("ZIP header", "ZIP directory", "ZIP end"))]
    assert len(regions) == 2 * len(zipfile.ZipFile(io.BytesIO(package.data)).namelist()) + 1
    for region in regions:
        report = verify_package(_flip(package.data, region.start + 8))  # inside the fixed fields
        assert not report.ok, region.what
        assert any(region.what.split(" of ")[-1] in where or where.startswith("ZIP") for where, _ in report.problems)


def test_every_single_byte_change_is_detected(package):
    step = 7  # every 7th byte: ~2,000 checks, each a full verify; the pure part is fast
    missed = [o for o in range(0, len(package.data), step) if verify_package(_flip(package.data, o)).ok]
    assert missed == []


def _rezip(data: bytes, change=None, drop=(), add=None, compress=zipfile.ZIP_STORED) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compress) as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            content = src.read(info)
            if change and info.filename == change[0]:
                content = change[1](content)
            dst.writestr(info.filename, content)
        for name, content in (add or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def test_extra_and_missing_files_are_named(package):
    extra = verify_package(_rezip(package.data, add={"snapshots/1/extra.txt": b"x"}))
    assert ("snapshots/1/extra.txt", "in the package but not listed in manifest.json") in extra.problems
    missing = verify_package(_rezip(package.data, drop={"snapshots/3/raw.json"}))
    assert any(w == "snapshots/3/raw.json" and "missing" in m for w, m in missing.problems)


def test_a_repacked_package_with_the_same_contents_is_reported_as_repacked(package):
    report = verify_package(_rezip(package.data, compress=zipfile.ZIP_DEFLATED))
    assert [w for w, _ in report.problems] == ["ZIP structure"]


def test_a_consistently_rewritten_snapshot_still_fails_on_the_chain(package):
    """Change raw.json and fix every digest that covers it, except the chain: the chain catches it."""
    src = zipfile.ZipFile(io.BytesIO(package.data))
    files = {i.filename: src.read(i) for i in src.infolist()}
    files["snapshots/1/raw.json"] = b'{"text": "something else"}\n'
    m = json.loads(files["snapshots/1/manifest.json"])
    m["files"]["raw.json"] = {"sha256": sha256_hex(files["snapshots/1/raw.json"]), "size": len(files["snapshots/1/raw.json"])}
    files["snapshots/1/manifest.json"] = canonical_json(m)
    report = verify_package(_rezip(package.data, change=("snapshots/1/manifest.json", lambda _: files["snapshots/1/manifest.json"])))
    assert any("chain.jsonl" in what for _, what in report.problems)


def test_custody_rules_are_checked():
    snaps, links = _chain(1)
    own = build_package(request=REQUEST, snapshots=snaps, chain=links, custody=_custody(approver="ann"),
                        exported_by="ann", exported_role="legal")
    assert ("custody.jsonl", "approved by the same person who created the request") in verify_package(own.data).problems
    admin = build_package(request=REQUEST, snapshots=snaps, chain=links, custody=_custody(role="admin"),
                          exported_by="bob", exported_role="admin")
    assert any("role is not legal" in m for _, m in verify_package(admin.data).problems)


def test_not_a_zip_is_a_clear_problem():
    report = verify_package(b"hello, this is not a zip")
    assert report.problems and report.problems[0][0] == "ZIP structure"


def test_chain_links_must_be_consecutive_and_linked():
    _, links = _chain(3)
    assert check_links(links) == []
    assert check_links([links[0], links[2]])  # gap
    broken = [dict(links[0]), dict(links[1], prev="0" * 64)]
    assert check_links(broken) == [("chain seq 2", "does not point at the manifest before it")]


def test_custody_log_detects_edits_and_reordering():
    c = _custody()
    e3 = custody.entry(c[1], "exported", "bob", "legal", "2025-03-01T11:00:00+00:00", "7")
    data = custody.to_jsonl([*c, e3])
    assert custody.verify(data)[1] == []
    edited = data.replace(b'"actor":"bob"', b'"actor":"eve"', 1)
    assert any("hash does not match" in m for _, m in custody.verify(edited)[1])
    lines = data.splitlines(keepends=True)
    swapped = lines[1] + lines[0] + lines[2]
    assert custody.verify(swapped)[1]
