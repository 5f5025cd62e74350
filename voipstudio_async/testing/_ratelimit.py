"""The fake's rate limit: a token bucket over every request, answering 429 like a real API."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from ._http import ApiError, Response

__all__ = ["ServerRateLimit", "parse_schedule"]


def parse_schedule(text: str) -> list[tuple[float, float]]:
    """``"200,50@10,200@20"``: 200/s from the start, 50/s from 10 s, 200/s from 20 s.

    Returns ``(seconds from the start, requests/s)`` steps in order; ``ValueError`` if a
    step is malformed, a rate is not > 0 or the times do not increase.
    """
    steps: list[tuple[float, float]] = []
    for index, part in enumerate(text.split(",")):
        rate_text, _, at_text = part.strip().partition("@")
        try:
            rate, at = float(rate_text), float(at_text) if at_text else 0.0
        except ValueError:
            raise ValueError(f"rate limit step {part.strip()!r} is not RPS[@SECONDS]") from None
        if not rate > 0 or not math.isfinite(rate) or not math.isfinite(at):
            raise ValueError(f"rate limit step {part.strip()!r}: the rate must be > 0")
        if (index == 0 and at != 0) or (steps and at <= steps[-1][0]):
            raise ValueError("rate limit steps start at 0 s and their times increase")
        steps.append((at, rate))
    return steps


class ServerRateLimit:
    """``requests_per_second`` refilled continuously into a bucket of ``burst`` tokens.

    A request that finds the bucket empty is answered 429; with ``retry_after`` the
    answer says when the next token is due (``Retry-After`` in whole seconds, rounded
    up, and ``retry-after-ms`` exactly), without it the client must guess.
    """

    def __init__(
        self,
        requests_per_second: float,
        *,
        burst: int | None = None,
        retry_after: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not requests_per_second > 0 or not math.isfinite(requests_per_second):
            raise ValueError(f"requests_per_second must be > 0, got {requests_per_second!r}")
        self.requests_per_second = float(requests_per_second)
        self.burst = max(1, math.ceil(requests_per_second)) if burst is None else burst
        if self.burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        self.retry_after = retry_after
        self._clock = clock
        self._tokens = float(self.burst)
        self._updated = clock()
        self._lock = threading.Lock()
        self._fixed_burst = burst is not None
        self._started = self._updated
        self._steps: list[tuple[float, float]] = []
        self.admitted = 0
        """Requests let through."""
        self.refused = 0
        """Requests answered 429."""

    def follow(self, steps: list[tuple[float, float]]) -> None:
        """Change the rate over time: ``(seconds from now, requests/s)`` steps (see
        ``parse_schedule``); without a fixed ``burst`` the bucket is one second's worth
        of the rate in force."""
        with self._lock:
            self._started = self._clock()
            self._steps = sorted(steps)

    def _apply_schedule(self, now: float) -> None:
        rate = self.requests_per_second
        for at, step_rate in self._steps:
            if now - self._started >= at:
                rate = step_rate
        if rate != self.requests_per_second:
            self.requests_per_second = rate
            if not self._fixed_burst:
                self.burst = max(1, math.ceil(rate))
                self._tokens = min(self._tokens, float(self.burst))

    def check(self) -> Response | None:
        """Take a token, or return the 429 answer when there is none."""
        with self._lock:
            now = self._clock()
            if self._steps:
                self._apply_schedule(now)
            self._tokens = min(
                float(self.burst),
                self._tokens + (now - self._updated) * self.requests_per_second,
            )
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                self.admitted += 1
                return None
            self.refused += 1
            wait = (1.0 - self._tokens) / self.requests_per_second
        headers = []
        if self.retry_after:
            headers = [
                (b"retry-after", str(max(1, math.ceil(wait))).encode()),
                (b"retry-after-ms", f"{wait * 1000:.1f}".encode()),
            ]
        return ApiError(429, "Too many requests", [], headers).response()
