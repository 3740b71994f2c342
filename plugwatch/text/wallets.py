"""Checksum and format checks for the crypto addresses dealers post as payment details.

A checksum turns "looks like an address" into "is an address": a string with one
character changed fails, so a typo (or a bait address) is told apart from the real one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import base58
from bech32 import CHARSET as _BECH32_CHARSET
from bech32 import bech32_hrp_expand, bech32_polymod, convertbits

# BIP-173 (witness v0) and BIP-350 (v1+, e.g. taproot) differ only in this constant;
# the `bech32` package knows the first one only.
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32_INDEX = {c: i for i, c in enumerate(_BECH32_CHARSET)}

BTC_VERSIONS = frozenset({0x00, 0x05})  # P2PKH "1...", P2SH "3..."
LTC_VERSIONS = frozenset({0x30, 0x32, 0x05})  # "L...", "M...", legacy P2SH "3..."
TRON_VERSION = 0x41


def segwit_decode(address: str, hrp: str) -> tuple[int, bytes] | None:
    """(witness version, program) of a valid segwit address for network `hrp`, else None."""
    if address.lower() != address and address.upper() != address:
        return None  # mixed case is invalid by BIP-173
    addr = address.lower()
    sep = addr.rfind("1")
    if sep != len(hrp) or addr[:sep] != hrp or len(addr) > 90 or len(addr) < sep + 7:
        return None
    try:
        data = [_BECH32_INDEX[c] for c in addr[sep + 1 :]]
    except KeyError:
        return None
    const = bech32_polymod(bech32_hrp_expand(hrp) + data)
    if const not in (BECH32_CONST, BECH32M_CONST) or not data[:-6]:
        return None
    version = data[0]
    program = convertbits(data[1:-6], 5, 8, False)
    if version > 16 or program is None or not 2 <= len(program) <= 40:
        return None
    if version == 0:
        if const != BECH32_CONST or len(program) not in (20, 32):
            return None
    elif const != BECH32M_CONST:
        return None
    return version, bytes(program)


def base58check_version(address: str) -> int | None:
    """Version byte of a 21-byte Base58Check payload (version + 20-byte hash), else None."""
    try:
        payload = base58.b58decode_check(address)
    except ValueError:
        return None
    return payload[0] if len(payload) == 21 else None


def is_valid_btc(address: str) -> bool:
    if address[:3].lower() == "bc1":
        return segwit_decode(address, "bc") is not None
    return base58check_version(address) in BTC_VERSIONS


def is_valid_ltc(address: str) -> bool:
    if address[:4].lower() == "ltc1":
        return segwit_decode(address, "ltc") is not None
    return base58check_version(address) in LTC_VERSIONS


def is_valid_tron(address: str) -> bool:
    return len(address) == 34 and base58check_version(address) == TRON_VERSION


def eth_checksum_address(address: str) -> str:
    """EIP-55 mixed-case form of a `0x` + 40 hex address."""
    from Crypto.Hash import keccak  # here, not at import: few streams hold an Ethereum address

    hexpart = address[2:].lower()
    digest = keccak.new(digest_bits=256, data=hexpart.encode("ascii")).hexdigest()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(h, 16) >= 8 else c for c, h in zip(hexpart, digest[:40], strict=True)
    )


def is_valid_eth(address: str) -> bool:
    """All-lower / all-upper addresses carry no checksum (format only); mixed case must match EIP-55."""
    hexpart = address[2:]
    if len(address) != 42 or address[:2] not in ("0x", "0X"):
        return False
    try:
        int(hexpart, 16)
    except ValueError:
        return False
    if hexpart == hexpart.lower() or hexpart == hexpart.upper():
        return True
    return eth_checksum_address(address)[2:] == hexpart


def is_valid_xmr(address: str) -> bool:
    """Format only: Monero's checksum (Keccak over its block-wise Base58) is not checked.

    Standard addresses start with 4, subaddresses with 8 (95 chars); integrated addresses
    (with a payment id) are 106 chars and start with 4. The second char is 0-9, A or B.
    """
    if len(address) == 95:
        ok_prefix = address[0] in "48"
    elif len(address) == 106:
        ok_prefix = address[0] == "4"
    else:
        return False
    return ok_prefix and address[1] in "0123456789AB" and all(c in BASE58_ALPHABET for c in address)


# ---------------------------------------------------------------- addresses in text

_LTC_NEAR = re.compile(r"(?i)\b(?:ltc|litecoin)\b")
_BECH_SHAPE = re.compile(r"(?:bc|ltc)1[02-9ac-hj-np-z]{6,87}", re.IGNORECASE)
_ETH_SHAPE = re.compile(r"0[xX][0-9a-fA-F]{40}")
_B58_SET = frozenset(BASE58_ALPHABET)
# Where an address broken into chunks by spaces can start, then chunk after chunk.
_SPLIT_START = re.compile(
    r"(?<![A-Za-z0-9])(?=(?:[bB][cC]1|[lL][tT][cC]1|0x|[13LMT])[A-Za-z0-9]*\s{1,3}[A-Za-z0-9])"
)
_CHUNK = re.compile(r"[A-Za-z0-9]+")
_CHUNK_GAP = re.compile(r"\s{1,3}(?=[A-Za-z0-9])")


def _looks_random(body: str) -> bool:
    """Checksum-failing strings are kept only if they look machine-made (digits and both cases)."""
    return (
        any(c.isdigit() for c in body) and any(c.isupper() for c in body) and any(c.islower() for c in body)
    )


def _classify_base58(addr: str, context: str) -> tuple[str, bool] | None:
    n, first = len(addr), addr[0]
    if first in "13" and 26 <= n <= 35:
        # "3..." (version 0x05) is P2SH on both chains; Litecoin only when named just before.
        if first == "3" and _LTC_NEAR.search(context):
            return "ltc", is_valid_ltc(addr)
        return "btc", is_valid_btc(addr)
    if first in "LM" and 26 <= n <= 34:
        return "ltc", is_valid_ltc(addr)
    if first == "T" and n == 34:
        return "tron", is_valid_tron(addr)
    if first in "48" and n in (95, 106):
        return "xmr", is_valid_xmr(addr)
    return None


def classify_address(addr: str, context: str = "") -> tuple[str, str, bool] | None:
    """(type, canonical, valid) for a token shaped like a crypto address, else None.

    A shape with a failing checksum is still returned (valid False) so reviewers see
    near-miss or bait addresses, but only when it looks machine-made. `context` is the
    text just before the token (tells a Litecoin "3..." from a Bitcoin one).
    """
    if _BECH_SHAPE.fullmatch(addr):
        lowered = addr.lower()
        kind = "btc" if lowered.startswith("bc1") else "ltc"
        valid = is_valid_btc(addr) if kind == "btc" else is_valid_ltc(addr)
        # Common lengths: P2WPKH 42/43 (btc/ltc), P2WSH and taproot 62/63; case not mixed.
        if not valid and (len(addr) not in (42, 43, 62, 63) or not (addr.islower() or addr.isupper())):
            return None
        return kind, f"{kind}:{lowered}", valid
    if _ETH_SHAPE.fullmatch(addr):
        return "eth", f"eth:{addr.lower()}", is_valid_eth(addr)
    if not all(c in _B58_SET for c in addr):
        return None
    found = _classify_base58(addr, context)
    if found is None:
        return None
    kind, valid = found
    if not valid and kind != "xmr" and not _looks_random(addr[1:]):
        return None
    return kind, f"{kind}:{addr}", valid


def find_split_addresses(text: str) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, type, canonical) of addresses broken up by spaces ("bc1q xy2k gdyg ..."):
    chunks are joined, longest run first, and kept only when the join validates."""
    for m in _SPLIT_START.finditer(text):
        start = m.start()
        chunks: list[tuple[int, int]] = []
        pos, total = start, 0
        while total < 90:
            chunk = _CHUNK.match(text, pos)
            if chunk is None:
                break
            chunks.append(chunk.span())
            total += chunk.end() - chunk.start()
            gap = _CHUNK_GAP.match(text, chunk.end())
            if gap is None:
                break
            pos = gap.end()
        if len(chunks) < 2:
            continue
        head = "".join(text[s:e] for s, e in chunks[:3])
        if not head.lower().startswith(("bc1", "ltc1", "0x")) and not any(c.isdigit() for c in head[1:]):
            continue  # ordinary words: a base58 address has digits in its first chunks
        context = text[max(0, start - 40) : start]
        for k in range(len(chunks), 1, -1):
            joined = "".join(text[s:e] for s, e in chunks[:k])
            if not joined.lower().startswith(("bc1", "ltc1", "0x")) and not 26 <= len(joined) <= 35:
                continue  # split Monero addresses are not joined: their check is format only
            found = classify_address(joined, context)
            if found is not None and found[2]:
                yield start, chunks[k - 1][1], found[0], found[1]
                break
