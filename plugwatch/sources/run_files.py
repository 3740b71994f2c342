"""Names of the files a run leaves in its output folder, in one place: `scan --cluster` writes them
(plugwatch.cluster.scan), and reading that folder again (the folder walk, `networks`) must tell its
partitions from its manifest and rejects files. They live in this layer because the readers may not
import the cluster code that writes them.

`scan --cluster -o OUT` writes, per partition 7, `OUT/part-00007.jsonl` (or `.parquet`), its rejects
`OUT/part-00007.rejects.jsonl` and its commit record `OUT/.parts/part-00007.json`, and `OUT/_SUCCESS` last.
"""

from __future__ import annotations

import re

SUCCESS = "_SUCCESS"  # a cluster scan's manifest, written once every partition is done
PARTS = ".parts"  # the partitions' commit records; hidden, so reading OUT/ as input skips it
REJECTS_SUFFIX = ".rejects.jsonl"
DATA_FORMATS = ("jsonl", "parquet")

_PART = re.compile(r"part-([0-9]{5})")
_PART_DATA = re.compile(rf"part-[0-9]{{5}}\.({'|'.join(DATA_FORMATS)})")


def part_name(index: int) -> str:
    """`part-00007`: the stem every file of partition 7 is named with."""
    return f"part-{index:05d}"


def part_index(name: str) -> int | None:
    """The partition a file name starts with (`part-00007.rejects.jsonl` -> 7); None for other names."""
    found = _PART.match(name)
    return int(found.group(1)) if found else None


def part_data_format(name: str) -> str | None:
    """"jsonl" or "parquet" for a partition's data file (`part-00007.parquet`); None for any other name."""
    found = _PART_DATA.fullmatch(name)
    return found.group(1) if found else None


def is_run_byproduct(name: str) -> bool:
    """A file `scan` or `networks` leaves beside its output that holds no posts: a rejects file
    (`OUT.rejects.jsonl`, a cluster scan's `part-00000.rejects.jsonl`, `rejects.jsonl`) or a cluster
    scan's `_SUCCESS` manifest."""
    return name in (SUCCESS, "rejects.jsonl") or name.endswith(REJECTS_SUFFIX)
