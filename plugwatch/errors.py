"""Errors and exit codes every layer may use: the bottom of the package, importing nothing of it.

Exit codes (the same for every command):
  0  done, nothing rejected
  1  internal error (a bug: please report it with the message)
  2  usage error: bad option, unreadable model or missing required file
  3  done, but some records were rejected (or a check found problems)
  4  nothing could be read: every input was missing, empty or unreadable
"""

from __future__ import annotations

EXIT_OK, EXIT_BUG, EXIT_USAGE, EXIT_REJECTS, EXIT_NOTHING = 0, 1, 2, 3, 4


class UserError(Exception):
    """A problem the user can fix; shown as one line, never as a traceback."""
