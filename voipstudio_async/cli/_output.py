"""Everything the user sees: messages, tables, JSON, progress and log lines.

Plain text works everywhere; with rich (the ``cli`` extra) tables, progress bars and
log lines are drawn by ``_pretty`` instead.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from ._defaults import PROGRESS_INTERVAL
from ._progress_lines import LineTracker

try:
    from . import _pretty
except ImportError:  # no rich: plain text
    _pretty = None  # type: ignore[assignment]

__all__ = ["Task", "Tracker", "Ui"]

_SDK_LOGGER = "voipstudio_async"


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


@dataclass(slots=True)
class _Count:
    label: str
    done: int = 0
    total: int | None = None


class _CountingTask:
    """Counts what a task did, whether or not progress is drawn."""

    def __init__(self, inner: Task, count: _Count) -> None:
        self._inner = inner
        self._count = count

    def advance(self, items: int = 1, nbytes: int = 0) -> None:
        self._count.done += items
        self._inner.advance(items, nbytes)

    def set_total(self, total: int | None) -> None:
        self._count.total = total
        self._inner.set_total(total)


class _CountingTracker:
    def __init__(self, inner: Tracker, counts: list[_Count]) -> None:
        self._inner = inner
        self._counts = counts

    def task(self, description: str, total: int | None) -> Task:
        count = _Count(description, total=total)
        self._counts.append(count)
        return _CountingTask(self._inner.task(description, total), count)


def _isatty(file: TextIO) -> bool:
    if _pretty is not None:
        return _pretty.is_terminal(file)
    isatty = getattr(file, "isatty", None)
    return bool(isatty and isatty())


class Ui:
    """Results go to stdout, progress and diagnostics to stderr.

    Progress is a bar when stderr is a terminal and rich is installed, otherwise plain
    lines (``_progress_lines``: at least every ``progress_interval`` seconds, and one per
    finished step); ``quiet`` silences both. Tables are rich tables with rich, aligned
    columns without.
    """

    def __init__(
        self,
        *,
        stdout: TextIO,
        stderr: TextIO,
        quiet: bool = False,
        verbose: int = 0,
        progress_interval: float = PROGRESS_INTERVAL,
    ) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self._progress_interval = progress_interval
        self._stdout = stdout
        self._stderr = stderr
        self._counts: list[_Count] = []

    @property
    def interactive(self) -> bool:
        """Whether stderr is a terminal (progress bars, prompts)."""
        return _isatty(self._stderr)

    def _line(self, file: TextIO, text: str) -> None:
        file.write(text + "\n")
        file.flush()

    @property
    def stdout(self) -> TextIO:
        """Where results go (``cdrs export -o -`` writes its rows here)."""
        return self._stdout

    def say(self, message: str, *, aside: bool = False) -> None:
        """A result line (suppressed by ``--quiet``); on stderr when ``aside``, i.e. when
        stdout carries data."""
        if not self.quiet:
            self._line(self._stderr if aside else self._stdout, message)

    def note(self, message: str) -> None:
        """A detail shown with ``--verbose``."""
        if self.verbose:
            self._line(self._stderr, message)

    def warn(self, message: str) -> None:
        """Shown even with ``--quiet``."""
        self._line(self._stderr, f"voipstudio: {message}")

    def error(self, message: str) -> None:
        """A fatal problem, one line."""
        self._line(self._stderr, f"voipstudio: error: {message}")

    def ask(self, question: str) -> str:
        """Ask on stderr (never in redirected results), read a line from stdin."""
        self._stderr.write(question)
        self._stderr.flush()
        answer = sys.stdin.readline()
        if not answer:
            raise EOFError
        return answer

    def json(self, data: Any) -> None:
        """Machine-readable output: exactly one JSON document on stdout."""
        self._line(self._stdout, json.dumps(data, ensure_ascii=False, indent=2))

    def table(self, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
        """A table with one column per name (missing values left blank)."""
        cells = [[_cell(row.get(column)) for column in columns] for row in rows]
        if _pretty is not None:
            _pretty.print_table(self._stdout, columns, cells)
            return
        lines = [list(columns), *cells]
        widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
        lines.insert(1, ["-" * width for width in widths])
        for line in lines:
            padded = "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
            self._line(self._stdout, padded.rstrip())

    @contextmanager
    def progress(self) -> Iterator[Tracker]:
        """Progress of the block's steps: bars, lines, or nothing with ``--quiet``."""
        if self.quiet:
            yield _CountingTracker(_NoTracker(), self._counts)
            return
        if self.interactive and _pretty is not None:
            with _pretty.progress(self._stderr) as tracker:
                yield _CountingTracker(tracker, self._counts)
            return

        def write(line: str) -> None:
            self._line(self._stderr, f"voipstudio: {line}")

        with LineTracker(write, self._progress_interval) as lines:
            yield _CountingTracker(lines, self._counts)

    def so_far(self) -> str:
        """What the progress lines counted so far, e.g. for an interrupted run."""
        if not self._counts:
            return "nothing done yet"
        parts = []
        for count in self._counts:
            of = "" if count.total is None else f" of {count.total}"
            if count.label != "CDRs":
                parts.append(f"{count.label} {count.done}{of} processed")
                continue
            unfinished = count.total is None or count.done < count.total
            kept = " (export unfinished: no file kept)" if unfinished else ""
            parts.append(f"CDRs {count.done}{of} rows written{kept}")
        return ", ".join(parts)

    @contextmanager
    def logging(self) -> Iterator[None]:
        """Route the SDK's log (retries with -v, every request with -vv) to stderr."""
        if not self.verbose:
            yield
            return
        logger = logging.getLogger(_SDK_LOGGER)
        handler: logging.Handler
        if self.interactive and _pretty is not None:
            handler = _pretty.log_handler(self._stderr)
        else:
            handler = logging.StreamHandler(self._stderr)
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
    return str(value).replace("\n", " ")
