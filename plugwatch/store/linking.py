"""Seller networks kept current at ingest, inside the ingest transaction.

`plugwatch networks` builds the identity graph over a whole data set; the review queue needs the same
grouping as items arrive. For each batch:

1. each record's *linking* identifiers, by the networks stage's own rules (`AccountTable.add_links`: not
   from requests to buy, a same-platform @handle only after a contact cue, web links only in offers,
   no invalid phones, nothing generic), are marked `links` on their `account_identifiers` row;
2. starting from the accounts that gained a linking identifier (or that are the own handle of one),
   the connected part of the graph is read back with a few set-based statements per hop: accounts,
   the linking identifiers they hold, the other holders of those, and the members of the networks
   already stored for any of them. As in `plugwatch.network.identity`, an account and its own handle
   are one node (`telegram:plug` the account is `telegram:plug` the identifier), and an identifier held
   by more than `frequency_cap(accounts)` accounts does not link;
3. union-find over what was read gives the networks; each gets `identity.network_id(members)`, the id
   `plugwatch networks` gives the same members. Changed `Account.network_id`s are written, and the open
   review tasks of those accounts move to the group `network:<id>` (or back to the account).

Identifiers in an account's bio link it too, by the networks stage's bio rule (`bio_links`). Networks
merge when a new identifier bridges them; an identifier that crosses the frequency cap splits what it
alone held together. Not mirrored: the networks stage's limit of 64 linking identifiers per account.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.orm import Session

from plugwatch.network.accounts import AccountStats, AccountTable, bio_links, is_offer, is_request
from plugwatch.network.generic import node_key
from plugwatch.network.identity import MIN_CAP, frequency_cap, network_id
from plugwatch.store.schema import Account, AccountIdentifier, Identifier, Item, ReviewTask

CHUNK = 500
MAX_HOPS = 50  # a guard: real networks are a few hops wide; each hop is a handful of statements

_ACCOUNTS = Account.__table__
_HOLDS = AccountIdentifier.__table__
_TASKS = ReviewTask.__table__


def _chunks(seq: Iterable, n: int = CHUNK) -> Iterable[list]:
    seq = sorted(seq)
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def linking_identifiers(rec: dict[str, Any]) -> set[tuple[str, str]]:
    """(type, canonical) of the identifiers in `rec` that tie its author to them, decided exactly as
    `plugwatch networks` decides (it is the same code: AccountTable.add_links)."""
    author = rec.get("author")
    if not author or not isinstance(author, str) or is_request(rec):  # a buyer naming a seller is not them
        return set()
    idents = rec.get("identifiers") or ()
    if not idents:
        return set()
    stats = AccountStats(author, rec.get("platform") or author.split(":", 1)[0])
    AccountTable.add_links(stats, rec, is_offer(rec), scored=rec.get("score") is not None)
    if not stats.links:
        return set()
    out = set()
    for ident in idents:
        kind, canonical = ident.get("type"), ident.get("canonical")
        if isinstance(kind, str) and isinstance(canonical, str) and node_key(kind, canonical) in stats.links:
            out.add((kind, canonical))
    return out


def bio_linking_identifiers(rec: dict[str, Any]) -> set[tuple[str, str]]:
    """(type, canonical) of the identifiers in the author's bio, as `rec` shows it, that tie the author."""
    author, bio = rec.get("author"), (rec.get("account") or {}).get("bio")
    if not author or not isinstance(author, str) or not bio or not isinstance(bio, str):
        return set()
    return set(bio_links(rec.get("platform") or author.split(":", 1)[0], bio))


def link_batch(session: Session, records: list[dict[str, Any]],
               ident_ids: dict[tuple[str, str], int]) -> dict[str, str | None]:
    """Mark the linking identifiers of freshly stored `records` (their rows already written, with
    `ident_ids` mapping (type, canonical) to identifier ids) and bring the networks they touch up to
    date. Returns {account key: new network id or None} for the accounts whose network changed."""
    pairs: set[tuple[str, int]] = set()
    for rec in records:
        for pair in linking_identifiers(rec) | bio_linking_identifiers(rec):
            ident_id = ident_ids.get(pair)
            if ident_id is not None:
                pairs.add((rec["author"], ident_id))
    new_pairs = _mark(session, pairs)
    seeds = {a for a, _ in new_pairs}
    authors = {rec["author"] for rec in records if rec.get("author")}
    seeds |= _unjoined_handles(session, authors - seeds)
    if not seeds:
        return {}
    return _relink(session, seeds, new_pairs)


