"""A byte-exact ZIP: stored (not compressed) entries, fixed metadata, fixed order.

Evidence packages are written with this writer, so the verifier can rebuild a package
from its own contents and compare byte for byte: a change anywhere (a file, a header,
the directory at the end) is found, not only changes inside hashed files. zlib output can
differ between versions, so nothing is compressed; media is compressed already.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

_LOCAL = b"PK\x03\x04"
_CENTRAL = b"PK\x01\x02"
_END = b"PK\x05\x06"
_UTF8_FLAG = 0x0800
_VERSION = 20  # 2.0: plain stored entries
_UNIX = 3 << 8
_FILE_MODE = (0o100644 << 16)


@dataclass(frozen=True, slots=True)
class Region:
    """Where a part of the archive lies: `what` names it for a reader."""

    start: int
    end: int
    what: str


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    y, mo, d, h, mi, s = date_time
    y = min(max(y, 1980), 2107)
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


def build_zip(entries: list[tuple[str, bytes]], date_time: tuple[int, int, int, int, int, int],
              crcs: dict[str, int] | None = None) -> tuple[bytes, list[Region]]:
    """The archive bytes and a map of its regions (used to name what a changed byte belongs to).
    `crcs` overrides an entry's CRC (the verifier rebuilds with the CRC the archive records)."""
    if len(entries) >= 0xFFFF:
        raise ValueError("too many files for a plain ZIP (65535)")
    dos_time, dos_date = _dos_time(date_time)
    out = bytearray()
    regions: list[Region] = []
    central = bytearray()
    central_regions: list[tuple[int, int, str]] = []
    for name, data in entries:
        raw_name = name.encode()
        if len(data) >= 0xFFFFFFFF or len(out) >= 0xFFFFFFFF:
            raise ValueError("package larger than 4 GiB: split the request into smaller date ranges")
        crc = (crcs or {}).get(name, zlib.crc32(data))
        offset = len(out)
        header = _LOCAL + struct.pack("<HHHHHIIIHH", _VERSION, _UTF8_FLAG, 0, dos_time, dos_date, crc,
                                      len(data), len(data), len(raw_name), 0) + raw_name
        out += header
        regions.append(Region(offset, len(out), f"ZIP header of {name}"))
        out += data
        regions.append(Region(len(out) - len(data), len(out), name))
        start = len(central)
        central += _CENTRAL + struct.pack("<HHHHHHIIIHHHHHII", _UNIX | _VERSION, _VERSION, _UTF8_FLAG, 0,
                                          dos_time, dos_date, crc, len(data), len(data), len(raw_name),
                                          0, 0, 0, 0, _FILE_MODE, offset) + raw_name
        central_regions.append((start, len(central), f"ZIP directory entry of {name}"))
    base = len(out)
    out += central
    regions.extend(Region(base + s, base + e, what) for s, e, what in central_regions)
    end_start = len(out)
    out += _END + struct.pack("<HHHHIIH", 0, 0, len(entries), len(entries), len(central), base, 0)
    regions.append(Region(end_start, len(out), "ZIP end-of-directory record"))
    return bytes(out), regions


def region_at(regions: list[Region], offset: int) -> str:
    for r in regions:
        if r.start <= offset < r.end:
            return r.what
    return "bytes after the end of the ZIP"


def first_difference(a: bytes, b: bytes) -> int | None:
    if a == b:
        return None
    n = min(len(a), len(b))
    # compare in blocks: packages can be large, and Python loops over bytes are slow
    step = 1 << 16
    for i in range(0, n, step):
        if a[i:i + step] != b[i:i + step]:
            for j in range(i, min(i + step, n)):
                if a[j] != b[j]:
                    return j
    return n


def stored_data(archive: bytes, header_offset: int, size: int) -> bytes | None:
    """The bytes of an entry read straight from its local header, without the CRC check:
    a changed byte must reach the digest check, which names it, instead of stopping the read."""
    if archive[header_offset:header_offset + 4] != _LOCAL:
        return None
    name_len, extra_len = struct.unpack_from("<HH", archive, header_offset + 26)
    start = header_offset + 30 + name_len + extra_len
    return archive[start:start + size]


def local_entries(archive: bytes) -> list[tuple[str, bytes]]:
    """Entries read one after another from their local headers: how a damaged ZIP directory
    is read around, so the check that follows can name the damaged directory entry."""
    entries = []
    pos = 0
    while archive[pos:pos + 4] == _LOCAL and pos + 30 <= len(archive):
        size, = struct.unpack_from("<I", archive, pos + 22)
        name_len, extra_len = struct.unpack_from("<HH", archive, pos + 26)
        name = archive[pos + 30:pos + 30 + name_len].decode("utf-8", "replace")
        start = pos + 30 + name_len + extra_len
        entries.append((name, archive[start:start + size]))
        pos = start + size
    return entries


def header_crc(archive: bytes, header_offset: int) -> int | None:
    if archive[header_offset:header_offset + 4] != _LOCAL:
        return None
    return struct.unpack_from("<I", archive, header_offset + 14)[0]


def header_name(archive: bytes, header_offset: int) -> str | None:
    if archive[header_offset:header_offset + 4] != _LOCAL:
        return None
    name_len, = struct.unpack_from("<H", archive, header_offset + 26)
    return archive[header_offset + 30:header_offset + 30 + name_len].decode("utf-8", "replace")
