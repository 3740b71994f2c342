"""Disclosure packages without a database: build, sign, verify, find any changed byte, catch a forgery."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime

import pytest

from plugwatch.evidence import custody, signing
from plugwatch.evidence.canon import canonical_json, sha256_hex
from plugwatch.evidence.chain import check_links, manifest_digest, snapshot_manifest
from plugwatch.evidence.package import PackedSnapshot, build_package, verify_package
from plugwatch.evidence.zipfmt import build_zip

REQUEST = {"id": "7", "agency": "DEA Boston", "legal_basis": "subpoena", "reference": "DEA-7",
           "scope": {"accounts": ["telegram:shop"], "identifiers": [], "date_from": None, "date_to": None},
           "emergency": True, "emergency_reason": "overdose cluster", "due_date": "2025-03-02"}


def _chain(n=3, raw=b'{"text": "bars %d"}\n'):
    prev, snaps, links = None, [], []
    for i in range(1, n + 1):
        files = {"raw.json": raw % i,
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
def org(tmp_path_factory):
    """The exporting organisation's key pair: (signer, public key, path of the public key file)."""
    key = tmp_path_factory.mktemp("keys") / "org.key"
    _, public, _ = signing.generate_keypair(key)
    return signing.load_signer(key), signing.load_public_key(public), public


@pytest.fixture(scope="module")
def package(org):
    snaps, links = _chain()
    # snapshots 1 and 3 exported: the chain run still covers 2, so nothing can be slipped in between
    return build_package(request=REQUEST, snapshots=[snaps[0], snaps[2]], chain=links, custody=_custody(),
                         exported_by="bob", exported_role="legal", exported_at=datetime(2025, 3, 1, 11, tzinfo=UTC),
                         signer=org[0])


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
    assert names[:7] == ["manifest.json", "custody.jsonl", "signature.sha256", "signature.sig", "summary.html",
                         "README.txt", "chain.jsonl"]
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


@pytest.mark.parametrize("kind", ["manifest.json", "custody.jsonl", "signature.sha256", "signature.sig",
                                  "summary.html", "README.txt", "chain.jsonl",
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


# ------------------------------------------------------------------------------------------ signatures


def _forged(org_fingerprint=None, signer=None):
    """What a forger does with plugwatch's own helpers: change a snapshot and the custody log (here: who
    approved), then recompute every digest: snapshot manifest, chain, manifest.json, custody hashes."""
    snaps, links = _chain(raw=b'{"text": "something else %d"}\n')
    return build_package(request=REQUEST, snapshots=[snaps[0], snaps[2]], chain=links,
                         custody=_custody(approver="carl"), exported_by="carl", exported_role="legal",
                         exported_at=datetime(2025, 3, 1, 11, tzinfo=UTC), signer=signer).data


def test_a_signed_package_verifies_with_the_organisations_public_key(package, org):
    signer, public, _ = org
    report = verify_package(package.data, public_key=public)
    assert report.ok and report.signature_checked, report.problems
    assert report.signed_by == signer.fingerprint == package.signed_by
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(package.data)).read("manifest.json"))
    assert manifest["signature"] == {"algorithm": "Ed25519", "key_fingerprint": signer.fingerprint,
                                     "files": ["signature.sha256", "signature.sig"]}
    assert package.export_entry["details"]["signing_key"] == signer.fingerprint  # the custody log names the key
    html = zipfile.ZipFile(io.BytesIO(package.data)).read("summary.html").decode()
    assert f"<td>{signer.fingerprint}</td>" in html
    assert "NOT SIGNED" in zipfile.ZipFile(io.BytesIO(_forged())).read("summary.html").decode()
    unchecked = verify_package(package.data)  # without the key: integrity only, and the report says so
    assert unchecked.ok and not unchecked.signature_checked and unchecked.signed_by == signer.fingerprint


