"""The `plugwatch` command: the commands the composition root names, and how errors end.

Exit codes (the same for every command): 0 ok; 1 internal error (a bug: please report it); 2 usage
error; 3 done, but some records were rejected (see the rejects file); 4 nothing could be read.
"""

from __future__ import annotations

import sys

import typer

from plugwatch import wiring
from plugwatch.commands.common import err
from plugwatch.commands.helptext import PlainGroup
from plugwatch.errors import EXIT_OK, EXIT_USAGE, UserError

app = typer.Typer(
    cls=PlainGroup,
    add_completion=False,
    no_args_is_help=True,
    help="Find drug-sale offers in social-media posts, with evidence a reviewer can check.\n\n"
    "Exit codes: 0 ok; 1 internal error; 2 usage error; 3 done but some records rejected; "
    "4 nothing could be read.",
)
for group in wiring.command_groups():
    group.register(app)


@app.callback()
def _wired_by(ctx: typer.Context) -> None:
    # Commands reach the store and the service through the root on their context (commands.common.root).
    ctx.obj = wiring


def main() -> None:
    try:
        app()
    except UserError as e:
        err.print(f"[bold red]error:[/] {e}")
        sys.exit(EXIT_USAGE)
    except BrokenPipeError:
        # `plugwatch scan ... | head` closes the pipe early: that is not an error.
        sys.stderr.close()
        sys.exit(EXIT_OK)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
