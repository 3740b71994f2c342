"""Every bundle plugwatch writes or reads is checked with stix2-validator, offline."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
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
