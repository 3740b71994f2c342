"""Accounts that post the same picture are linked like accounts that share a contact.

Each picture a scan hashed (media[].pdq, with its trimmed/cropped variants) is a candidate; pictures
within PDQ distance 31 of each other (by their nearest pair of hashes, through the multi-index) form
one picture node `pdq:<hash of the first of them>`, and every account that posted one of them links
to that node. The identity graph's safeguards then apply unchanged: a picture posted by more accounts
than the frequency cap (a meme, a platform's logo) is dropped from linking and reported. Two more rules:
low-quality hashes (blank, flat or tiny pictures, PDQ quality < 50) never link, since such hashes
collide by accident; and, like web links, a picture links only from an offer (or, unscored, from an
item giving a contact or payment identifier): anyone may repost a photo.
"""

from __future__ import annotations

from typing import Any

from plugwatch.images.index import PdqIndex
from plugwatch.images.pdq import MATCH_DISTANCE, MIN_QUALITY, is_pdq
from plugwatch.network.identity import UnionFind

MAX_PICTURES = 2_000_000  # distinct pictures remembered per run (bounded memory)


class PicturePosts:
    """The distinct pictures of a stream and who posted each (one pass, memory per picture)."""

    def __init__(self) -> None:
        self.hashes: list[list[str]] = []  # per picture: reference hash, then variants
        self.posters: list[set[str]] = []
        self._by_ref: dict[str, int] = {}

    def add(self, account: str, rec: dict[str, Any], linkable: bool) -> None:
        if not linkable:
            return
        for m in rec.get("media") or ():
            if not isinstance(m, dict):
                continue
            pdq, quality = m.get("pdq"), m.get("quality")
            if not isinstance(pdq, str) or not is_pdq(pdq) or not isinstance(quality, int) or quality < MIN_QUALITY:
                continue
            i = self._by_ref.get(pdq)
            if i is None:
                if len(self.hashes) >= MAX_PICTURES:
                    continue
                variants = [v for v in m.get("pdq_variants") or () if isinstance(v, str) and is_pdq(v)]
                i = self._by_ref[pdq] = len(self.hashes)
                self.hashes.append([pdq, *variants])
                self.posters.append(set())
            self.posters[i].add(account)

    def merge(self, other: PicturePosts) -> None:
        """Adds a later part of the stream's pictures: merged in stream order, the same as one pass
        (the first post of a picture gives its variants; the cap counts distinct pictures in order)."""
        for hashes, posters in zip(other.hashes, other.posters, strict=True):
            i = self._by_ref.get(hashes[0])
            if i is None:
                if len(self.hashes) >= MAX_PICTURES:
                    continue
                i = self._by_ref[hashes[0]] = len(self.hashes)
                self.hashes.append(hashes)
                self.posters.append(set())
            self.posters[i] |= posters

    def nodes(self, max_distance: int = MATCH_DISTANCE) -> dict[str, set[str]]:
        """Picture node -> accounts that posted a picture in it; only nodes with two or more accounts."""
        if not self.hashes:
            return {}
        flat, owner = [], []
        for i, hs in enumerate(self.hashes):
            flat.extend(hs)
            owner.extend([i] * len(hs))
        index = PdqIndex(flat)
        uf = UnionFind(len(self.hashes))
        for i, hs in enumerate(self.hashes):
            for h in hs:
                for hit in index.query(h, max_distance):
                    uf.union(i, owner[hit.index])
        groups: dict[int, set[str]] = {}
        first: dict[int, int] = {}
        for i, posters in enumerate(self.posters):
            root = uf.find(i)
            groups.setdefault(root, set()).update(posters)
            first.setdefault(root, i)
        return {f"pdq:{self.hashes[first[r]][0]}": accts for r, accts in groups.items() if len(accts) >= 2}


def link_pictures(accounts: dict, pictures: PicturePosts, max_distance: int = MATCH_DISTANCE) -> int:
    """Adds each shared picture node to its posters' links; returns how many nodes were added."""
    added = 0
    for node, posters in pictures.nodes(max_distance).items():
        for key in posters:
            acct = accounts.get(key)
            if acct is not None:
                acct.link(node)
        added += 1
    return added
