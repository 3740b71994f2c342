"""The TAXII 2.1 endpoint, driven by the taxii2-client library against the running service:
discovery, collections per partner, objects with paging and added_after, adding an envelope and
reading its status, and per-partner credentials and permissions."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import requests
from sqlalchemy import select
from taxii2client.exceptions import AccessError
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from plugwatch.share import hashing, partners, stix, taxii_store
from plugwatch.share.export import export_bundle
from plugwatch.store.sharing_tables import WatchEntry, WatchMatch
from plugwatch.wiring import create_app
from tests.servers import serving
from tests.share_helpers import confirm, ingest, record

SALT = b"k" * 32


@pytest.fixture
def service(db_url, tmp_path):
    app = create_app(db_url, detector=object())
    salt_file = tmp_path / "b.salt"
    hashing.write_salt(salt_file, SALT)
    with app.state.store.session() as s:
        ingest(s, [record("x", "1", "dealer", "tele: @ExoticZ_Plug, call +1 415 555 2671"),
                   record("x", "2", "dealer", "wickr: plugshop99 menu \U0001f343 $40")])
        confirm(s, "x:1")
        confirm(s, "x:2")
        _, secret_b = partners.add(s, "platform-b", "auto", salt_file)
        _, secret_c = partners.add(s, "platform-c", "notify-only")
        bundle = export_bundle(s, stix.ExportOptions(organisation="A", salt=SALT), partner_name="platform-b").bundle
        taxii_store.publish(s, "to-platform-b", bundle["objects"])
    with serving(app) as base:
        yield base, {"platform-b": secret_b, "platform-c": secret_c}, bundle, app


def test_taxii2_client_discovers_reads_and_pages(service):
    base, secrets, bundle, _ = service
    server = Server(f"{base}/taxii2/", user="platform-b", password=secrets["platform-b"])
    assert server.title == "plugwatch signal sharing"
    root = server.default
    assert isinstance(root, ApiRoot) and "application/taxii+json;version=2.1" in root.versions
    aliases = {c.alias: c for c in root.collections}
    assert set(aliases) == {"to-platform-b", "from-platform-b"}  # nothing of platform-c's
    outbound = aliases["to-platform-b"]
    assert outbound.can_read and not outbound.can_write
    envelope = outbound.get_objects()
    ids = {o["id"] for o in envelope["objects"]}
    assert ids == {o["id"] for o in bundle["objects"]}
    assert "exoticz_plug" not in str(envelope)
    pages = list(as_pages(outbound.get_objects, per_request=5))
    assert sum(len(p.get("objects", [])) for p in pages) == len(bundle["objects"])
    assert all(p["more"] for p in pages[:-1]) and not pages[-1]["more"]
    indicators = outbound.get_objects(type="indicator")["objects"]
    assert indicators and all(o["type"] == "indicator" for o in indicators)
    manifest = outbound.get_manifest()
    last = max(m["date_added"] for m in manifest["objects"])
    assert "objects" not in outbound.get_objects(added_after=last)


def test_partner_posts_envelope_and_gets_status(service):
    base, secrets, bundle, app = service
    # platform-b sends back one indicator of its own (clear) and an opinion on one of ours.
    ours = next(o for o in bundle["objects"] if o["type"] == "indicator")
    now = datetime.now(UTC)
    theirs = stix.build_bundle([stix.Aggregate("telegram", "telegram:exoticz_plug", now, now, {"telegram"}, 2,
                                               {"telegram:x"})],
                               stix.ExportOptions(organisation="B", tlp="green"))
    opinion = {"type": "opinion", "spec_version": "2.1", "id": "opinion--6f1a8b0e-3b52-4d4c-9d0a-2f7b4e1c5a90",
               "created": "2024-06-01T00:00:00.000Z", "modified": "2024-06-01T00:00:00.000Z",
               "opinion": "agree", "object_refs": [ours["id"]]}
    bad = {"type": "indicator", "id": "indicator--not-a-uuid"}
    server = Server(f"{base}/taxii2/", user="platform-b", password=secrets["platform-b"])
    inbound = next(c for c in server.default.collections if c.alias == "from-platform-b")
    assert inbound.can_write
    status = inbound.add_objects({"objects": theirs["objects"] + [opinion, bad]})
    assert status.status == "complete"
    assert status.success_count == len(theirs["objects"]) + 1 and status.failure_count == 1
    assert status.failures[0]["id"] == "indicator--not-a-uuid"
    status.refresh()
    assert status.total_count == len(theirs["objects"]) + 2
    with app.state.store.session() as s:
        entries = list(s.scalars(select(WatchEntry)))
        assert [(e.identifier_type, e.value) for e in entries] == [("telegram", "telegram:exoticz_plug")]
        assert {m.item_id for m in s.scalars(select(WatchMatch))} == {"x:1"}  # matched our stored item
        from plugwatch.store.sharing_tables import ShareOpinion

        op = s.scalars(select(ShareOpinion)).one()
        assert (op.direction, op.opinion, op.indicator_id) == ("in", "agree", ours["id"])


def test_credentials_and_permissions(service):
    base, secrets, _, _ = service
    with pytest.raises(requests.HTTPError, match="401"):
        Server(f"{base}/taxii2/", user="platform-b", password="wrong").refresh()
    r = httpx.get(f"{base}/taxii2/api/collections/", headers={"Accept": "application/taxii+json;version=2.1"})
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/taxii+json")
    b = Server(f"{base}/taxii2/", user="platform-b", password=secrets["platform-b"])
    outbound = next(c for c in b.default.collections if c.alias == "to-platform-b")
    # platform-c cannot see platform-b's collection, nor write to it
    other = Collection(outbound.url, user="platform-c", password=secrets["platform-c"])
    with pytest.raises(requests.HTTPError, match="404"):
        other.get_objects()
    readonly = Collection(outbound.url, user="platform-b", password=secrets["platform-b"])
    with pytest.raises(AccessError):  # the client reads can_write from the collection first
        readonly.add_objects({"objects": []})
    r = httpx.post(f"{outbound.url}objects/", json={"objects": []}, auth=("platform-b", secrets["platform-b"]),
                   headers={"Content-Type": "application/taxii+json;version=2.1"})
    assert r.status_code == 403 and r.json()["http_status"] == "403"


def test_envelope_members_that_are_not_stix_objects_are_failures(service):
    """A number or an object without a string id in a posted envelope used to crash the validator
    (HTTP 500): each is a failure of the status, named by its place, and the rest is stored."""
    base, secrets, _, _ = service
    good = {"type": "indicator", "spec_version": "2.1", "id": "indicator--44af6c39-c09b-49c5-9de2-394224b04990",
            "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z", "name": "shop",
            "description": "a shop", "pattern": "[domain-name:value = 'evil-shop.net']", "pattern_type": "stix",
            "valid_from": "2025-01-01T00:00:00Z"}
    r = httpx.post(f"{base}/taxii2/api/collections/from-platform-b/objects/",
                   json={"objects": [5, good, {"type": "indicator", "id": 7}]},
                   auth=("platform-b", secrets["platform-b"]),
                   headers={"Content-Type": "application/taxii+json;version=2.1",
                            "Accept": "application/taxii+json;version=2.1"})
    assert r.status_code == 202, r.text
    status = r.json()
    assert status["success_count"] == 1
    assert [f["id"] for f in status["failures"]] == ["objects[0]", "objects[2]"]
