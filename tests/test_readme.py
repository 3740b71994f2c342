"""Every `plugwatch ...` command written in README.md names sub-commands and options that exist.

Reads the code blocks (fenced and indented) and inline code spans of the README, walks each command
through the CLI's command tree and checks every `--option` / `-o` against that command's parameters,
so a renamed option or a removed command breaks this test instead of a reader's first try.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main

from plugwatch.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"


def _code_lines(text: str) -> list[str]:
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.startswith("    "):
            lines.append(line.strip())
    lines += re.findall(r"`(plugwatch [^`]+)`", text)
    joined, buf = [], ""
    for line in lines:  # continuation lines
        buf += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            joined.append(buf)
            buf = ""
    return joined


def _commands(text: str) -> list[list[str]]:
    """Each `plugwatch` invocation as its words after `plugwatch`; `a | b` lists in the share section
    (`plugwatch share watchlist | override ID ...`) name siblings of the first command."""
    out: list[list[str]] = []
    for line in _code_lines(text):
        line = re.split(r"\s#", line, maxsplit=1)[0]
        previous: list[str] | None = None
        for segment in re.split(r"\|\s|;|&&|\$\(", line):
            segment = segment.strip().rstrip(")")
            try:
                words = shlex.split(segment.replace("[", " ").replace("]", " "))
            except ValueError:
                continue
            if words[:1] == ["plugwatch"]:
                previous = words[1:]
                out.append(previous)
            elif words and previous and len(previous) > 1:
                out.append([previous[0], *words])
    return out


def _walk(words: list[str]):
    """(the command, the words after its name, its full name)."""
    command = typer.main.get_command(app)  # typer's own click: groups are told apart by `commands`
    path = ["plugwatch"]
    rest = list(words)
    while hasattr(command, "commands") and rest and rest[0] in command.commands:
        path.append(rest[0])
        command = command.commands[rest.pop(0)]
    assert not hasattr(command, "commands"), f"`{' '.join(path + rest)}`: no such command"
    return command, rest, " ".join(path)


COMMANDS = _commands(README.read_text(encoding="utf-8"))


def test_the_readme_has_commands_to_check():
    names = {_walk(words)[2] for words in COMMANDS}
    assert {"plugwatch scan", "plugwatch serve", "plugwatch evidence request create", "plugwatch share import",
            "plugwatch share feedback", "plugwatch hold remove", "plugwatch train"} <= names


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(w)[:60] for w in COMMANDS])
def test_readme_command_options_exist(words):
    command, rest, name = _walk(words)
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)} | {"--help"}
    for word in rest:
        if word.startswith("-") and word != "-" and not re.fullmatch(r"-?\d+(\.\d+)?", word):
            option = word.split("=", 1)[0]
            assert option in known, f"`{name}` has no option {option} (README: plugwatch {' '.join(words)})"
