"""The limiter shared by every process (and machine) of one account, kept in Redis.

The same controller as ``LocalLimiter`` (pause, slow start then CUBIC around the
accepted rate, GCRA send times, optional static cap), but its state is one Redis hash
per account and every decision is one Lua script, so concurrent processes update it
atomically and read one clock (Redis's ``TIME``). Successes are counted in 100 ms
buckets, sent with the next request's reservation (no extra round trip).

If Redis cannot be reached the limiter logs one WARNING, keeps pacing with the local
limiter (which sees every request all along), and tries Redis again after a while:
requests never fail because the store is down.
"""

from __future__ import annotations

import importlib.util
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from ._constants import (
    INITIAL_RETRY_DELAY,
    RATE_CUBIC_BETA,
    RATE_CUBIC_SCALE,
    RATE_MIN,
    RATE_MIN_WINDOW,
    RATE_SLOW_START_DOUBLING,
    RATE_WINDOW,
    REDIS_RETRY_AFTER,
    REDIS_STATE_TTL,
    REDIS_TIMEOUT,
)
from ._errors import APITimeoutError
from ._ratelimit import LocalLimiter, RateLimit

__all__ = ["RedisLimiter"]

logger = logging.getLogger("voipstudio_async")

_COMMON: Final = f"""
local key, succ_key = KEYS[1], KEYS[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local s = redis.call('HGETALL', key)
local st = {{}}
for i = 1, #s, 2 do st[s[i]] = tonumber(s[i + 1]) end
local function get(name, default) return st[name] or default end
local cap, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local function rate_at(at)
  local rate0 = get('rate0', 0)
  local adaptive = nil
  if rate0 > 0 then
    local elapsed = math.max(0, at - get('grows', 0))
    if get('slow', 0) == 1 then
      adaptive = rate0 * 2 ^ math.min(elapsed / {RATE_SLOW_START_DOUBLING}, 30)
    else
      local ceiling = get('ceiling', rate0)
      local k = (ceiling * (1 - {RATE_CUBIC_BETA}) / {RATE_CUBIC_SCALE}) ^ (1 / 3)
      adaptive = ceiling + {RATE_CUBIC_SCALE} * (elapsed - k) ^ 3
    end
    adaptive = math.max({RATE_MIN}, adaptive)
  end
  if cap > 0 then
    if adaptive == nil then return cap end
    return math.min(cap, adaptive)
  end
  return adaptive
end
local function save(fields)
  local flat = {{}}
  for name, value in pairs(fields) do
    table.insert(flat, name)
    table.insert(flat, tostring(value))
  end
  redis.call('HSET', key, unpack(flat))
  redis.call('EXPIRE', key, {REDIS_STATE_TTL})
end
"""

# ARGV: cap, burst, successes to add, seconds left before the deadline (-1: none),
# epoch to confirm (-1: reserve). Returns {ok, wait, epoch, now}: ok 0 = past the deadline.
_ACQUIRE: Final = (
    _COMMON
    + f"""
local add, left, confirm = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if add > 0 then
  local bucket = math.floor(now * 10)
  redis.call('HINCRBY', succ_key, bucket, add)
  redis.call('EXPIRE', succ_key, {REDIS_STATE_TTL})
  if st['first'] == nil then save({{first = now}}) end
end
local epoch = get('epoch', 0)
if confirm >= 0 and confirm == epoch then
  return {{1, '0', tostring(epoch), tostring(now)}}
end
local start = math.max(now, get('paused', 0))
local rate = rate_at(start)
if rate == nil then
  local wait = start - now
  if left >= 0 and wait > left then return {{0, tostring(wait), tostring(epoch), tostring(now)}} end
  return {{1, tostring(wait), tostring(epoch), tostring(now)}}
end
local interval = 1 / rate
local b = burst
if get('rate0', 0) > 0 then b = 1 end
local tat = math.max(get('tat', 0), start)
local at = math.max(start, tat - (b - 1) * interval)
local wait = at - now
if left >= 0 and wait > left then return {{0, tostring(wait), tostring(epoch), tostring(now)}} end
save({{tat = tat + interval}})
return {{1, tostring(wait), tostring(epoch), tostring(now)}}
"""
)

# ARGV: cap, burst, sent_at (Redis clock), pause seconds.
_THROTTLE: Final = (
    _COMMON
    + f"""
local sent_at, pause = tonumber(ARGV[3]), tonumber(ARGV[4])
local paused = math.max(get('paused', 0), now + pause)
if sent_at < get('throttled_at', 0) then
  save({{paused = paused}})
  return 0
end
local current = rate_at(now)
local start = math.max(now - {RATE_WINDOW}, get('first', now), get('grows', 0))
local accepted = nil
if now - start >= {RATE_MIN_WINDOW} or get('rate0', 0) == 0 then
  if now - start < {RATE_MIN_WINDOW} then start = now - {RATE_MIN_WINDOW} end
  local count = 0
  local buckets = redis.call('HGETALL', succ_key)
  for i = 1, #buckets, 2 do
    local bucket = tonumber(buckets[i])
    if bucket >= math.floor(start * 10) then count = count + tonumber(buckets[i + 1])
    elseif bucket < math.floor((now - 2 * {RATE_WINDOW}) * 10) then
      redis.call('HDEL', succ_key, buckets[i])
    end
  end
  accepted = count / (now - start)
end
local fields = {{paused = paused, throttled_at = now, grows = paused, tat = paused,
  epoch = get('epoch', 0) + 1}}
if get('rate0', 0) == 0 then
  fields.rate0 = math.max({RATE_MIN}, accepted or 0)
  fields.slow = 1
else
  local ceiling = accepted
  if ceiling == nil then ceiling = (current or {RATE_MIN}) / 2 end
  ceiling = math.max({RATE_MIN}, math.min(ceiling, current or ceiling))
  fields.ceiling = ceiling
  fields.rate0 = ceiling * {RATE_CUBIC_BETA}
  fields.slow = 0
end
save(fields)
return 1
"""
)


