"""The fake's rate limit: a token bucket over every request, answering 429 like a real API."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from ._http import ApiError, Response

__all__ = ["ServerRateLimit"]


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
        self.admitted = 0
        """Requests let through."""
        self.refused = 0
        """Requests answered 429."""

    def check(self) -> Response | None:
        """Take a token, or return the 429 answer when there is none."""
        with self._lock:
            now = self._clock()
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
