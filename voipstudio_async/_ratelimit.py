"""One limiter per client, in front of every request of every task.

Adaptive by default: until the server first answers 429 nothing waits. A 429 pauses the
whole client for its ``Retry-After`` (or a short backoff when absent) and sets a send
rate, which then follows CUBIC (the TCP congestion control botocore's adaptive mode also
uses): it grows back quickly while far below the last ceiling, flattens near it, and
probes beyond it only slowly. CUBIC rather than AIMD because the ceiling here is a fixed
server limit: CUBIC spends most of its time just under the rate that last drew a 429,
where AIMD's linear climb either ramps slowly (small steps) or overshoots (big ones).

The ceiling is the rate the server was *accepting* (successes over the last second),
not the rate the client was sending, so a burst of rejected requests never inflates it.
The first 429 has no full second of history behind it: the rate starts from what got
through and doubles every half second (slow start) until the next 429 marks the ceiling.

Requests get distinct send times (GCRA reservations), so tasks released from a pause
leave one by one instead of as a burst. A 429 whose request was sent before the latest
throttle only echoes it and changes nothing but the pause.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from ._checks import check_int, check_number
from ._constants import (
    INITIAL_RETRY_DELAY,
    RATE_CUBIC_BETA,
    RATE_CUBIC_SCALE,
    RATE_MIN,
    RATE_MIN_WINDOW,
    RATE_SLOW_START_DOUBLING,
    RATE_WINDOW,
)
from ._errors import APITimeoutError
from ._otel import note_rate_limit_wait

__all__ = ["DEFAULT_RATE_LIMIT", "LocalLimiter", "RateLimit"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    """How a client paces its requests (``VoipStudio(rate_limit=...)``).

    ``RateLimit()`` (the default) only adapts to the server's 429s.
    ``requests_per_second`` adds a static cap with bursts of up to ``burst`` requests
    (default: one second's worth). ``redis_url`` (``redis://``, ``rediss://`` or
    ``unix://``; needs ``voipstudio-async[redis]``) shares the limit with every process
    using the same Redis and ``key`` (default: one key per account: the user id, or a
    hash of the token or login credentials).
    """

    requests_per_second: float | None = None
    burst: int | None = None
    redis_url: str | None = field(default=None, repr=False)  # may hold a password
    key: str | None = None

    def __post_init__(self) -> None:
        rps = self.requests_per_second
        if rps is not None:
            check_number(rps, "requests_per_second", strict=True)
        burst = self.burst
        if burst is not None:
            check_int(burst, "burst")
        if burst is not None and rps is None:
            raise ValueError("burst= needs requests_per_second=")
        url = self.redis_url
        if url is not None and (
            not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://"))
        ):
            raise ValueError("redis_url must be a redis://, rediss:// or unix:// URL")
        if self.key is not None and (not isinstance(self.key, str) or not self.key.strip()):
            raise ValueError(f"key must be a non-empty string, got {self.key!r}")


DEFAULT_RATE_LIMIT: Final = RateLimit()
"""Adaptive only: a client that never sees a 429 never waits."""


class LocalLimiter:
    """A ``RateLimit`` kept in this process: pause, adaptive rate and static cap."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = random.random,
    ) -> None:
        self._cap = limit.requests_per_second
        cap_burst = limit.burst if limit.burst is not None else math.ceil(self._cap or 1)
        self._cap_burst = max(1, cap_burst)
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self._paused_until = -math.inf
        self._tat = -math.inf  # GCRA: when the bucket would be empty again
        self._epoch = 0  # bumped on every throttle: reservations made before are void
        self._throttled_at = -math.inf
        self._grows_from = -math.inf  # the end of the pause of the last throttle
        self._rate0: float | None = None  # None until the first throttle
        self._ceiling = 0.0
        self._slow_start = False
        self._successes: deque[float] = deque()
        self._first_success: float | None = None
        self.throttles = 0
        """Throttle events (429s that were not echoes of an earlier one)."""

    def now(self) -> float:
        """This limiter's clock (``on_throttle`` takes send times on it)."""
        return self._clock()

    def rate(self, now: float) -> float | None:
        """The send rate at ``now`` (requests/s), or None when unlimited."""
        adaptive: float | None = None
        if self._rate0 is not None:
            elapsed = max(0.0, now - self._grows_from)
            if self._slow_start:
                adaptive = self._rate0 * 2.0 ** min(elapsed / RATE_SLOW_START_DOUBLING, 30.0)
            else:
                k = (self._ceiling * (1.0 - RATE_CUBIC_BETA) / RATE_CUBIC_SCALE) ** (1 / 3)
                adaptive = self._ceiling + RATE_CUBIC_SCALE * (elapsed - k) ** 3
            adaptive = max(RATE_MIN, adaptive)
        if self._cap is None:
            return adaptive
        return self._cap if adaptive is None else min(self._cap, adaptive)

    def _reserve(self, now: float) -> float:
        """Book the next send time; return how long to wait for it."""
        start = max(now, self._paused_until)
        rate = self.rate(start)
        if rate is None:
            return start - now
        interval = 1.0 / rate
        # The static cap allows bursts; an adaptive rate is the server's, so no burst.
        burst = self._cap_burst if self._rate0 is None else 1
        tat = max(self._tat, start)
        at = max(start, tat - (burst - 1) * interval)
        self._tat = tat + interval
        return at - now

    async def acquire(self, deadline: float | None = None) -> None:
        """Wait for this request's turn; ``APITimeoutError`` if it comes after ``deadline``."""
        while True:
            now = self._clock()
            epoch = self._epoch
            wait = self._peek(now)
            if deadline is not None and now + wait > deadline:
                raise APITimeoutError(
                    f"the rate limit allows the next request in {wait:.2f}s, "
                    f"after the deadline ({max(0.0, deadline - now):.2f}s left)"
                )
            wait = self._reserve(now)
            if wait <= 0:
                return
            note_rate_limit_wait(wait)
            await self._sleep(wait)
            if self._epoch == epoch:
                return

    def _peek(self, now: float) -> float:
        saved = self._tat
        try:
            return self._reserve(now)
        finally:
            self._tat = saved

    async def report_throttle(self, sent_at: float, retry_after: float | None) -> None:
        """``on_throttle``, awaitable like the shared limiter's."""
        self.on_throttle(sent_at, retry_after)

    async def aclose(self) -> None:
        """Nothing to release (the shared limiter closes its Redis connections)."""

    def on_success(self) -> None:
        """A request was answered below 400 (counts toward the accepted rate)."""
        now = self._clock()
        if self._first_success is None:
            self._first_success = now
        self._successes.append(now)
        self._trim(now)

    def _accepted(self, now: float) -> float | None:
        """Successes/s over the last second, counted only since the end of the last
        throttle's pause (earlier ones say nothing about the limit) and, before any
        throttle, since the first success. None when that span is too short to tell."""
        self._trim(now)
        first = now if self._first_success is None else self._first_success
        start = max(now - RATE_WINDOW, first, self._grows_from)
        if now - start < RATE_MIN_WINDOW:
            if self._rate0 is not None:
                return None
            start = now - RATE_MIN_WINDOW  # the first 429, milliseconds into a burst
        count = sum(1 for when in reversed(self._successes) if when >= start)
        return count / (now - start)

    def _trim(self, now: float) -> None:
        while self._successes and self._successes[0] <= now - RATE_WINDOW:
            self._successes.popleft()

    def on_throttle(self, sent_at: float, retry_after: float | None) -> None:
        """A request sent at ``sent_at`` (this limiter's clock) was answered 429."""
        now = self._clock()
        pause = retry_after if retry_after is not None else INITIAL_RETRY_DELAY * self._random()
        self._paused_until = max(self._paused_until, now + pause)
        if sent_at < self._throttled_at:
            return  # sent before the last throttle: an echo of it
        current = self.rate(now)
        accepted = self._accepted(now)
        if self._rate0 is None:
            self._rate0 = max(RATE_MIN, accepted or 0.0)
            self._slow_start = True
        else:
            # Too little time since the last throttle to measure: halve instead.
            ceiling = accepted if accepted is not None else (current or RATE_MIN) / 2
            self._ceiling = max(RATE_MIN, min(ceiling, current or ceiling))
            self._rate0 = self._ceiling * RATE_CUBIC_BETA
            self._slow_start = False
        self._throttled_at = now
        self._grows_from = self._tat = self._paused_until
        self._epoch += 1
        self.throttles += 1
