"""Identifiers that must never link accounts: platform home pages and official accounts, URL
shorteners' and link-in-bio services' bare domains, webmail domains, documentation placeholders.

Two accounts that both link `instagram.com`, `bit.ly` or `t.me/telegram` have nothing in common, so
these never join a seller network. The list is package data (`plugwatch/data/generic_identifiers.tsv`);
the second rule, identifiers shared by very many accounts, needs the whole data set and lives in
`plugwatch.network.identity`.

    is_generic("domain", "bit.ly")                 -> True   (everyone's shortener)
    is_generic("url", "https://bit.ly/3xYz")       -> False  (one short link: someone's own)
    is_generic("url", "https://t.me/dealer")       -> True   (the handle `telegram:dealer` links instead)
    is_generic("email", "plug@gmail.com")          -> False  (an address is its owner's; the domain is not)
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from plugwatch.text.identifier_types import Family, linking_types, of_family

DATA_FILE = "generic_identifiers.tsv"
HOST_CATEGORIES = frozenset({"platform", "shortener", "linkinbio", "hosting", "webmail", "search", "example"})
# Hosts whose every URL is generic; on the others only the bare root is.
_ALL_URLS = frozenset({"platform", "example"})
# E-mail addresses on these hosts are nobody's own contact (support@telegram.org, me@example.com).
_EMAIL_HOSTS = frozenset({"platform", "example"})
_NO_REPLY = frozenset({"noreply", "no-reply", "donotreply", "do-not-reply", "postmaster", "mailer-daemon"})
_HOST_PREFIXES = ("www.", "m.", "mobile.")


class GenericList:
    """Hosts by category and exact (type, canonical) pairs, as read from the TSV."""

    def __init__(self, hosts: dict[str, str], exact: dict[tuple[str, str], str]):
        self.hosts = hosts
        self.exact = exact

    @classmethod
    def parse(cls, lines, source: str = DATA_FILE) -> GenericList:
        hosts: dict[str, str] = {}
        exact: dict[tuple[str, str], str] = {}
        for number, line in enumerate(lines, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3 or not all(p.strip() for p in parts):
                raise ValueError(f"{source}:{number}: expected kind<TAB>value<TAB>category, got {line!r}")
            kind, value, category = (p.strip() for p in parts)
            if kind == "host":
                if category not in HOST_CATEGORIES:
                    raise ValueError(f"{source}:{number}: unknown host category {category!r}")
                hosts[value.lower()] = category
            else:
                exact[(kind, value)] = category
        return cls(hosts, exact)

    def host_category(self, host: str) -> str | None:
        """Category of `host` or of the nearest listed domain above it (a.b.example.com -> example)."""
        host = host.lower().rstrip(".")
        for prefix in _HOST_PREFIXES:
            if host.startswith(prefix):
                host = host[len(prefix) :]
                break
        while host:
            found = self.hosts.get(host)
            if found is not None:
                return found
            dot = host.find(".")
            if dot < 0:
                return None
            host = host[dot + 1 :]
        return None

    def is_generic(self, type: str, canonical: str) -> bool:
        if (type, canonical) in self.exact:
            return True
        if type == "domain":
            return self.host_category(canonical) is not None
        if type == "url":
            return self._generic_url(canonical)
        if type == "email":
            local, _, domain = canonical.rpartition("@")
            return local in _NO_REPLY or self.host_category(domain) in _EMAIL_HOSTS
        if (type, canonical.lower()) in self.exact:  # handles are lower case; a hand-written list may not be
            return True
        return False

    def _generic_url(self, canonical: str) -> bool:
        try:
            parts = urlsplit(canonical if "://" in canonical else "http://" + canonical)
            host = parts.hostname or ""
        except ValueError:
            return False
        category = self.host_category(host)
        if category is None:
            return False
        if category in _ALL_URLS:
            return True
        # A bare root (bit.ly/, linktr.ee/) is the service; a path or sub-domain is someone's own page.
        bare = host.lower()
        for prefix in _HOST_PREFIXES:
            if bare.startswith(prefix):
                bare = bare[len(prefix) :]
                break
        return bare in self.hosts and parts.path in ("", "/") and not parts.query


@lru_cache(maxsize=1)
def default_list() -> GenericList:
    text = resources.files("plugwatch.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return GenericList.parse(text.splitlines(), DATA_FILE)


def is_generic(type: str, canonical: str) -> bool:
    """True for an identifier that must never link accounts (see the module docstring)."""
    return default_list().is_generic(type, canonical)


# Identifier types that say who someone is or how to pay them (identifier_types.py): these link accounts.
CONTACT_TYPES = of_family(Family.CONTACT)
PAYMENT_TYPES = of_family(Family.PAYMENT, Family.WALLET)
DIRECT_TYPES = CONTACT_TYPES | PAYMENT_TYPES | of_family(Family.PHONE, Family.EMAIL)
WEB_TYPES = of_family(Family.URL, Family.DOMAIN)
LINK_TYPES = linking_types()


def is_direct(identifier: Mapping[str, Any]) -> bool:
    """A contact, payment, phone or e-mail identifier of someone's own (an output record's identifier):
    "join t.me/telegram" names Telegram's official channel, which tells nothing of an offer."""
    kind, canonical = identifier.get("type"), identifier.get("canonical")
    # A record made by another tool may carry a number or nothing there: only text can be on the list.
    return kind in DIRECT_TYPES and not (isinstance(canonical, str) and is_generic(kind, canonical))


def says_who(type: str, canonical: str, valid: bool | None = None) -> bool:
    """The one rule the identity graph (`is_linkable`) and shared indicators (`share export`) both apply,
    whatever the identifier's type: it has a canonical form, the extractor did not find it invalid
    (`valid: false`: a fictional phone number, also when given for WhatsApp or Signal; a wallet failing
    its checksum; a malformed Signal username), and it is not generic. Invalid values are shared by
    strangers and match ordinary posts."""
    if not canonical or valid is False:
        return False
    return not is_generic(type, canonical)


def is_linkable(type: str, canonical: str, valid: bool | None = None) -> bool:
    """An identifier that may join two accounts: a linking type that passes `says_who`."""
    return type in LINK_TYPES and says_who(type, canonical, valid)


def node_key(type: str, canonical: str) -> str:
    """One string per identifier: handles already read `telegram:name`; others get their type prefixed
    (`phone:+1415...`, `email:a@b.com`, `domain:shop.cc`). Equal to the account key `platform:handle`
    for a platform handle, so an account and its own handle are one node."""
    return canonical if canonical.startswith(type + ":") else f"{type}:{canonical}"
