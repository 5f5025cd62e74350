"""The Requester: the gate every request passes, retries, status mapping and logging.

Error mapping happens here, after ``http.send()``, and not in an httpx response hook:
httpx runs response hooks inside the auth flow, so raising there would break the
login flow's re-authentication on 401.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Final

import httpx

from .._checks import check_timeout
from .._constants import MAX_ERROR_BODY, MAX_THROTTLED_RETRIES, MAX_URL_LENGTH
from .._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    RateLimitWaitError,
    make_status_error,
)
from .._policies import deadline as _deadline
from .._policies.budget import _Budget
from .._policies.ratelimit import Refused
from .._policies.ratelimit_registry import close_limiter, open_limiter
from .._policies.retry import NOT_SENT, RetryPolicy, _Retries, parse_retry_after
from .._tracing import note_retry
from .prepared import PreparedRequests, prepared_requests

if TYPE_CHECKING:
    from .._options import ClientOptions

__all__ = [
    "NOT_GIVEN",
    "DeadlineArg",
    "NotGiven",
    "Requester",
    "RetryPolicy",
    "TimeoutArg",
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

DeadlineArg = float | None | NotGiven
"""Seconds for a whole call (retries and waits included), None for none, or the client default."""

# Statuses after which the server may still have carried the request out.
_MAYBE_DONE_STATUSES: Final = frozenset({500, 502, 504})

_REQUEST_KEYS: Final = ("params", "json", "content", "data", "files", "headers", "cookies")


class Requester:
    """Sends the generated operations' request dicts; shared by every resource.

    Not constructed by users: ``VoipStudio`` builds one and resources reach it as
    ``client._requester``.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        options: ClientOptions,
        *,
        base_url: str,
        auth: httpx.Auth,
        owns_http: bool,
        limit_key: str = "voipstudio:ratelimit",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``options``: the client's checked options. ``transport``: the one the SDK built
        ``http`` with (None for a user's client); with it and static credentials,
        requests take the prepared fast path."""
        self._http = http
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.auth = auth
        self.options = options
        """The client's options (``ClientOptions``), as checked when it was built."""
        self.timeout = timeout = options.default_timeout
        self.max_concurrency = max_concurrency = options.max_concurrency
        self.retries = _Retries(
            max_retries=options.max_retries, max_retry_after=options.max_retry_after
        )
        """Every retry decision of this client, body retries of downloads included."""
        self._gate = asyncio.Semaphore(max_concurrency)
        self._owns_http = owns_http
        self._prepared: PreparedRequests | None = (
            prepared_requests(http, transport, self._base_url, auth, timeout) if owns_http else None
        )
        self._closed = False
        # Injection point so tests never sleep.
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.limiter = open_limiter(options.rate_limit, limit_key)
        """The limiter of this client's account, shared with the process's other clients
        of it (None with ``rate_limit=None``)."""
        self._limiter = self.limiter  # released once, whatever tests set ``limiter`` to
        self.default_deadline = options.deadline
        """Seconds for each call that passes no ``deadline=`` (None: no deadline)."""
        budget = options.retry_budget
        self.budget = None if budget is None else _Budget(budget)
        """The client's retry budget (None with ``retry_budget=None``)."""

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self.retries.max_retries

    @property
    def closed(self) -> bool:
        """True once ``aclose()`` ran (or a user-supplied client was closed)."""
        return self._closed or self._http.is_closed

    async def aclose(self) -> None:
        """Refuse further requests and close the HTTP client if this Requester created it."""
        self._closed = True
        limiter, self._limiter = self._limiter, None
        if limiter is not None:
            await close_limiter(limiter)
        if self._owns_http:
            await self._http.aclose()

    def deadline(self, seconds: DeadlineArg) -> AbstractContextManager[None]:
        """Scope a call: requests inside it share one deadline (``ValueError`` if bad)."""
        return _deadline.within(self.default_deadline if isinstance(seconds, NotGiven) else seconds)

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
        async with self._exchange(
            kwargs,
            policy=policy,
            path_template=path_template,
            timeout=timeout,
            auth=self.auth if auth is None else auth,
            read=True,
        ) as response:
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
        return self._exchange(
            kwargs,
            policy=policy,
            path_template=path_template,
            timeout=timeout,
            auth=self.auth,
            read=False,
        )

    def _exchange(
        self,
        kwargs: Mapping[str, Any],
        *,
        policy: RetryPolicy,
        path_template: str,
        timeout: TimeoutArg,
        auth: httpx.Auth,
        read: bool,
    ) -> AbstractAsyncContextManager[httpx.Response]:
        """Yield the first response with a status < 400, retrying as ``policy`` allows.

        Each attempt holds a concurrency slot from before it is sent until its response
        is closed (for a stream: until the caller's block exits); backoff waits hold
        none. With ``read`` the body is read inside the attempt (a body lost midway is
        retried like any transport failure). Error bodies are read for the exception
        (at most 64 KiB of a stream).
        """
        if not isinstance(timeout, NotGiven):
            timeout = check_timeout(timeout)  # refused before anything is sent
        at = _deadline.current()
        if at is None:  # the usual case: no deadline scope around the attempts
            return self._attempts(kwargs, policy, path_template, timeout, auth, read, None)
        return self._until(at, kwargs, policy, path_template, timeout, auth, read)

    @asynccontextmanager
    async def _until(
        self,
        at: float,
        kwargs: Mapping[str, Any],
        policy: RetryPolicy,
        path_template: str,
        timeout: TimeoutArg,
        auth: httpx.Auth,
        read: bool,
    ) -> AsyncIterator[httpx.Response]:
        """``_attempts`` bounded by the deadline ``at`` (``time.monotonic()`` time)."""
        method = str(kwargs["method"]).upper()
        left = at - time.monotonic()
        if left <= 0:
            raise APITimeoutError(f"deadline passed before {method} {path_template} was sent")
        try:
            async with asyncio.timeout(left) as scope:
                async with self._attempts(
                    kwargs, policy, path_template, timeout, auth, read, at
                ) as response:
                    yield response
        except TimeoutError:
            if not scope.expired():
                raise
            raise APITimeoutError(f"deadline exceeded on {method} {path_template}") from None

    @asynccontextmanager
    async def _attempts(
        self,
        kwargs: Mapping[str, Any],
        policy: RetryPolicy,
        path_template: str,
        timeout: TimeoutArg,
        auth: httpx.Auth,
        read: bool,
        at: float | None,
    ) -> AsyncIterator[httpx.Response]:
        """The retry loop of ``_exchange`` (``at``: the deadline, for the limiter)."""
        attempt = throttled = 0
        ambiguous = False  # an earlier attempt may have been carried out
        limiter = self.limiter
        if self.budget is not None:
            self.budget.on_call()
        while True:
            request, prepared = self._prepare(kwargs, timeout, read and auth is self.auth)
            async with self._gate:
                # The limiter inside the gate: a task books its send time only when it
                # can send, so a throttle reaches every booking not yet sent (thousands
                # of gathered tasks would otherwise book before it and send after it).
                if limiter is not None:
                    try:
                        await limiter.acquire(
                            at, max_wait=self.retries.max_retry_after, sleep=self._sleep
                        )
                    except Refused as refused:
                        raise RateLimitWaitError(
                            request,
                            path_template=path_template,
                            wait=refused.wait,
                            past_deadline=refused.past_deadline,
                        ) from None
                    if self._closed:  # closed while this attempt waited for its turn
                        raise ClientClosedError()
                    sent_at = limiter.now()
                outcome = await self._attempt(request, auth, path_template, attempt, read, prepared)
                if limiter is not None and not isinstance(outcome, httpx.TransportError):
                    if isinstance(outcome, APIStatusError) and outcome.status_code == 429:
                        await limiter.report_throttle(sent_at, outcome.retry_after)
                    else:
                        limiter.on_success()
                if isinstance(outcome, httpx.Response):
                    try:
                        yield outcome
                    except httpx.TransportError as exc:
                        raise _connection_error(exc, request.method, path_template) from exc
                    finally:
                        await outcome.aclose()
                    return
            if self._waits_out(outcome, policy, throttled):
                # The limiter already paused the whole client: its next turn is the wait,
                # the server's Retry-After when it sent one (the log shows it).
                throttled += 1
                wait = outcome.retry_after if isinstance(outcome, APIStatusError) else None
                self._log_retry(request.method, path_template, 429, attempt, wait or 0.0)
                continue
            if isinstance(outcome, APIStatusError):
                # A 429 refused the request before acting on it: any policy may resend.
                throttled_policy = RetryPolicy.IDEMPOTENT if outcome.status_code == 429 else policy
                delay = self.retries.after_status(outcome, throttled_policy, attempt)
                if outcome.status_code == 429 and delay is not None and _past_deadline(delay):
                    # The server's "busy, retry in ..." says more than a timeout would:
                    # an app answers it 503 with Retry-After, a timeout 504.
                    delay = None
                if delay is None or not self.may_retry(
                    request.method, path_template, outcome.status_code
                ):
                    outcome.after_ambiguous_failure = ambiguous
                    raise outcome
                cause: int | str = outcome.status_code
                ambiguous = ambiguous or outcome.status_code in _MAYBE_DONE_STATUSES
            else:
                delay = self.retries.after_exception(outcome, policy, attempt)
                if delay is None or not self.may_retry(
                    request.method, path_template, type(outcome).__name__
                ):
                    raise _connection_error(outcome, request.method, path_template) from outcome
                cause = type(outcome).__name__
                ambiguous = ambiguous or not isinstance(outcome, NOT_SENT)
            self._log_retry(request.method, path_template, cause, attempt, delay)
            attempt += 1
            await self.pause(delay)

    def _waits_out(
        self, outcome: APIStatusError | httpx.TransportError, policy: RetryPolicy, throttled: int
    ) -> bool:
        """Whether a 429 is retried through the shared limiter (not counted as a retry).

        Whatever ``policy`` says: a 429 is a refusal before acting, so even a request
        that is never replayed after a failure (bulk PATCH, collection DELETE) is sent
        again."""
        return (
            self.limiter is not None
            and isinstance(outcome, APIStatusError)
            and outcome.status_code == 429
            and self.retries.max_retries > 0
            and throttled < MAX_THROTTLED_RETRIES
            and (outcome.retry_after or 0.0) <= self.retries.max_retry_after
        )

    def may_retry(self, method: str, path_template: str, cause: int | str) -> bool:
        """Whether the retry budget has a retry left for this failure (spends it)."""
        return self.budget is None or self.budget.allows(method, path_template, cause)

    async def pause(self, delay: float) -> None:
        """Wait ``delay`` seconds before a retry, holding no concurrency slot.

        A wait that would end after the call's deadline raises ``APITimeoutError`` at once.
        """
        at = _deadline.current()
        if at is not None and time.monotonic() + delay > at:
            raise APITimeoutError(
                f"a retry in {delay:.2f}s would end after the deadline "
                f"({max(0.0, at - time.monotonic()):.2f}s left)"
            )
        await self._sleep(delay)

    async def _attempt(
        self,
        request: httpx.Request,
        auth: httpx.Auth,
        path_template: str,
        attempt: int,
        read: bool,
        prepared: PreparedRequests | None,
    ) -> httpx.Response | APIStatusError | httpx.TransportError:
        """One attempt: a response < 400 (open), else the error status or transport failure.

        ``prepared``: the fast path that built ``request`` (None: httpx built it).
        """
        started = time.monotonic()
        try:
            if prepared is not None:
                response = await prepared.send(request)
            else:
                response = await self._http.send(request, auth=auth, stream=not read)
        except httpx.TransportError as exc:
            return exc
        self._log_response(request.method, path_template, response.status_code, attempt, started)
        if response.status_code < 400:
            return response
        try:
            content = response.content if read else await _read_capped(response, MAX_ERROR_BODY)
        except httpx.TransportError:
            content = b""  # the status alone still decides the error class
        finally:
            await response.aclose()
        return make_status_error(
            response,
            content,
            path_template=path_template,
            retry_after=parse_retry_after(response.headers),
        )

    def _prepare(
        self, kwargs: Mapping[str, Any], timeout: TimeoutArg, fast: bool
    ) -> tuple[httpx.Request, PreparedRequests | None]:
        """The request, and the fast path that built it if ``fast`` allowed one to."""
        if self.closed:
            raise ClientClosedError()
        prepared = self._prepared
        if fast and prepared is not None:
            effective = self.timeout if isinstance(timeout, NotGiven) else timeout
            if not isinstance(effective, httpx.Timeout):
                effective = httpx.Timeout(effective)
            method = str(kwargs["method"]).upper()
            try:
                request = prepared.build(method, kwargs, effective)
            except httpx.InvalidURL as exc:
                url = self.url_for(kwargs["url"])
                raise _invalid_url(method, kwargs["url"], url, kwargs.get("params"), exc) from None
            if request is not None:
                return request, prepared
        return self.build_request(kwargs, timeout), None

    def _log_retry(
        self, method: str, path_template: str, cause: int | str, attempt: int, delay: float
    ) -> None:
        note_retry(cause, attempt + 1, delay)
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


def _past_deadline(delay: float) -> bool:
    """Whether a wait of ``delay`` seconds from now would end after the call's deadline."""
    at = _deadline.current()
    return at is not None and time.monotonic() + delay > at


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
