"""Partners: trust level, the salt agreed with them, their TAXII secret and their two collections.

Each partner gets `to-<name>` (we publish there, hashed with their salt; they read) and
`from-<name>` (they post their indicators and feedback there; we import them as theirs).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugwatch.share import hashing
from plugwatch.store import audit
from plugwatch.store.sharing_tables import TRUST_LEVELS, Partner, TaxiiAccess, TaxiiCollection

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


class PartnerError(ValueError):
    pass


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_trust(trust: str) -> str:
    if trust not in TRUST_LEVELS:
        raise PartnerError(f"trust is one of {', '.join(TRUST_LEVELS)}, got {trust!r}")
    return trust


def get(session: Session, name: str) -> Partner | None:
    return session.scalars(select(Partner).where(Partner.name == name)).one_or_none()


def collection_alias(direction: str, name: str) -> str:
    return f"{direction}-{name}"


def ensure_collections(session: Session, partner: Partner) -> None:
    for direction, read, write, title in (("to", True, False, "indicators from us to {}"),
                                          ("from", True, True, "indicators and feedback from {}")):
        alias = collection_alias(direction, partner.name)
        coll = session.scalars(select(TaxiiCollection).where(TaxiiCollection.alias == alias)).one_or_none()
        if coll is None:
            coll = TaxiiCollection(id=str(uuid.uuid4()), alias=alias, title=title.format(partner.name),
                                   description="plugwatch signal sharing (STIX 2.1)")
            session.add(coll)
            session.flush()
        if session.get(TaxiiAccess, (coll.id, partner.id)) is None:
            session.add(TaxiiAccess(collection_id=coll.id, partner_id=partner.id, can_read=read, can_write=write))
    session.flush()


def set_salt(partner: Partner, salt_file: str | Path) -> bytes:
    salt = hashing.read_salt(salt_file)
    partner.salt_path = str(Path(salt_file).resolve())
    partner.salt_id = hashing.salt_id(salt)
    return salt


def add(session: Session, name: str, trust: str, salt_file: str | Path | None = None,
        actor: str = "cli") -> tuple[Partner, str]:
    """Create a partner; returns it and its TAXII secret (shown once, stored only as a hash)."""
    if not NAME.fullmatch(name):
        raise PartnerError(f"partner name {name!r}: use letters, digits, '.', '_' or '-' (80 at most)")
    if get(session, name) is not None:
        raise PartnerError(f"partner {name} exists already")
    secret = secrets.token_urlsafe(32)
    partner = Partner(name=name, trust=check_trust(trust), secret_hash=secret_digest(secret), active=True)
    if salt_file is not None:
        set_salt(partner, salt_file)
    session.add(partner)
    session.flush()
    ensure_collections(session, partner)
    audit.append(session, actor, "partner added", f"partner:{name}", {"trust": trust, "salt_id": partner.salt_id})
    return partner, secret


def new_secret(session: Session, partner: Partner, actor: str = "cli") -> str:
    secret = secrets.token_urlsafe(32)
    partner.secret_hash = secret_digest(secret)
    audit.append(session, actor, "partner secret replaced", f"partner:{partner.name}", {})
    return secret


def authenticate(session: Session, name: str, secret: str) -> Partner | None:
    partner = get(session, name)
    if partner is None or not partner.active or not partner.secret_hash:
        secret_digest(secret)  # same work either way
        return None
    return partner if hmac.compare_digest(partner.secret_hash, secret_digest(secret)) else None
