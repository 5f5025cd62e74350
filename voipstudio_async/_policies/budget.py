"""The retry budget: retries of failures capped at a share of the client's recent calls.

As Envoy's retry budget and gRPC's retry throttling: when a server fails widely, every
call retrying multiplies the load on it. With the budget spent, a failing call raises
its own error at once. Waiting out a 429 through the shared limiter is not a retry of a
failure and is not charged.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .._checks import check_int, check_number, check_seconds
from .._constants import DEFAULT_BUDGET_FLOOR, DEFAULT_BUDGET_RATIO, DEFAULT_BUDGET_WINDOW

__all__ = ["DEFAULT_RETRY_BUDGET", "RetryBudget", "_Budget"]

logger = logging.getLogger("voipstudio_async")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryBudget:
    """At most ``ratio`` retries per call over the last ``window`` seconds, and always
    at least ``floor`` retries per window (``VoipStudio(retry_budget=...)``).

    Args:
        ratio: retries allowed per call of the window (0.2: one retry per 5 calls).
        window: seconds of calls and retries counted.
        floor: retries every window allows whatever the calls, so a quiet client can
            still retry.

    Raises:
        ValueError: a value that is not a number (``ratio``), a number of seconds > 0
            (``window``) or an int >= 0 (``floor``).
    """

    ratio: float = DEFAULT_BUDGET_RATIO
    """Retries allowed per call over the window (0.2: one retry for five calls)."""
    window: float = DEFAULT_BUDGET_WINDOW
    """Seconds of calls and retries the budget counts."""
    floor: int = DEFAULT_BUDGET_FLOOR
    """Retries allowed per window whatever the ratio, so a quiet client still retries."""

    def __post_init__(self) -> None:
        check_number(self.ratio, "ratio")
        check_seconds(self.window, "window")
        check_int(self.floor, "floor", minimum=0)


DEFAULT_RETRY_BUDGET: Final = RetryBudget()


class _Budget:
    """A ``RetryBudget`` in force: counts calls and retries over a sliding window."""

    def __init__(self, budget: RetryBudget, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._budget = budget
        self._clock = clock
        self._calls: deque[float] = deque()
        self._retries: deque[float] = deque()
        self.refused = 0
        """Retries refused since the client was built."""

    def _trim(self, now: float) -> None:
        horizon = now - self._budget.window
        for times in (self._calls, self._retries):
            while times and times[0] <= horizon:
                times.popleft()

    def on_call(self) -> None:
        """A call starts (its retries are charged separately)."""
        now = self._clock()
        self._calls.append(now)
        self._trim(now)

    def allows(self, method: str, path_template: str, cause: int | str) -> bool:
        """Spend one retry if the budget has one; else count, log (INFO) and refuse."""
        now = self._clock()
        self._trim(now)
        allowed = max(self._budget.floor, self._budget.ratio * len(self._calls))
        if len(self._retries) < allowed:
            self._retries.append(now)
            return True
        self.refused += 1
        logger.info(
            "not retrying %s %s after %s: retry budget spent (%d retries in %.0fs)",
            method,
            path_template,
            cause,
            len(self._retries),
            self._budget.window,
            extra={"http_method": method, "path_template": path_template, "cause": cause},
        )
        return False
