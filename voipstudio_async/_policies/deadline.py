"""Deadlines: seconds for a whole call, every attempt, backoff and rate-limit wait included.

A call opens a scope (``within``); every request sent inside it, in this task or in
tasks it starts (bulk workers, ``download_many``), reads the same absolute deadline
from a context variable. A nested scope can only shorten it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Final

from .._checks import check_optional_seconds

__all__ = ["current", "within"]

_AT: ContextVar[float | None] = ContextVar("voipstudio_deadline", default=None)


def current() -> float | None:
    """The deadline in force (``time.monotonic()`` time), or None."""
    return _AT.get()


def check_seconds(seconds: object, name: str = "deadline") -> float | None:
    """``seconds`` if it is None or a finite number > 0; else ``ValueError``."""
    return check_optional_seconds(seconds, name)


_NONE: Final = nullcontext()  # stateless, so one serves every call without a deadline


def within(seconds: float | None) -> AbstractContextManager[None]:
    """Requests sent inside must be done ``seconds`` from now (None: no deadline)."""
    checked = check_seconds(seconds)
    return _NONE if checked is None else _until(checked)


@contextmanager
def _until(checked: float) -> Iterator[None]:
    at = time.monotonic() + checked
    outer = _AT.get()
    token = _AT.set(at if outer is None else min(outer, at))
    try:
        yield
    finally:
        _AT.reset(token)