def test_a_forged_package_passes_integrity_but_not_the_signature_check(org, tmp_path):
    _, public, _ = org
    forged = _forged()
    assert verify_package(forged).ok  # every digest recomputed: integrity alone cannot tell
    report = verify_package(forged, public_key=public)
    assert not report.ok and not report.signature_checked
    assert ("package", "not signed: nothing ties it to the key given (it may have been made by anyone)") in report.problems
    # signed with the forger's own key: the manifest names another key and the signature does not verify
    other = tmp_path / "forger.key"
    signing.generate_keypair(other)
    own = verify_package(_forged(signer=signing.load_signer(other)), public_key=public)
    assert {w for w, _ in own.problems} == {"manifest.json", "signature.sig"}
    assert any("not the key given" in m for _, m in own.problems)


def test_a_genuine_signature_does_not_cover_changed_files(package, org):
    """The forger keeps the organisation's signature files and fingerprint: they sign other bytes."""
    signer, public, _ = org
    genuine = zipfile.ZipFile(io.BytesIO(package.data))

    class Replay:
        fingerprint = signer.fingerprint

        @staticmethod
        def sign(_data):
            return genuine.read("signature.sig")

    forged = _forged(signer=Replay())
    assert any(w == "signature.sig" for w, _ in verify_package(forged, public_key=public).problems)
    # the statement copied too: it no longer lists manifest.json's and custody.jsonl's digests
    copied = _rezip(forged, change=("signature.sha256", lambda _: genuine.read("signature.sha256")))
    problems = verify_package(copied, public_key=public).problems
    assert any(w == "signature.sha256" and "as they are" in m for w, m in problems)


def test_a_package_signed_by_another_organisation_is_named(package, tmp_path):
    key = tmp_path / "someone-else.key"
    _, pub, fp = signing.generate_keypair(key)
    report = verify_package(package.data, public_key=signing.load_public_key(pub))
    assert any(f"not the key given ({fp})" in m for _, m in report.problems)


@pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("sha256sum")), reason="needs openssl and sha256sum")
def test_the_package_readme_checks_work_without_plugwatch(package, org, tmp_path):
    _, _, public_file = org
    zipfile.ZipFile(io.BytesIO(package.data)).extractall(tmp_path)
    sig = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public_file), "-rawin",
                          "-in", "signature.sha256", "-sigfile", "signature.sig"], cwd=tmp_path, capture_output=True)
    assert sig.returncode == 0 and b"Signature Verified Successfully" in sig.stdout, sig.stderr
    sums = subprocess.run(["sha256sum", "--strict", "-c", "signature.sha256"], cwd=tmp_path, capture_output=True)
    assert sums.returncode == 0, sums.stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", str(public_file), "-outform", "DER"],
                         capture_output=True, check=True).stdout
    assert "sha256:" + hashlib.sha256(der).hexdigest() == org[0].fingerprint  # the fingerprint as documented
    (tmp_path / "manifest.json").write_bytes(b"{}")
    assert subprocess.run(["sha256sum", "-c", "signature.sha256"], cwd=tmp_path, capture_output=True).returncode != 0


def test_keys_are_owner_only_and_never_overwritten(tmp_path, monkeypatch):
    from plugwatch.errors import UserError

    key = tmp_path / "k" / "org.key"
    private, public, fp = signing.generate_keypair(key)
    assert private.stat().st_mode & 0o777 == 0o600 and public.stat().st_mode & 0o777 == 0o644
    before = private.read_bytes()
    with pytest.raises(UserError, match="exists"):
        signing.generate_keypair(key)
    assert private.read_bytes() == before and signing.load_signer(key).fingerprint == fp
    private.chmod(0o644)
    with pytest.raises(UserError, match="readable by others"):
        signing.load_signer(key)
    with pytest.raises(UserError, match="is a private key"):
        signing.load_public_key(private)
    with pytest.raises(UserError) as mixed_up:  # the .pub given where the private key is wanted
        signing.load_signer(public)
    assert str(mixed_up.value) == f"{public} is a public key: give the private signing key it was made with ({key})"
    monkeypatch.delenv(signing.KEY_ENV, raising=False)
    with pytest.raises(UserError, match="plugwatch evidence keygen KEYFILE"):
        signing.load_signer()
