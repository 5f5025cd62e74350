"""The Requester: concurrency gate, retries, status mapping and logging for every request.

Error mapping happens here, after ``http.send()``, and not in an httpx response hook:
httpx runs response hooks inside the auth flow, so raising there would break the
login flow's re-authentication on 401.
"""

from __future__ import annotations

import asyncio
import email.utils
import enum
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final

import httpx

from ._decode import make_status_error
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
)

__all__ = [
    "NOT_GIVEN",
    "NotGiven",
    "Requester",
    "RetryPolicy",
    "TimeoutArg",
    "parse_retry_after",
]

logger = logging.getLogger("voipstudio_async")


class NotGiven(enum.Enum):
    """Sentinel type for "argument not passed" (``None`` would be ambiguous for timeouts)."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN

TimeoutArg = float | httpx.Timeout | NotGiven
"""A per-call timeout: seconds for every phase, an ``httpx.Timeout``, or the client default."""


class RetryPolicy(enum.Enum):
    """How a request may be retried."""

    IDEMPOTENT = "idempotent"
    """GET and DELETE of explicit ids: retried on connect errors, timeouts, 408, 429, 5xx."""
    NO_REPLAY = "no_replay"
    """PATCH and collection DELETE: retried only when the request was certainly not sent."""


RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
# A Retry-After beyond this is a broken header rather than a real instruction.
ABSURD_RETRY_AFTER: Final = 86_400.0
# How much of an error body a stream reads before raising (the rest is discarded).
MAX_ERROR_BODY: Final = 64 * 1024

# httpx refuses a URL, or any one of its components, longer than this (InvalidURL).
MAX_URL_LENGTH: Final = 65_536

# Failures where the request never reached the server, so replaying cannot duplicate it.
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures after which an idempotent request may be replayed. Local protocol errors and
# unsupported URLs are bugs, not weather, and are raised at once.
_AMBIGUOUS: Final = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

# Statuses after which the server may still have carried the request out.
_MAYBE_DONE_STATUSES: Final = frozenset({500, 502, 504})

_REQUEST_KEYS: Final = ("params", "json", "content", "data", "files", "headers", "cookies")


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


class Requester:
    """Sends the generated operations' request dicts; shared by every resource.

    Not constructed by users: ``VoipStudio`` builds one and resources reach it as
    ``client._requester``.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        auth: httpx.Auth,
        timeout: httpx.Timeout,
        max_retries: int,
        max_retry_after: float,
        max_concurrency: int,
        owns_http: bool,
    ) -> None:
        self._http = http
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.auth = auth
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.max_concurrency = max_concurrency
        self._gate = asyncio.Semaphore(max_concurrency)
        self._owns_http = owns_http
        self._closed = False
        # Injection points so tests never sleep and backoff is reproducible.
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._random: Callable[[], float] = random.random

    @property
    def closed(self) -> bool:
        """True once ``aclose()`` ran (or a user-supplied client was closed)."""
        return self._closed or self._http.is_closed

    async def aclose(self) -> None:
        """Refuse further requests and close the HTTP client if this Requester created it."""
        self._closed = True
        if self._owns_http:
            await self._http.aclose()

    def url_for(self, path: str) -> str:
        """Absolute URL for an operation path such as ``/cdrs/42``."""
        return self._base_url + path.lstrip("/")

    def build_request(self, kwargs: Mapping[str, Any], timeout: TimeoutArg) -> httpx.Request:
        """An httpx request for a generated ``_get_kwargs()`` dict."""
        extra = {key: kwargs[key] for key in _REQUEST_KEYS if key in kwargs}
        effective = self.timeout if isinstance(timeout, NotGiven) else timeout
        method, url = str(kwargs["method"]).upper(), self.url_for(kwargs["url"])
        try:
            return self._http.build_request(method, url, timeout=effective, **extra)
        except httpx.InvalidURL as exc:
            raise _invalid_url(method, kwargs["url"], url, kwargs.get("params"), exc) from None

    async def send(
        self,
        kwargs: Mapping[str, Any],
        *,
        policy: RetryPolicy,
        path_template: str,
        timeout: TimeoutArg = NOT_GIVEN,
        auth: httpx.Auth | None = None,
    ) -> httpx.Response:
        """Send with retries and return the read response; statuses >= 400 raise.

        ``auth`` overrides the client's credentials for this call (``httpx.Auth()`` sends
        none, as the two-factor login step needs).
        """
        response = await self._open(
            kwargs,
            policy=policy,
            path_template=path_template,
            timeout=timeout,
            auth=self.auth if auth is None else auth,
            read=True,
        )
        self._gate.release()
        return response

    def stream(
        self,
        kwargs: Mapping[str, Any],
        *,
        policy: RetryPolicy,
        path_template: str,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> AbstractAsyncContextManager[httpx.Response]:
        """Context manager yielding a response whose status is < 400 and body is unread.

        Error statuses are raised (after reading at most 64 KiB of the body) before the
        block runs. The concurrency slot is held until the block exits; transport errors
        while the block reads the body surface as APIConnectionError/APITimeoutError.
        """
        return self._stream(kwargs, policy=policy, path_template=path_template, timeout=timeout)

    @asynccontextmanager
    async def _stream(
        self,
        kwargs: Mapping[str, Any],
        *,
        policy: RetryPolicy,
        path_template: str,
        timeout: TimeoutArg,
    ) -> AsyncIterator[httpx.Response]:
        response = await self._open(
            kwargs,
            policy=policy,
            path_template=path_template,
            timeout=timeout,
            auth=self.auth,
            read=False,
        )
        try:
            yield response
        except httpx.TransportError as exc:
            raise _connection_error(exc, response.request.method, path_template) from exc
        finally:
            await response.aclose()
            self._gate.release()

    async def _open(
        self,
        kwargs: Mapping[str, Any],
        *,
        policy: RetryPolicy,
        path_template: str,
        timeout: TimeoutArg,
        auth: httpx.Auth,
        read: bool,
    ) -> httpx.Response:
        """Send, retrying as ``policy`` allows, until a status < 400, which is returned.

        The caller owns the returned response's concurrency slot and must release it.
        With ``read`` the body is read inside the retried attempt (a body lost midway
        is retried like any transport failure); without it the body is left unread.
        Error bodies are read for the exception (at most 64 KiB of a stream).
        """
        attempt = 0
        ambiguous = False  # an earlier attempt may have been carried out
        while True:
            request = self._prepare(kwargs, timeout)
            started = time.monotonic()
            await self._gate.acquire()
            try:
                response = await self._http.send(request, auth=auth, stream=not read)
            except httpx.TransportError as exc:
                self._gate.release()
                delay = self._delay_after_exception(exc, policy, attempt)
                if delay is None:
                    raise _connection_error(exc, request.method, path_template) from exc
                self._log_retry(request.method, path_template, type(exc).__name__, attempt, delay)
                ambiguous = ambiguous or not isinstance(exc, _NOT_SENT)
            except BaseException:
                self._gate.release()
                raise
            else:
                self._log_response(
                    request.method, path_template, response.status_code, attempt, started
                )
                if response.status_code < 400:
                    return response
                try:
                    content = (
                        response.content if read else await _read_capped(response, MAX_ERROR_BODY)
                    )
                except httpx.TransportError:
                    content = b""  # the status alone still decides the error class
                finally:
                    await response.aclose()
                    self._gate.release()
                error = self._status_error(response, content, path_template)
                delay = self._delay_after_status(error, policy, attempt)
                if delay is None:
                    error.after_ambiguous_failure = ambiguous
                    raise error
                self._log_retry(request.method, path_template, response.status_code, attempt, delay)
                ambiguous = ambiguous or response.status_code in _MAYBE_DONE_STATUSES
            attempt += 1
            await self._sleep(delay)

    def _prepare(self, kwargs: Mapping[str, Any], timeout: TimeoutArg) -> httpx.Request:
        if self.closed:
            raise ClientClosedError()
        return self.build_request(kwargs, timeout)

    def _status_error(
        self, response: httpx.Response, content: bytes, path_template: str
    ) -> APIStatusError:
        return make_status_error(
            response,
            content,
            path_template=path_template,
            retry_after=parse_retry_after(response.headers),
        )

    def _backoff(self, attempt: int) -> float:
        # Full jitter: concurrent callers that failed together spread out instead of
        # retrying in lockstep.
        ceiling = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2.0**attempt)
        return ceiling * self._random()

    def _delay_after_exception(
        self, exc: httpx.TransportError, policy: RetryPolicy, attempt: int
    ) -> float | None:
        if attempt >= self.max_retries:
            return None
        if isinstance(exc, _NOT_SENT):
            return self._backoff(attempt)
        if policy is RetryPolicy.IDEMPOTENT and isinstance(exc, _AMBIGUOUS):
            return self._backoff(attempt)
        return None

    def _delay_after_status(
        self, error: APIStatusError, policy: RetryPolicy, attempt: int
    ) -> float | None:
        if (
            policy is not RetryPolicy.IDEMPOTENT
            or error.status_code not in RETRYABLE_STATUSES
            or attempt >= self.max_retries
        ):
            return None
        if error.retry_after is None:
            return self._backoff(attempt)
        if error.retry_after > self.max_retry_after:
            return None  # let the caller reschedule rather than block for that long
        return error.retry_after

    def _log_retry(
        self, method: str, path_template: str, cause: int | str, attempt: int, delay: float
    ) -> None:
        logger.info(
            "retrying %s %s after %s (retry %d of %d) in %.2fs",
            method,
            path_template,
            cause,
            attempt + 1,
            self.max_retries,
            delay,
            extra={
                "http_method": method,
                "path_template": path_template,
                "cause": cause,
                "attempt": attempt + 1,
                "delay": delay,
            },
        )

    def _log_response(
        self, method: str, path_template: str, status: int, attempt: int, started: float
    ) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.3fs (attempt %d)",
                method,
                path_template,
                status,
                time.monotonic() - started,
                attempt + 1,
            )


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def _invalid_url(
    method: str, path: str, url: str, params: Any, exc: httpx.InvalidURL
) -> ValueError:
    # Queries grow with the caller's filters and ids; the base URL is checked when the
    # client is built and paths are generated. Name the numbers, never the query.
    where = f"{method} {path}"
    length = len(url) + 1 + len(str(httpx.QueryParams(params or {})))
    if length > MAX_URL_LENGTH:
        return ValueError(
            f"{where}: the URL with its query would be {length:,} characters, over the "
            f"{MAX_URL_LENGTH:,} httpx accepts; use fewer or shorter filter values"
        )
    return ValueError(f"{where}: invalid URL ({exc})")


def _connection_error(
    exc: httpx.TransportError, method: str, path_template: str
) -> APIConnectionError:
    # The httpx message may embed the URL (and so the query); name only its class.
    where = f"{method} {path_template}"
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"request timed out ({type(exc).__name__}) on {where}")
    return APIConnectionError(f"connection error ({type(exc).__name__}) on {where}")
