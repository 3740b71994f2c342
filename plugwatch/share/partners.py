"""Partners: trust level, the salt agreed with them, their TAXII secret and their two collections.

Each partner gets `to-<name>` (we publish there, hashed with their salt; they read) and
`from-<name>` (they post their indicators and feedback there; we import them as theirs).

Changes are race-free: a partner is created by one INSERT that does nothing when the name is taken
(of two simultaneous adds one wins, the other is told it exists), and every change locks the
partner's row first, so each audit entry's `from` is what the change before it left.
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
from plugwatch.store.locks import is_postgres, lock_row
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


def _salt_fields(salt_file: str | Path) -> dict[str, str]:
    """Where the salt is and its fingerprint (the salt itself is never stored)."""
    return {"salt_path": str(Path(salt_file).resolve()), "salt_id": hashing.salt_id(hashing.read_salt(salt_file))}


def set_salt(partner: Partner, salt_file: str | Path) -> None:
    for column, value in _salt_fields(salt_file).items():
        setattr(partner, column, value)


def add(session: Session, name: str, trust: str, salt_file: str | Path | None = None,
        actor: str = "cli") -> tuple[Partner, str]:
    """Create a partner; returns it and its TAXII secret (shown once, stored only as a hash)."""
    if not NAME.fullmatch(name):
        raise PartnerError(f"partner name {name!r}: use letters, digits, '.', '_' or '-' (80 at most)")
    check_trust(trust)
    secret = secrets.token_urlsafe(32)
    salt = _salt_fields(salt_file) if salt_file is not None else {"salt_path": None, "salt_id": None}
    if is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # One statement: a concurrent add of the same name waits for this one and then inserts nothing.
    new_id = session.execute(insert(Partner).values(
        name=name, trust=trust, secret_hash=secret_digest(secret), active=True, **salt)
        .on_conflict_do_nothing(index_elements=["name"]).returning(Partner.id)).scalar()
    if new_id is None:
        raise PartnerError(f"partner {name} exists already")
    partner = session.get(Partner, new_id)
    ensure_collections(session, partner)
    audit.append(session, actor, "partner added", f"partner:{name}", {"trust": trust, "salt_id": partner.salt_id})
    return partner, secret


def locked(session: Session, name: str) -> Partner:
    """The partner, its row locked until commit (changes to one partner happen one after another)."""
    partner = lock_row(session, Partner, Partner.name == name)
    if partner is None:
        raise PartnerError(f"no partner {name} (see `plugwatch share partners list`)")
    return partner


def update(session: Session, name: str, *, trust: str | None = None, salt_file: str | Path | None = None,
           active: bool | None = None, actor: str = "cli") -> dict[str, list]:
    """Change a partner's trust, salt or state; audited as {field: [before, after]} (nothing given:
    nothing changes, nothing is logged)."""
    if trust is not None:
        check_trust(trust)
    partner = locked(session, name)
    changes: dict[str, list] = {}
    if trust is not None:
        changes["trust"] = [partner.trust, trust]
        partner.trust = trust
    if salt_file is not None:
        before = partner.salt_id
        set_salt(partner, salt_file)
        if partner.salt_id != before:  # the same salt given again (each import may name it) is no change
            changes["salt_id"] = [before, partner.salt_id]
    if active is not None:
        changes["active"] = [partner.active, active]
        partner.active = active
    if changes:
        audit.append(session, actor, "partner changed", f"partner:{name}", changes)
    return changes


def new_secret(session: Session, partner: Partner, actor: str = "cli") -> str:
    """Replace the partner's TAXII secret; returns the new one (shown once)."""
    partner = locked(session, partner.name)
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
