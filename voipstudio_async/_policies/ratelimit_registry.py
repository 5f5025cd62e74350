"""One limiter per account and event loop: clients of one account share it.

Two ``VoipStudio`` clients of one account (same account key and ``RateLimit``) built in
one event loop draw on one server limit, so they must pace as one: each client opens
the shared limiter when built and releases it in ``aclose``; the last release closes it
(its Redis connections). A client dropped without ``aclose`` releases it when
collected. Clients built outside a running loop share among themselves.
"""

from __future__ import annotations

import asyncio
import weakref

from .ratelimit import LocalLimiter, RateLimit
from .ratelimit_redis import RedisLimiter

__all__ = ["Limiter", "close_limiter", "open_limiter"]

Limiter = LocalLimiter | RedisLimiter

_Key = tuple[asyncio.AbstractEventLoop | None, str, RateLimit]
_SHARED: weakref.WeakValueDictionary[_Key, Limiter] = weakref.WeakValueDictionary()
_USERS: weakref.WeakKeyDictionary[Limiter, int] = weakref.WeakKeyDictionary()


def open_limiter(limit: RateLimit | None, key: str) -> Limiter | None:
    """The limiter for ``limit`` and account ``key`` (``limit.key`` wins) in this loop."""
    if limit is None:
        return None
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    account = limit.key or key
    shared_key = (loop, account, limit)
    limiter = _SHARED.get(shared_key)
    if limiter is None:
        limiter = LocalLimiter(limit) if limit.redis_url is None else RedisLimiter(limit, account)
        _SHARED[shared_key] = limiter
    _USERS[limiter] = _USERS.get(limiter, 0) + 1
    return limiter


async def close_limiter(limiter: Limiter) -> None:
    """Release one client's use of ``limiter``; the last one closes it."""
    users = _USERS.get(limiter, 1) - 1
    if users > 0:
        _USERS[limiter] = users
        return
    _USERS.pop(limiter, None)
    for shared_key, shared in list(_SHARED.items()):
        if shared is limiter:
            del _SHARED[shared_key]
    await limiter.aclose()
