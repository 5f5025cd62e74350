"""Everything the user sees: messages, tables, JSON, progress bars and log lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TextIO

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

__all__ = ["Task", "Tracker", "Ui", "human_bytes"]

_SDK_LOGGER = "voipstudio_async"


def human_bytes(size: int) -> str:
    """``1234567`` → ``1.2 MB`` (decimal units, like file managers)."""
    units = ("B", "kB", "MB", "GB", "TB")
    value, exponent = float(size), 0
    while value >= 1000 and exponent < len(units) - 1:
        value /= 1000
        exponent += 1
    return f"{size} B" if exponent == 0 else f"{value:.1f} {units[exponent]}"


class Task(Protocol):
    """One line of progress."""

    def advance(self, items: int = 1, nbytes: int = 0) -> None: ...

    def set_total(self, total: int | None) -> None: ...


class Tracker(Protocol):
    """Creates progress lines."""

    def task(self, description: str, total: int | None) -> Task: ...


class _NoTask:
    def advance(self, items: int = 1, nbytes: int = 0) -> None:
        pass

    def set_total(self, total: int | None) -> None:
        pass


class _NoTracker:
    def task(self, description: str, total: int | None) -> Task:
        return _NoTask()


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


class _RichTracker:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def task(self, description: str, total: int | None) -> Task:
        return _RichTask(self._progress, self._progress.add_task(description, total=total, size=""))


class Ui:
    """Results go to stdout, progress and diagnostics to stderr.

    Progress bars appear only when stderr is a terminal and not ``quiet``; tables are
    rich tables either way (plain text when not a terminal).
    """

    def __init__(
        self, *, stdout: TextIO, stderr: TextIO, quiet: bool = False, verbose: int = 0
    ) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self._stdout = stdout
        self.out = Console(file=stdout, highlight=False, soft_wrap=True)
        if not self.out.is_terminal:
            # Piped tables go to files and pagers: do not squeeze them into 80 columns.
            self.out = Console(file=stdout, highlight=False, soft_wrap=True, width=200)
        self.err = Console(file=stderr, highlight=False, soft_wrap=True)

    @property
    def interactive(self) -> bool:
        """Whether stderr is a terminal (progress bars, prompts)."""
        return self.err.is_terminal

    def say(self, message: str) -> None:
        """A result line (suppressed by ``--quiet``)."""
        if not self.quiet:
            self.out.print(escape(message))

    def note(self, message: str) -> None:
        """A detail shown with ``--verbose``."""
        if self.verbose:
            self.err.print(escape(message))

    def warn(self, message: str) -> None:
        """Shown even with ``--quiet``."""
        self.err.print(escape(f"voipstudio: {message}"))

    def error(self, message: str) -> None:
        """A fatal problem, one line."""
        self.err.print(escape(f"voipstudio: error: {message}"))

    def json(self, data: Any) -> None:
        """Machine-readable output: exactly one JSON document on stdout."""
        self._stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        self._stdout.flush()

    def table(self, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        """A table with one column per name (missing values left blank)."""
        table = Table(show_lines=False)
        for column in columns:
            table.add_column(column, no_wrap=True)
        for row in rows:
            table.add_row(*(escape(_cell(row.get(c))) for c in columns))
        self.out.print(table)

    @contextmanager
    def progress(self) -> Iterator[Tracker]:
        """Progress lines for the block; nothing when output is not a terminal."""
        if self.quiet or not self.interactive:
            yield _NoTracker()
            return
        columns = (
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[size]:>9}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=self.err) as progress:
            yield _RichTracker(progress)

    @contextmanager
    def logging(self) -> Iterator[None]:
        """Route the SDK's log (retries with -v, every request with -vv) to stderr."""
        if not self.verbose:
            yield
            return
        logger = logging.getLogger(_SDK_LOGGER)
        handler: logging.Handler
        if self.interactive:
            handler = RichHandler(console=self.err, show_path=False)
        else:
            handler = logging.StreamHandler(self.err.file)
            handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        previous = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO if self.verbose == 1 else logging.DEBUG)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(previous)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
