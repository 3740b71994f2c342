"""How `--help` names values, for every command at once.

Typer labels each option with its Python type (`<bool>` on a flag, `<list[str]>`, `{inputs}...` in the
usage line). A reader wants the usual form: `--out PATH`, `--threshold FLOAT`, a flag with nothing after
it, `INPUTS...` for a required argument and `[LABELLED]` for an optional one. The root group's class
below rewrites the labels of every command under it when the command tree is built, so commands added by
any stage get them without doing anything.
"""

from __future__ import annotations

from rich.markup import escape
from typer.core import DEFAULT_MARKUP_MODE, TyperArgument, TyperCommand, TyperGroup, TyperOption

_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "Path": "PATH", "datetime": "DATETIME"}


def _value_word(param) -> str:
    """The word for what an option or argument takes: PATH, TEXT, INTEGER, FLOAT or [a|b|c]."""
    desc = getattr(param, "type_descriptor", None)
    if desc is None:
        return param.type.name.upper()
    if desc.is_choice and desc.choices:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in desc.choices) + "]"
    if desc.is_path:
        return "PATH"
    bare = param.bare_type().removeprefix("list[").removesuffix("]")
    return _WORDS.get(bare, bare.upper())


class PlainOption(TyperOption):
    __slots__ = ()  # typer's classes have slots: instances can then change class

    def display_type_rich(self, ctx) -> str | None:
        if self.is_flag or self.count:
            return None
        return self.metavar or _value_word(self)


class PlainArgument(TyperArgument):
    """Named in capitals (`INPUTS...`), set in the usage line without braces; no type column."""

    __slots__ = ()

    def display_type_rich(self, ctx) -> str | None:
        return None  # the argument's name already says what it is

    def _usage_display_name(self) -> str:
        name, dots = self.metavar.removesuffix("..."), ("..." if self.nargs != 1 else "")
        return name + dots if self.required else f"[{name}]{dots}"


def _plain_help_option(command_cls):
    """The help option is made per context by click: relabel it when it is made."""
    def get_help_option(self, ctx):
        option = super(command_cls, self).get_help_option(ctx)
        _plain_param(option)
        return option

    command_cls.get_help_option = get_help_option
    return command_cls


@_plain_help_option
class PlainCommand(TyperCommand):
    __slots__ = ()


@_plain_help_option
class PlainGroup(TyperGroup):
    __slots__ = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            _plain_command(command)


def _plain_param(param) -> None:
    # Help is rendered as rich markup: `pip install 'plugwatch[cluster]'` would lose `[cluster]` as a
    # style tag. Help text here is plain text, so its brackets are escaped and shown as written.
    first = type(param) in (TyperOption, TyperArgument)  # not relabelled yet: escape once only
    if first and DEFAULT_MARKUP_MODE == "rich" and getattr(param, "help", None) and "[" in param.help:
        param.help = escape(param.help)
    if type(param) is TyperOption:
        param.__class__ = PlainOption
    elif type(param) is TyperArgument:
        param.__class__ = PlainArgument
        if param.metavar is None:
            param.metavar = param.name.upper() + ("..." if param.nargs != 1 else "")


def _plain_command(command) -> None:
    if type(command) is TyperCommand:
        command.__class__ = PlainCommand
    elif type(command) is TyperGroup:
        command.__class__ = PlainGroup
    for param in command.params:
        _plain_param(param)
    for sub in getattr(command, "commands", {}).values():
        _plain_command(sub)
