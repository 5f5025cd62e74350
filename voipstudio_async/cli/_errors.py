"""Exit codes and the error a user can fix."""

from __future__ import annotations

EXIT_OK = 0
"""Everything asked for was done."""
EXIT_FAILED = 1
"""The command ran but some items failed, or the API or network gave up."""
EXIT_USAGE = 2
"""Bad arguments, dates, filters or credentials, or an unwritable destination."""
EXIT_INTERRUPTED = 130
"""Ctrl-C or SIGTERM (128 + SIGINT, as shells report it)."""
EXIT_BROKEN_PIPE = 141
"""Whoever read standard output stopped (``| head``): 128 + SIGPIPE, as Unix tools end."""


class UserError(Exception):
    """A problem the user can fix: printed as one line, no traceback, exit code 2."""