def _mark(session: Session, pairs: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """Set `links` on the rows of `pairs`; the pairs that were not linking before."""
    if not pairs:
        return set()
    done: set[tuple[str, int]] = set()
    accounts = {a for a, _ in pairs}
    ids = sorted({i for _, i in pairs})
    for chunk in _chunks(accounts):
        done.update(session.execute(select(_HOLDS.c.account_key, _HOLDS.c.identifier_id).where(
            _HOLDS.c.account_key.in_(chunk), _HOLDS.c.identifier_id.in_(ids), _HOLDS.c.links)).all())
    new = pairs - done
    if new:
        session.execute(update(_HOLDS).where(_HOLDS.c.account_key == bindparam("a"),
                                             _HOLDS.c.identifier_id == bindparam("i")).values(links=True),
                        [{"a": a, "i": i} for a, i in sorted(new)])
    return new


# An identifier that is an account's own handle: same type as the platform, canonical = key (handles
# read `platform:name`, like account keys). Joined on (type, canonical), the identifiers' unique index.
_OWN_HANDLE = and_(Identifier.type == Account.platform, Identifier.canonical == Account.key)


def _unjoined_handles(session: Session, authors: set[str]) -> set[str]:
    """Accounts in no network whose own handle other accounts already link to (the Telegram account
    `telegram:plug` posting for the first time after X accounts gave `tg: @plug`)."""
    found: set[str] = set()
    for chunk in _chunks(authors):
        found.update(session.scalars(
            select(Account.key).join(Identifier, _OWN_HANDLE)
            .join(_HOLDS, and_(_HOLDS.c.identifier_id == Identifier.id, _HOLDS.c.links))
            .where(Account.key.in_(chunk), Account.network_id.is_(None)).distinct()))
    return found


class _Graph:
    """The part of the identity graph reachable from some accounts, read hop by hop."""

    def __init__(self, session: Session, added: dict[int, int]):
        self.session = session
        self.added = added  # identifier id -> accounts that began to link it in this batch
        self.network: dict[str, str | None] = {}  # every account read -> its stored network id
        self.seen: set[int] = set()  # identifiers read
        self.holders: dict[int, set[str]] = {}  # linking identifier id -> accounts joined through it
        self.nets_read: set[str] = set()
        self._cap: int | None = None

    def cap(self) -> int:
        if self._cap is None:
            self._cap = frequency_cap(self.session.scalar(select(func.count()).select_from(Account)) or 0)
        return self._cap

    def holder_counts(self, ids: Iterable[int]) -> tuple[dict[int, int], dict[int, str]]:
        """Accounts holding each identifier, as identity.build_networks counts them (the accounts that
        link it, plus the account that is the identifier when there is one), and those own accounts."""
        counts: dict[int, int] = {}
        owners: dict[int, str] = {}
        for chunk in _chunks(ids):
            for i, n, owner in self.session.execute(
                    select(Identifier.id, func.count(), Account.key)
                    .join(_HOLDS, and_(_HOLDS.c.identifier_id == Identifier.id, _HOLDS.c.links))
                    .outerjoin(Account, _OWN_HANDLE).where(Identifier.id.in_(chunk))
                    .group_by(Identifier.id, Account.key)):
                counts[i] = n + (owner is not None)
                if owner is not None:
                    owners[i] = owner
        return counts, owners

    def read(self, seeds: set[str]) -> None:
        s = self.session
        frontier, nets = set(seeds), set()
        for _ in range(MAX_HOPS):
            if not frontier and not nets:
                return
            for chunk in _chunks(frontier):
                for key, net in s.execute(select(Account.key, Account.network_id).where(Account.key.in_(chunk))):
                    self.network[key] = net
                    if net:
                        nets.add(net)
            nets -= self.nets_read
            for chunk in _chunks(nets):  # a stored network is read whole: it may split or merge
                for key, net in s.execute(select(Account.key, Account.network_id).where(Account.network_id.in_(chunk))):
                    if key not in self.network:
                        self.network[key] = net
                        frontier.add(key)
            self.nets_read |= nets
            nets = set()
            # The linking identifiers of these accounts, and the identifiers that are these accounts.
            found: set[int] = set()
            for chunk in _chunks(frontier):
                found.update(s.scalars(select(_HOLDS.c.identifier_id).where(_HOLDS.c.account_key.in_(chunk),
                                                                            _HOLDS.c.links)))
                found.update(s.scalars(select(Identifier.id).join(Account, _OWN_HANDLE).where(Account.key.in_(chunk))))
            new_ids = found - self.seen
            self.seen |= found
            frontier = set()
            if not new_ids:
                continue
            counts, owners = self.holder_counts(new_ids)
            ok, crossed = [], []
            for i, n in counts.items():
                if n <= MIN_CAP or n <= self.cap():
                    ok.append(i)
                elif n - self.added.get(i, 0) <= self.cap():
                    crossed.append(i)  # over the cap since this batch: what it held together is read again
            for chunk in _chunks(ok):
                for key, i in s.execute(select(_HOLDS.c.account_key, _HOLDS.c.identifier_id).where(
                        _HOLDS.c.identifier_id.in_(chunk), _HOLDS.c.links)):
                    self.holders.setdefault(i, set()).add(key)
            for i in ok:
                if i in owners:
                    self.holders.setdefault(i, set()).add(owners[i])
            for chunk in _chunks(crossed):
                nets.update(s.scalars(
                    select(Account.network_id).join(_HOLDS, _HOLDS.c.account_key == Account.key)
                    .where(_HOLDS.c.identifier_id.in_(chunk), _HOLDS.c.links, Account.network_id.is_not(None))
                    .distinct()))
            frontier = {k for i in ok for k in self.holders.get(i, ())} - set(self.network)
            for key in frontier:  # a placeholder, so no later hop takes them again; read at the next hop
                self.network[key] = None

    def components(self) -> dict[str, str | None]:
        """Account -> network id by union-find over the linking identifiers read (None: alone)."""
        parent = {k: k for k in self.network}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for members in self.holders.values():
            first, *rest = sorted(members)
            for other in rest:
                ra, rb = find(first), find(other)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
        groups: dict[str, list[str]] = {}
        for key in parent:
            groups.setdefault(find(key), []).append(key)
        out: dict[str, str | None] = {}
        for members in groups.values():
            nid = network_id(members) if len(members) >= 2 else None
            for m in members:
                out[m] = nid
        return out


def _relink(session: Session, seeds: set[str], new_pairs: set[tuple[str, int]]) -> dict[str, str | None]:
    added: dict[int, int] = {}
    for _, i in new_pairs:
        added[i] = added.get(i, 0) + 1
    graph = _Graph(session, added)
    graph.read(seeds)
    wanted = graph.components()
    changed = {k: nid for k, nid in wanted.items() if graph.network.get(k) != nid}
    if changed:
        apply(session, changed)
    return changed


def apply(session: Session, networks: dict[str, str | None]) -> None:
    """Store account -> network id, and move the open review tasks of those accounts to the network's
    group (or back to the account's own), as `review.regroup` would."""
    if not networks:
        return
    rows = [{"k": k, "n": n, "g": f"network:{n}" if n else k} for k, n in sorted(networks.items())]
    session.execute(update(_ACCOUNTS).where(_ACCOUNTS.c.key == bindparam("k")).values(network_id=bindparam("n")),
                    rows)
    items = select(Item.id).where(Item.account_key == bindparam("k")).scalar_subquery()
    session.execute(update(_TASKS).where(_TASKS.c.item_id.in_(items), _TASKS.c.state != "decided")
                    .values(group_key=bindparam("g")), rows)
