"""The one object that decides every retry of a client: whether, and after how long.

The Requester asks it after a transport error or an error status; ``download_many``
asks it after a body that broke midway. ``RetryPolicy`` (public) says what a request
allows; ``_Retries`` applies it with the client's ``max_retries``, ``max_retry_after``
and backoff.
"""

from __future__ import annotations

import email.utils
import enum
import math
import random
import time
from collections.abc import Callable
from typing import Final

import httpx

from .._constants import (
    ABSURD_RETRY_AFTER,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_DELAY,
    RETRYABLE_STATUSES,
)
from .._errors import APIStatusError

__all__ = ["NOT_SENT", "RetryPolicy", "parse_retry_after"]


class RetryPolicy(enum.Enum):
    """How a request may be retried."""

    IDEMPOTENT = "idempotent"
    """GET and DELETE of explicit ids: retried on connect errors, timeouts, 408, 429, 5xx."""
    NO_REPLAY = "no_replay"
    """PATCH and collection DELETE: retried only when the request was certainly not sent."""


# Failures where the request never reached the server, so replaying cannot duplicate it.
NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures after which an idempotent request may be replayed. Local protocol errors and
# unsupported URLs are bugs, not weather, and are raised at once.
_AMBIGUOUS: Final = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``Retry-After`` (seconds or HTTP-date).

    Returns None when absent or unusable (unparseable, not positive, not finite, or
    beyond a day), so the caller falls back to its own backoff.
    """
    seconds: float | None = None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            seconds = float(raw_ms) / 1000.0
        except ValueError:
            seconds = None
    if seconds is None:
        raw = headers.get("retry-after")
        if raw is None:
            return None
        try:
            seconds = float(raw)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError, IndexError):
                return None
            if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive parse means no zone given
                return None
            seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds) or seconds <= 0 or seconds > ABSURD_RETRY_AFTER:
        return None
    return seconds


class _Retries:
    """A client's retry decisions. Each method returns the delay before the next attempt,
    or None when the failure is final."""

    def __init__(self, *, max_retries: int, max_retry_after: float) -> None:
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        # Injection point so backoff is reproducible in tests.
        self.random: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        """Full jitter: callers that failed together spread out instead of retrying in lockstep."""
        ceiling = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2.0**attempt)
        return ceiling * self.random()

    def after_exception(
        self, exc: httpx.TransportError, policy: RetryPolicy, attempt: int
    ) -> float | None:
        """After a transport failure before any response (attempt 0 is the first)."""
        if attempt >= self.max_retries:
            return None
        if isinstance(exc, NOT_SENT):
            return self.backoff(attempt)
        if policy is RetryPolicy.IDEMPOTENT and isinstance(exc, _AMBIGUOUS):
            return self.backoff(attempt)
        return None

    def after_status(
        self, error: APIStatusError, policy: RetryPolicy, attempt: int
    ) -> float | None:
        """After an error status; a too-long ``Retry-After`` is final (the caller reschedules)."""
        if (
            policy is not RetryPolicy.IDEMPOTENT
            or error.status_code not in RETRYABLE_STATUSES
            or attempt >= self.max_retries
        ):
            return None
        if error.retry_after is None:
            return self.backoff(attempt)
        if error.retry_after > self.max_retry_after:
            return None
        return error.retry_after

    def after_broken_body(self, attempt: int) -> float | None:
        """After a body that was cut short or lost while read (downloads resume or restart)."""
        if attempt >= self.max_retries:
            return None
        return self.backoff(attempt)
