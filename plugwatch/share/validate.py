"""Every bundle plugwatch writes or reads is checked with stix2-validator, offline."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stix2validator import ValidationError, ValidationOptions, validate_instance

OWN_SCO_PREFIXES = ("x-plugwatch-phone-number--", "x-plugwatch-crypto-wallet--", "x-plugwatch-contact-handle--")


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def _options(enforce_refs: bool) -> ValidationOptions:
    # No network: interoperability checks and external schema fetches stay off.
    return ValidationOptions(version="2.1", strict=False, interop=False, enforce_refs=enforce_refs, silent=True)


def validate_bundle(bundle: dict[str, Any] | str, enforce_refs: bool = True) -> Report:
    """Errors and warnings as the validator words them (each names the object). `enforce_refs`: every
    reference must point into the bundle (true of what we export; feedback refers to others' objects)."""
    instance = json.loads(bundle) if isinstance(bundle, str) else bundle
    report = Report()
    if isinstance(instance, dict) and instance.get("type") == "bundle" and "id" not in instance:
        instance = {**instance, "id": f"bundle--{uuid.uuid4()}"}  # a TAXII envelope wrapped for checking
    if isinstance(instance, dict) and isinstance(instance.get("objects"), list):
        # stix2-validator raises (TypeError, KeyError) on a member that is not an object or has no
        # string type and id: such members are errors of their own, and the rest is still checked.
        kept = []
        for i, obj in enumerate(instance["objects"]):
            what = _not_an_object(obj)
            if what is None:
                kept.append(obj)
            else:
                report.errors.append(f"{object_label(obj, i)}: {what}")
        if len(kept) < len(instance["objects"]):
            instance = {**instance, "objects": kept}
    try:
        result = validate_instance(instance, _options(enforce_refs))
    except ValidationError as e:
        report.errors.append(f"{instance.get('id', 'bundle') if isinstance(instance, dict) else 'bundle'}: {e}")
        return report
    report.errors.extend(str(e) for e in result.errors or ())
    # Our own SCOs carry the UUIDv5 ids the spec asks of SCOs; the validator cannot know they are SCOs
    # and expects version 4 of a custom object, so that one warning is dropped for them alone.
    report.warnings.extend(str(w) for w in result.warnings or ()
                           if not (str(w).startswith(OWN_SCO_PREFIXES) and "{103}" in str(w)))
    if not result.is_valid and not report.errors:
        report.errors.append(f"{instance.get('id', 'bundle')}: rejected by stix2-validator")
    return report


def _not_an_object(obj: Any) -> str | None:
    """Why a bundle member cannot be checked as a STIX object, or None."""
    if not isinstance(obj, dict):
        return f"a JSON {_json_kind(obj)}, not a STIX object"
    for key in ("type", "id"):
        if not isinstance(obj.get(key), str):
            return f"no {key!r} string, so not a STIX object" if key not in obj else \
                f"{key!r} is a {_json_kind(obj[key])}, not a string"
    return None


def object_label(obj: Any, index: int) -> str:
    """How an error names a bundle member: its id, else its place in the list."""
    oid = obj.get("id") if isinstance(obj, dict) else None
    return oid if isinstance(oid, str) and oid else f"objects[{index}]"


class BundleError(ValueError):
    """The file is not a STIX bundle we can read at all."""


def load_bundle(text: str, where: str = "bundle") -> dict[str, Any]:
    """The bundle in `text`, or a BundleError that says what the file is instead."""
    if not text.strip():
        raise BundleError(f"{where}: empty file; a STIX bundle is one JSON object")
    try:
        bundle = json.loads(text)
    except json.JSONDecodeError as e:
        if e.msg == "Extra data":
            raise BundleError(f"{where}: line {e.lineno}: not JSON (a second JSON value follows the first: a JSON "
                              "Lines file such as scan output?); a STIX bundle is one JSON object") from None
        raise BundleError(f"{where}: line {e.lineno}: not JSON ({e.msg})") from None
    what = _not_a_bundle(bundle)
    if what:
        raise BundleError(f"{where}: not a STIX bundle: {what}; a bundle is a JSON object with \"type\": "
                          "\"bundle\" and a list of \"objects\"")
    return bundle


def _not_a_bundle(doc: Any) -> str | None:
    """What keeps `doc` from being a bundle, in words, or None."""
    if not isinstance(doc, dict):
        return f"the file holds a JSON {_json_kind(doc)}"
    if "type" not in doc:
        return "the object has no \"type\""
    if doc["type"] != "bundle":
        return f"its \"type\" is {doc['type']!r} (one STIX object, not a bundle of them?)"
    if not isinstance(doc.get("objects"), list):
        return "\"objects\" is " + ("missing" if "objects" not in doc else f"a JSON {_json_kind(doc['objects'])}")
    return None


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "true/false", type(None): "null"}.get(
        type(value), "number")


def read_bundle(path: Path) -> dict[str, Any]:
    """The bundle in the file at `path`; BundleError naming the file and the reason when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise BundleError(f"{path}: a folder, not a bundle file") from None
    except OSError as e:
        raise BundleError(f"cannot read {path}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise BundleError(f"{path}: not UTF-8 text (byte {e.object[e.start]:#04x} at offset {e.start}); "
                          "a STIX bundle is a JSON file") from None
    return load_bundle(text, str(path))
