"""Progress as plain lines, for logs (cron, CI, a fleet's runner) instead of a bar.

One format, documented in ``docs/guides/cli.md``::

    progress CDRs: 12000 of 20000 items (60%), 0 B, 2400 items/s, ETA 0:00:03
    progress recordings: 12 items, 3.1 MB, 0.4 items/s, 1.0 MB/s
    done CDRs: 20000 items, 0 B in 0:00:08

``progress_line`` writes one; ``LineTracker`` writes one per unfinished step at least
every ``interval`` seconds and a ``done`` line as each step finishes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from ._defaults import PROGRESS_INTERVAL
from ._units import human_bytes

__all__ = ["LineTracker", "progress_line"]


def _duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _rate(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def progress_line(
    step: str,
    *,
    items: int,
    nbytes: int,
    elapsed: float,
    total: int | None = None,
    done: bool = False,
) -> str:
    """One line of progress of ``step`` after ``elapsed`` seconds.

    Args:
        step: What the step is called (``CDRs``, ``recordings``, a table).
        items: Items done so far.
        nbytes: Bytes done so far.
        elapsed: Seconds since the step started.
        total: Items the step has, when known (adds the share and an ETA).
        done: The step finished: ``done STEP: N items, SIZE in H:MM:SS``.

    Returns:
        The line, without a newline or a program prefix.
    """
    if done:
        return f"done {step}: {items} items, {human_bytes(nbytes)} in {_duration(elapsed)}"
    parts = [f"{items} items" if total is None else f"{items} of {total} items"]
    if total:
        parts[0] += f" ({100 * items // total}%)"
    parts.append(human_bytes(nbytes))
    seconds = max(elapsed, 1e-9)
    rate = items / seconds
    parts.append(f"{_rate(rate)} items/s")
    if nbytes:
        parts.append(f"{human_bytes(round(nbytes / seconds))}/s")
    if total is not None and rate > 0 and items < total:
        parts.append(f"ETA {_duration((total - items) / rate)}")
    return f"progress {step}: {', '.join(parts)}"


@dataclass
class _LineTask:
    """One step: counts from any thread, its ``done`` line once."""

    tracker: LineTracker
    step: str
    total: int | None
    started: float
    items: int = 0
    nbytes: int = 0
    finished: bool = field(default=False)

    def advance(self, items: int = 1, nbytes: int = 0) -> None:
        with self.tracker.lock:
            self.items += items
            self.nbytes += nbytes
            complete = self.total is not None and self.items >= self.total
        if complete:
            self.tracker.finish(self)

    def set_total(self, total: int | None) -> None:
        with self.tracker.lock:
            self.total = total


class LineTracker:
    """Creates steps whose progress is written as lines (``with LineTracker(...)``).

    Args:
        write: Writes one line (no newline given).
        interval: Seconds between two lines of a step, at most.
        clock: Monotonic seconds (for tests).
    """

    def __init__(
        self,
        write: Callable[[str], None],
        interval: float = PROGRESS_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lock = threading.Lock()
        self._write = write
        self._interval = interval
        self._clock = clock
        self._tasks: list[_LineTask] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress-lines", daemon=True)

    def task(self, description: str, total: int | None) -> _LineTask:
        """A new step."""
        task = _LineTask(self, description, total, self._clock())
        with self.lock:
            self._tasks.append(task)
        return task

    def finish(self, task: _LineTask) -> None:
        """Write ``task``'s ``done`` line, once."""
        with self.lock:
            if task.finished:
                return
            task.finished = True
            line = progress_line(
                task.step,
                items=task.items,
                nbytes=task.nbytes,
                elapsed=self._clock() - task.started,
                done=True,
            )
            self._write(line)

    def _run(self) -> None:
        while not self._closed.wait(self._interval):
            with self.lock:
                now = self._clock()
                for task in self._tasks:
                    if not task.finished:
                        self._write(
                            progress_line(
                                task.step,
                                items=task.items,
                                nbytes=task.nbytes,
                                elapsed=now - task.started,
                                total=task.total,
                            )
                        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed.set()
        self._thread.join()
        if exc_type is None:  # a failed or interrupted step did not finish
            for task in list(self._tasks):
                self.finish(task)
