"""Where Ctrl-C and SIGTERM go: a command's own graceful stop, else cancelling the command.

``main()`` routes both signals here. A command that cannot be cancelled at any await
(``sync``: dlt works in a thread) registers a graceful stop with ``graceful()``; the
first signal calls it, a second one ends the process at once.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ._errors import EXIT_INTERRUPTED

__all__ = ["graceful", "on_signal"]

_FORCED = (
    "voipstudio: stopped at once: the destination keeps what was committed; "
    "the next run loads the rest\n"
)


class _Interrupts:
    def __init__(self) -> None:
        self.stop: Callable[[], None] | None = None
        self.stopping = False


_STATE = _Interrupts()


def on_signal(task: asyncio.Task[int]) -> None:
    """A SIGINT or SIGTERM arrived: stop gracefully, cancel ``task``, or force the exit."""
    if _STATE.stopping:
        sys.stderr.write(_FORCED)
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)  # a second signal: no cleanup can be waited for
    if _STATE.stop is None:
        task.cancel()
        return
    _STATE.stopping = True
    _STATE.stop()


@contextmanager
def graceful(stop: Callable[[], None]) -> Iterator[None]:
    """Within the block, the first signal calls ``stop`` instead of cancelling."""
    _STATE.stop, _STATE.stopping = stop, False
    try:
        yield
    finally:
        _STATE.stop, _STATE.stopping = None, False
