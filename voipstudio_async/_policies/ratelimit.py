"""One limiter per account in a process, in front of every request of every task.

Adaptive by default: until the server first answers 429 nothing waits. A 429 pauses
every client of the account for its ``Retry-After`` (or a short backoff when absent)
and sets a send rate, which then follows CUBIC (the TCP congestion control botocore's
adaptive mode also uses): it grows back quickly while far below the last ceiling,
flattens near it, and probes beyond it only slowly. CUBIC rather than AIMD because the
ceiling here is a fixed server limit: CUBIC spends most of its time just under the rate
that last drew a 429, where AIMD's linear climb either ramps slowly or overshoots.

The ceiling is the rate the server was *accepting* (successes), not the rate the client
was sending, so rejected requests never inflate it. Requests get distinct send times
(GCRA reservations), so tasks released from a pause leave one by one. The state machine
itself is ``ratelimit_core`` (shared with the Redis limiter's Lua).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from .._checks import check_int, check_number
from .._constants import INITIAL_RETRY_DELAY, RATE_DEADLINE_SEND_SHARE
from .._tracing import note_rate_limit_wait
from . import ratelimit_core as core

__all__ = ["DEFAULT_RATE_LIMIT", "LocalLimiter", "RateLimit", "Refused", "allowance"]

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    """How a client paces its requests (``VoipStudio(rate_limit=...)``).

    ``RateLimit()`` (the default) only adapts to the server's 429s.
    ``requests_per_second`` adds a static cap with bursts of up to ``burst`` requests
    (default: one second's worth). ``redis_url`` (``redis://``, ``rediss://`` or
    ``unix://``; needs ``voipstudio-async[redis]``) shares the limit with every process
    using the same Redis and ``key`` (default: one key per account: the user id, or a
    hash of the token or login credentials). With ``redis_cluster=True`` the URL names
    one node of a Redis Cluster (redis-py's cluster client); an account's state is one
    hash whose name carries a hash tag, so it lives in one slot. Clients of one account
    (and ``RateLimit``) in one process share one limiter.
    """

    requests_per_second: float | None = None
    """A static cap on the send rate (None: adapt to 429s only)."""
    burst: int | None = None
    """Requests the cap lets through at once (None: one second's worth)."""
    redis_url: str | None = field(default=None, repr=False)  # may hold a password
    """A Redis to keep the limit in, shared by every client using it (None: local)."""
    key: str | None = None
    """The name the limit is shared under (None: one per account)."""
    redis_cluster: bool = False
    """``redis_url`` names a node of a Redis Cluster."""

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
        if not isinstance(self.redis_cluster, bool):
            raise ValueError(f"redis_cluster must be a bool, got {self.redis_cluster!r}")
        if self.redis_cluster and url is None:
            raise ValueError("redis_cluster=True needs redis_url=")
        if self.key is not None and (not isinstance(self.key, str) or not self.key.strip()):
            raise ValueError(f"key must be a non-empty string, got {self.key!r}")


DEFAULT_RATE_LIMIT: Final = RateLimit()
"""Adaptive only: a client that never sees a 429 never waits."""


class Refused(Exception):
    """The limiter's next turn for this request is ``wait`` s away: past the call's
    deadline (``past_deadline``) or longer than ``max_retry_after``. Nothing was booked."""

    def __init__(self, wait: float, *, past_deadline: bool) -> None:
        self.wait = wait
        self.past_deadline = past_deadline
        super().__init__(f"rate limit wait {wait:.2f}s")


def allowance(now: float, deadline: float | None, max_wait: float) -> float:
    """The longest wait a request may book at ``now`` (-1: any): ``max_wait``, and at
    most ``RATE_DEADLINE_SEND_SHARE`` of the time left before ``deadline``."""
    bound = max_wait
    if deadline is not None:
        bound = min(bound, max(0.0, deadline - now) * RATE_DEADLINE_SEND_SHARE)
    return -1.0 if math.isinf(bound) else bound


def refusal(wait: float, deadline: float | None, max_wait: float) -> Refused:
    """The ``Refused`` for a wait longer than ``allowance`` allowed."""
    return Refused(wait, past_deadline=wait <= max_wait and deadline is not None)


class LocalLimiter:
    """A ``RateLimit`` kept in this process (state machine: ``ratelimit_core``)."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = random.random,
    ) -> None:
        self._cap = float(limit.requests_per_second or 0.0)
        self._burst = limit.burst if limit.burst is not None else max(1, math.ceil(self._cap))
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self.state: core.State = {}
        """The state machine's fields (``ratelimit_core.FIELDS``)."""
        self.throttles = 0
        """Throttles that cut the rate (echoes excluded)."""

    def now(self) -> float:
        """This limiter's clock (``on_throttle`` takes send times on it)."""
        return self._clock()

    def rate(self, now: float) -> float | None:
        """The send rate at ``now`` (requests/s), or None when unlimited."""
        return core.rate_at(self.state, now, self._cap)

    async def acquire(
        self,
        deadline: float | None = None,
        *,
        max_wait: float = math.inf,
        sleep: Sleep | None = None,
    ) -> None:
        """Wait for this request's turn.

        Raises:
            Refused: the turn is more than ``max_wait`` s away, or leaves less than
                ``1 - RATE_DEADLINE_SEND_SHARE`` of the time before ``deadline``.
        """
        while True:
            now = self._clock()
            epoch = self.state.get("epoch", 0.0)
            ok, wait = core.reserve(
                self.state, now, self._cap, self._burst, allowance(now, deadline, max_wait)
            )
            if not ok:
                raise refusal(wait, deadline, max_wait)
            if wait <= 0:
                return
            note_rate_limit_wait(wait)
            await (sleep or self._sleep)(wait)
            if self.state.get("epoch", 0.0) == epoch:
                return  # else a throttle meanwhile voided the booking: book again

    async def report_throttle(self, sent_at: float, retry_after: float | None) -> None:
        """``on_throttle``, awaitable like the shared limiter's."""
        self.on_throttle(sent_at, retry_after)

    async def aclose(self) -> None:
        """Nothing to release (the shared limiter closes its Redis connections)."""

    def on_success(self) -> None:
        """A request was answered below 400 (counts toward the accepted rate)."""
        core.succeed(self.state, self._clock())

    def on_throttle(self, sent_at: float, retry_after: float | None) -> None:
        """A request sent at ``sent_at`` (this limiter's clock) was answered 429."""
        pause = retry_after if retry_after is not None else INITIAL_RETRY_DELAY * self._random()
        if core.throttle(self.state, self._clock(), sent_at, pause, self._cap):
            self.throttles += 1
