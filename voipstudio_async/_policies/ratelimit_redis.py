"""The limiter shared by every process (and machine) of one account, kept in Redis.

The same state machine as ``LocalLimiter`` (``ratelimit_core``), its state one Redis
hash per account with a fixed set of fields, every decision one call of
``ratelimit_core.LUA``, so concurrent processes update it atomically and read one clock
(Redis's ``TIME``). Successes ride along with the next reservation (no extra round
trip). The hash's name is the account key inside a hash tag (``{...}``), so a Redis
Cluster keeps it in one slot (``RateLimit(redis_cluster=True)``).

Decisions queue for one of ``REDIS_MAX_CONNECTIONS`` connections, so a burst of tasks
never meets redis-py's connection limit. If Redis cannot be reached the limiter logs a
WARNING, keeps pacing with the local limiter (which sees every request all along) and
tries Redis again after ``REDIS_RETRY_AFTER`` s; when Redis answers again it logs INFO,
and the next loss warns again. Requests never fail because the store is down.

Two failures are not a lost store: the client closing (its ``aclose`` closes the
connections under decisions still waiting for Redis: those calls fail with
``ClientClosedError``, nothing sent, nothing logged) and the call being cancelled
(redis-py may surface a cancellation as its own connection or timeout error: it is
raised as the cancellation, never paced locally and sent).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
import weakref
from collections.abc import Callable
from typing import Any

from .._constants import (
    INITIAL_RETRY_DELAY,
    REDIS_MAX_CONNECTIONS,
    REDIS_RETRY_AFTER,
    REDIS_STATE_TTL,
    REDIS_TIMEOUT,
)
from .._errors import ClientClosedError
from .ratelimit import LocalLimiter, RateLimit, Refused, Sleep, allowance, refusal
from .ratelimit_core import LUA, recent_successes

__all__ = ["RedisLimiter", "redis_key"]

logger = logging.getLogger("voipstudio_async")


def redis_key(key: str) -> str:
    """The Redis hash of account ``key``: one cluster slot (the whole key is the tag)."""
    return "{" + key.replace("{", "(").replace("}", ")") + "}"


class _Connection:
    """One event loop's Redis client, script and queue for connections."""

    def __init__(self, limit: RateLimit, url: str) -> None:
        import redis.asyncio  # the `redis` extra
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        options: dict[str, Any] = {
            "socket_timeout": REDIS_TIMEOUT,
            "socket_connect_timeout": REDIS_TIMEOUT,
            "max_connections": REDIS_MAX_CONNECTIONS,
        }
        # The cluster client's default retries (10, backoff up to 1 s, a topology refresh
        # each) held every decision 27 s on a hung master and 2-3 s on a stopped one,
        # against one REDIS_TIMEOUT on a single server: the limiter's own fallback and
        # REDIS_RETRY_AFTER are the retry policy. One immediate retry stays: without it
        # the connections a restarted cluster had closed were taken for a second loss.
        # MOVED and ASK are followed either way.
        self.client: Any = (
            redis.asyncio.RedisCluster.from_url(url, retry=Retry(NoBackoff(), 1), **options)
            if limit.redis_cluster
            else redis.asyncio.Redis.from_url(url, **options)
        )
        self.script: Any = self.client.register_script(LUA)
        # redis-py raises MaxConnectionsError past its limit: queue below it instead.
        self.slots = asyncio.Semaphore(REDIS_MAX_CONNECTIONS)


