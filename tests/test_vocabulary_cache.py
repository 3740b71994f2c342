"""The vocabulary's index is kept between runs: read back, it must give the same matches as derived."""

from importlib import resources

from plugwatch.text.normalize import normalize
from plugwatch.text.vocabulary import Vocabulary, cached_index, derive_index, read_everyday, read_terms

POSTS = ["selling xannies and percs, dm", "ziolo i trawki na wynos", "出冰毒私聊", "кокаина нет", "🍄🍫 menu in bio",
         "herę", "weeeed and cooooke", "m 30s blues"]


def _tables():
    data = resources.files("plugwatch") / "data"
    tsv = (data / "vocabulary.tsv").read_text(encoding="utf-8")
    everyday = (data / "everyday_words.tsv").read_text(encoding="utf-8")
    return read_terms(tsv), read_everyday(everyday), tsv + "\0" + everyday


def _matches(vocab: Vocabulary) -> list:
    return [[(m.start, m.end, m.term) for m in vocab.find(normalize(p).text)] for p in POSTS]


def test_index_read_back_gives_the_same_vocabulary(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGWATCH_CACHE_DIR", str(tmp_path))
    terms, everyday, tables = _tables()
    derived = derive_index(tuple(terms), everyday)
    written = cached_index(terms, everyday, tables)  # derives and writes
    [path] = tmp_path.glob("vocabulary-index-*.json")
    read = cached_index(terms, everyday, tables)  # reads back
    assert written == derived and read == derived
    plain = Vocabulary(terms, everyday)
    assert _matches(Vocabulary(terms, everyday, index=read)) == _matches(plain)
    assert any(_matches(plain))  # the posts do hold terms
    # Other tables are another file: an edited vocabulary never reads a stale index.
    cached_index(terms[:-1], everyday, tables.replace("\t", "\t ", 1))
    assert len(list(tmp_path.glob("vocabulary-index-*.json"))) == 2
    assert path.exists()


def test_broken_or_unfitting_index_is_derived_again(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGWATCH_CACHE_DIR", str(tmp_path))
    terms, everyday, tables = _tables()
    cached_index(terms, everyday, tables)
    [path] = tmp_path.glob("vocabulary-index-*.json")
    derived = derive_index(tuple(terms), everyday)
    for broken in ("{not json", '{"words": [["  x  ", [999999]]], "raw": []}', '{"words": 1}',
                   '{"words": [["  x  ", ["1"]]], "raw": []}', '{"words": [["  x  ", [1.0]]], "raw": []}',
                   '{"words": [[7, [1]]], "raw": []}', '{"words": [["  x  ", 1]], "raw": []}'):
        path.write_text(broken, encoding="utf-8")
        got = cached_index(terms, everyday, tables)
        assert got == derived and all(type(i) is int for part in (got.words, got.raw) for _, ids in part for i in ids), broken
        assert cached_index(terms, everyday, tables) == derived  # and the file was repaired


def test_no_cache_folder_derives(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGWATCH_CACHE_DIR", "")
    terms, everyday, tables = _tables()
    assert cached_index(terms, everyday, tables) == derive_index(tuple(terms), everyday)
    assert not list(tmp_path.iterdir())


def test_indexes_left_by_older_tables_are_pruned_when_a_new_one_is_written(tmp_path, monkeypatch):
    import os
    import time

    monkeypatch.setenv("PLUGWATCH_CACHE_DIR", str(tmp_path))
    terms, everyday, tables = _tables()
    stale = tmp_path / "vocabulary-index-0123456789abcdef0123456789abcdef.json"
    recent = tmp_path / "vocabulary-index-fedcba9876543210fedcba9876543210.json"
    leftover = tmp_path / "vocabulary-index-fedcba9876543210fedcba9876543210.json.x1y2z3"  # a killed run's
    unrelated = tmp_path / "encoder-cache.sqlite"
    for f in (stale, recent, leftover, unrelated):
        f.write_text("{}")
    month_ago = time.time() - 30 * 86400
    for f in (stale, leftover, unrelated):
        os.utime(f, (month_ago, month_ago))
    cached_index(terms, everyday, tables)
    names = {f.name for f in tmp_path.iterdir()}
    assert stale.name not in names and leftover.name not in names
    assert recent.name in names and unrelated.name in names  # another install's index; not ours at all
    assert len([n for n in names if n.startswith("vocabulary-index-")]) == 2
    # Reading an existing index prunes nothing (no write, no cost).
    os.utime(recent, (month_ago, month_ago))
    cached_index(terms, everyday, tables)
    assert recent.exists()
