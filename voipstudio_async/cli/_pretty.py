"""The prettier output when rich (the ``cli`` extra) is installed: tables, bars, log lines.

Imported only through ``_output``, which falls back to plain text without rich.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ._defaults import PIPED_WIDTH
from ._units import human_bytes

__all__ = ["RichTracker", "is_terminal", "log_handler", "print_table", "progress"]


def is_terminal(file: TextIO) -> bool:
    """Whether rich would draw on ``file`` (a terminal, and not TERM=dumb and the like)."""
    return Console(file=file).is_terminal


def print_table(file: TextIO, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A rich table, full width in a terminal, 200 columns when piped."""
    console = Console(file=file, highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console = Console(file=file, highlight=False, soft_wrap=True, width=PIPED_WIDTH)
    table = Table(show_lines=False)
    for column in columns:
        table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    console.print(table)


class _RichTask:
    def __init__(self, progress: Progress, task_id: TaskID) -> None:
        self._progress = progress
        self._id = task_id
        self._bytes = 0

    def advance(self, items: int = 1, nbytes: int = 0) -> None:
        self._bytes += nbytes
        size = human_bytes(self._bytes) if self._bytes else ""
        self._progress.update(self._id, advance=items, size=size)

    def set_total(self, total: int | None) -> None:
        self._progress.update(self._id, total=total)


class RichTracker:
    """Progress lines on one rich ``Progress``."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def task(self, description: str, total: int | None) -> _RichTask:
        return _RichTask(self._progress, self._progress.add_task(description, total=total, size=""))


@contextmanager
def progress(file: TextIO) -> Iterator[RichTracker]:
    """Progress bars drawn on ``file`` for the block."""
    columns = (
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[size]:>9}"),
        TimeElapsedColumn(),
    )
    console = Console(file=file, highlight=False, soft_wrap=True)
    with Progress(*columns, console=console) as bars:
        yield RichTracker(bars)


def log_handler(file: TextIO) -> logging.Handler:
    """Log records as rich lines (time, level, message) on ``file``."""
    return RichHandler(console=Console(file=file, highlight=False), show_path=False)