class RedisLimiter:
    """A ``RateLimit`` with ``redis_url``: shared through Redis under ``key``."""

    def __init__(
        self,
        limit: RateLimit,
        key: str,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit.redis_url is None:
            raise ValueError("RedisLimiter needs RateLimit(redis_url=...)")
        try:
            # Imported with the client, not by its first request: on a loaded machine the
            # import held the event loop for up to 2 s inside the first call.
            import redis.asyncio  # noqa: F401  (the `redis` extra)
        except ImportError:
            raise ImportError(
                "RateLimit(redis_url=...) needs redis: pip install 'voipstudio-async[redis]'"
            ) from None
        self._limit = limit
        self._url = limit.redis_url
        self.key = redis_key(key)
        """The account's Redis hash."""
        cap = float(limit.requests_per_second or 0.0)
        self._cap = repr(cap)
        self._burst = str(limit.burst if limit.burst is not None else max(1, math.ceil(cap)))
        self._sleep = sleep
        self._clock = clock
        self.local = LocalLimiter(limit, clock=clock, sleep=sleep)
        """Paces alone while Redis is unreachable; sees every request all along."""
        self._connections: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Connection]
        self._connections = weakref.WeakKeyDictionary()
        self._down_until = -1.0
        self._lost = False
        self._offset = 0.0  # Redis TIME minus this clock, as last seen
        self._pending_successes = 0
        self._catch_up = False
        self._left_at = 0.0  # when Redis was lost, on its clock (estimated)
        self._closed = False
        self.throttles = 0
        """Throttle events this process reported that cut the shared rate."""

    @property
    def shared(self) -> bool:
        """False while the local limiter stands in for an unreachable Redis."""
        return self._clock() >= self._down_until

    def now(self) -> float:
        """Send times on Redis's clock (estimated), so throttles compare across processes."""
        return self._clock() + self._offset if self.shared else self.local.now()

    def _connection(self) -> _Connection:
        loop = asyncio.get_running_loop()
        connection = self._connections.get(loop)
        if connection is None:
            connection = self._connections[loop] = _Connection(self._limit, self._url)
        return connection

    def _not_lost(self, exc: BaseException) -> None:
        """Raise what a store failure really is when it is not a lost store: the client
        closed under the decision, or the call cancelled."""
        if self._closed:
            raise ClientClosedError() from None
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise asyncio.CancelledError() from exc

    def _lose(self, exc: BaseException) -> None:
        self._not_lost(exc)
        self._down_until = self._clock() + REDIS_RETRY_AFTER
        # Counted by the local limiter alone until Redis answers again; the first decision
        # then sends its last second (their moment; the outage's older ones are stale).
        self._pending_successes = 0
        self._catch_up = True
        if not self._lost:
            self._lost = True
            self._left_at = self._clock() + self._offset
            # The URL may carry a password: name the failure class only.
            logger.warning(
                "rate limit store unreachable (%s): pacing with this process's own "
                "limiter until it is back",
                type(exc).__name__,
            )

    async def _call(self, *args: str) -> Any:
        connection = self._connection()
        async with connection.slots:
            reply = await connection.script(keys=[self.key], args=list(args))
        if self._lost:
            self._lost = False
            logger.info("rate limit store reachable again: the shared limit is back")
        return reply

    async def acquire(
        self,
        deadline: float | None = None,
        *,
        max_wait: float = math.inf,
        sleep: Sleep | None = None,
    ) -> None:
        """Wait for this request's turn on the shared schedule (or the local one).

        Raises:
            Refused: as ``LocalLimiter.acquire``.
            ClientClosedError: the client closed (before or during the decision).
        """
        if self._closed:
            raise ClientClosedError()
        if self.shared:
            try:
                await self._acquire_shared(deadline, max_wait, sleep or self._sleep)
                return
            except Refused:
                raise
            except Exception as exc:  # any store failure: never fail the request
                self._lose(exc)
        await self.local.acquire(deadline, max_wait=max_wait, sleep=sleep)

    async def _acquire_shared(self, deadline: float | None, max_wait: float, sleep: Sleep) -> None:
        confirm = -1
        while True:
            now = self._clock()
            left = allowance(now, deadline, max_wait)
            add, join = self._take_successes()
            reply = await self._call(
                "-1", "acquire", str(REDIS_STATE_TTL), self._cap, self._burst,
                str(add), repr(left), str(confirm), *join,
            )  # fmt: skip
            ok, wait, epoch, redis_now = reply
            self._offset = float(redis_now) - (now + self._clock()) / 2
            wait = float(wait)
            if not int(ok):
                raise refusal(wait, deadline, max_wait)
            if wait <= 0:
                return
            await sleep(wait)
            confirm = int(float(epoch))  # a throttle meanwhile voids the reservation

    def on_success(self) -> None:
        """Count a success (sent to Redis with the next reservation)."""
        self.local.on_success()
        if not self._catch_up:
            # Not while Redis is away: sent with the first decision after it returned,
            # an outage's successes landed in one 100 ms bucket as a burst of rate.
            self._pending_successes += 1

    def _take_successes(self) -> tuple[int, tuple[str, str, str, str]]:
        """Successes to send with the next decision: those since the last one, and the
        join's four arguments (``ratelimit_core.join``): after a loss, the local
        limiter's last second of successes (a restarted Redis starts from the rates of
        the processes back whose limiters saw 429s, and a cut made before this process
        was back rises by its rate), when Redis was lost, whether the local limiter has
        seen 429s, and the end of its bookings on Redis's clock."""
        add, self._pending_successes = self._pending_successes, 0
        if not self._catch_up:
            return add, ("0", repr(self._left_at), "0", "0")
        self._catch_up = False
        local = self.local.state
        now = self.local.now()
        join = int(recent_successes(local, now))
        limited = "1" if local.get("rate0", 0.0) > 0 else "0"
        booked = local.get("tat", 0.0) + self._offset if local.get("tat", 0.0) > now else 0.0
        return add, (str(join), repr(self._left_at), limited, repr(booked))

    async def report_throttle(self, sent_at: float, retry_after: float | None) -> None:
        """A request sent at ``sent_at`` (``now()`` time) was answered 429."""
        self.local.on_throttle(self.local.now() - (self.now() - sent_at), retry_after)
        if not self.shared:
            return
        pause = retry_after if retry_after is not None else INITIAL_RETRY_DELAY * random.random()
        add, join = self._take_successes()
        try:
            cut = await self._call(
                "-1", "throttle", str(REDIS_STATE_TTL), self._cap, repr(sent_at), repr(pause),
                str(add), *join,
            )  # fmt: skip
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not self._closed:  # closed: the call already has its answer, a 429
                self._lose(exc)
            return
        if int(cut):
            self.throttles += 1

    async def aclose(self) -> None:
        """Close this event loop's Redis connections."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._closed = True
        connection = self._connections.pop(loop, None)
        if connection is not None:
            await connection.client.aclose()
