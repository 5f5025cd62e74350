"""The ``voipstudio`` command: archive VoIPstudio call history from the shell.

``main(argv)`` is the console script; ``run(argv, client=...)`` is the same command as
a coroutine, for tests and embedding (it never closes a client it was given).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from ._errors import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UserError,
)
from ._interrupt import on_signal
from ._run import run

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "UserError",
    "main",
    "run",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``voipstudio`` console script; returns the exit code.

    Args:
        argv: The arguments after the program name (default ``sys.argv[1:]``).

    Returns:
        The exit code: ``EXIT_OK``, ``EXIT_FAILED``, ``EXIT_USAGE``,
        ``EXIT_INTERRUPTED`` or ``EXIT_BROKEN_PIPE``.
    """
    try:
        code = asyncio.run(_main(argv))
        if code == EXIT_BROKEN_PIPE:
            # Python flushes stdout at exit and would report the closed pipe again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return code
    except asyncio.CancelledError:  # run() has said how far it got
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:  # before or after the command's own work
        print("voipstudio: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


async def _main(argv: Sequence[str] | None) -> int:
    # Ctrl-C and SIGTERM cancel the command, which reports how far it got and removes
    # temporary files on the way out (sync stops at the next page instead, see _interrupt).
    task = asyncio.current_task()
    if task is not None:
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, on_signal, task)
    return await run(argv)