class RedisLimiter:
    """A ``RateLimit`` with ``redis_url``: shared through Redis under ``key``."""

    def __init__(
        self,
        limit: RateLimit,
        key: str,
        *,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit.redis_url is None:
            raise ValueError("RedisLimiter needs RateLimit(redis_url=...)")
        if importlib.util.find_spec("redis") is None:
            raise ImportError(
                "RateLimit(redis_url=...) needs redis: pip install 'voipstudio-async[redis]'"
            )
        self._url = limit.redis_url
        self._keys = [f"{key}", f"{key}:ok"]
        self._args = [str(limit.requests_per_second or 0), str(limit.burst or 0)]
        if limit.requests_per_second is not None and limit.burst is None:
            self._args[1] = str(max(1, int(limit.requests_per_second + 0.999)))
        self._sleep = sleep
        self._clock = clock
        self.local = LocalLimiter(limit, clock=clock, sleep=sleep)
        """Paces alone while Redis is unreachable; sees every request all along."""
        self._redis: Any = None
        self._acquire: Any = None
        self._throttle: Any = None
        self._down_until = -1.0
        self._warned = False
        self._offset = 0.0  # Redis TIME minus this clock, as last seen
        self._pending_successes = 0
        self.throttles = 0
        """Throttle events this process reported (echoes excluded)."""

    @property
    def shared(self) -> bool:
        """False while the local limiter stands in for an unreachable Redis."""
        return self._clock() >= self._down_until

    def now(self) -> float:
        """Send times on Redis's clock (estimated), so throttles compare across processes."""
        return self._clock() + self._offset if self.shared else self.local.now()

    def _client(self) -> Any:
        if self._redis is None:
            import redis.asyncio  # the `redis` extra

            self._redis = redis.asyncio.Redis.from_url(
                self._url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
            )
            self._acquire = self._redis.register_script(_ACQUIRE)
            self._throttle = self._redis.register_script(_THROTTLE)
        return self._redis

    def _fall_back(self, exc: BaseException) -> None:
        self._down_until = self._clock() + REDIS_RETRY_AFTER
        if not self._warned:
            self._warned = True
            # The URL may carry a password: name the failure class only.
            logger.warning(
                "rate limit store unreachable (%s): pacing with this process's own "
                "limiter until it is back",
                type(exc).__name__,
            )

    async def _call(self, script: str, args: list[str]) -> Any:
        self._client()
        function = self._acquire if script == "acquire" else self._throttle
        return await function(keys=self._keys, args=self._args + args)

    async def acquire(self, deadline: float | None = None) -> None:
        """Wait for this request's turn on the shared schedule (or the local one)."""
        if self.shared:
            try:
                await self._acquire_shared(deadline)
                return
            except APITimeoutError:
                raise
            except Exception as exc:  # any store failure: never fail the request
                self._fall_back(exc)
        await self.local.acquire(deadline)

    async def _acquire_shared(self, deadline: float | None) -> None:
        confirm = -1
        while True:
            left = -1.0 if deadline is None else max(0.0, deadline - self._clock())
            add, self._pending_successes = self._pending_successes, 0
            before = self._clock()
            ok, wait, epoch, now = await self._call("acquire", [str(add), str(left), str(confirm)])
            self._offset = float(now) - (before + self._clock()) / 2
            wait = float(wait)
            if not int(ok):
                raise APITimeoutError(
                    f"the shared rate limit allows the next request in {wait:.2f}s, "
                    f"after the deadline ({left:.2f}s left)"
                )
            if wait <= 0:
                return
            await self._sleep(wait)
            confirm = int(float(epoch))  # a throttle meanwhile voids the reservation

    def on_success(self) -> None:
        """Count a success (sent to Redis with the next reservation)."""
        self.local.on_success()
        self._pending_successes += 1

    async def report_throttle(self, sent_at: float, retry_after: float | None) -> None:
        """A request sent at ``sent_at`` (``now()`` time) was answered 429."""
        self.local.on_throttle(self.local.now() - (self.now() - sent_at), retry_after)
        if not self.shared:
            return
        pause = retry_after if retry_after is not None else INITIAL_RETRY_DELAY * random.random()
        try:
            if int(await self._call("throttle", [repr(sent_at), repr(pause)])):
                self.throttles += 1
        except Exception as exc:
            self._fall_back(exc)

    async def aclose(self) -> None:
        """Close the Redis connections."""
        redis, self._redis = self._redis, None
        if redis is not None:
            await redis.aclose()
