"""The default backend's transport: httpx's own, minus what cancellation leaks from its pool.

httpcore 1.x (``_async/connection_pool.py``, ``http11.py``; httpcore issue 1093) leaks
connections when a task is cancelled at the wrong moment, and under plain asyncio its
``AsyncShieldCancellation`` (an anyio shield) does not stop ``task.cancel()`` (what
``asyncio.timeout`` and ``TaskGroup`` use). Two leaks follow:

* **Stranded connection.** The pool assigns a queued request to a connection (often a
  new one) before that request's task resumes to use it. Cancelled in that window, or
  while ``AsyncHTTP11Connection`` takes its state lock right after connecting, the task
  removes its request from the pool but the connection stays, ``CONNECTING`` or ``NEW``:
  neither idle, available, expired nor closed, so never reused, closed or replaced.
* **Half-closed response.** Cancelled inside ``PoolByteStream.aclose()`` (the lock in
  ``_response_closed``), the connection stays ``ACTIVE`` and its request stays in the
  pool for good.

Each one costs a connection; after ``max_connections`` of them every request ends in
``PoolTimeout``. Both are undone right where they happen, on the exception path only
(the hot path pays a ``try``): a failed ``handle_async_request`` sweeps stranded
connections; a failed response close first drops that response's pool request, then
sweeps. A connection is stranded when it is in the pool, no pool request (queued or in
flight) is assigned to it, and it is not idle, available, expired or closed: a
connection in use stays assigned to its request until the response is closed (httpcore
returns it to ``IDLE``/``CLOSED`` before dropping the request), so nothing in use
matches. The sweep looks and removes synchronously (no other task runs in between),
closes what it removed, and lets the pool re-assign queued requests, which may now get
a connection.

The guard reads httpcore's and httpx's private names (``_INTERNALS``). They are checked
once, when the first transport is made, on objects built for the check; if one is
missing (a future httpcore), one WARNING says so and the guard stays off: requests run
exactly as on plain ``httpx.AsyncHTTPTransport``. Nothing is looked up inside an
exception handler, and closing what the sweep removed can never replace the request's
own error.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from typing import Any, Final

import httpcore
import httpx

from .._errors import other_loop_error

__all__ = ["GuardedHTTPTransport"]

logger = logging.getLogger("voipstudio_async")

# Every private name the guard uses, by the object that must have it.
_INTERNALS: Final = {
    "httpcore.AsyncConnectionPool": (
        "_requests",
        "_connections",
        "_optional_thread_lock",
        "_assign_requests_to_connections",
        "_close_connections",
    ),
    "httpcore's pool request": ("connection",),
    "httpcore's pool stream": ("_pool_request",),
    "httpx's response stream": ("_httpcore_stream",),
    "httpx.AsyncHTTPTransport": ("_pool",),
}


def _missing_internals() -> list[str]:
    """The private names of ``_INTERNALS`` that this httpcore and httpx lack."""
    try:
        # Private modules too: a future httpcore may move them.
        from httpcore._async.connection_pool import AsyncPoolRequest, PoolByteStream
        from httpx._transports.default import AsyncResponseStream
    except ImportError as error:
        return [f"module {error.name}"]
    pool = httpcore.AsyncConnectionPool()
    pool_request = AsyncPoolRequest(httpcore.Request("GET", "http://127.0.0.1/"))
    pool_stream = PoolByteStream(stream=httpx.ByteStream(b""), pool_request=pool_request, pool=pool)
    objects = {
        "httpcore.AsyncConnectionPool": pool,
        "httpcore's pool request": pool_request,
        "httpcore's pool stream": pool_stream,
        "httpx's response stream": AsyncResponseStream(pool_stream),
        # verify=False: no certificates to load for an instance that never connects.
        "httpx.AsyncHTTPTransport": httpx.AsyncHTTPTransport(verify=False),
    }
    return [
        f"{owner}.{name}"
        for owner, names in _INTERNALS.items()
        for name in names
        if not hasattr(objects[owner], name)
    ]


@functools.cache
def _guard_available() -> bool:
    """Whether the guard can run here; checked once per process, WARNING once if not."""
    missing = _missing_internals()
    if missing:
        logger.warning(
            "httpcore %s / httpx %s lack %s: the connection-pool guard against leaks on "
            "cancellation is off (httpcore issue 1093); requests are not affected",
            httpcore.__version__,
            httpx.__version__,
            ", ".join(missing),
        )
    return not missing


class GuardedHTTPTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` that reclaims connections a cancellation leaked.

    Like the aiohttp backend, it belongs to the event loop of its first request and
    refuses any other with a clear RuntimeError (httpcore would fail on a pooled
    connection with "Event loop is closed", or hang on one of a live loop).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._guarded = _guard_available()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            if self._loop is not None:
                raise other_loop_error()
            self._loop = loop
        if not self._guarded:
            return await super().handle_async_request(request)
        try:
            response = await super().handle_async_request(request)
        except BaseException:
            await _drop_stranded(self._pool)
            raise
        if isinstance(response.stream, httpx.AsyncByteStream):  # always, from httpcore
            response.stream = _GuardedStream(response.stream, self._pool)
        return response

    async def aclose(self) -> None:
        if self._loop is not None and self._loop.is_closed():
            # Its sockets cannot be closed without their loop; the garbage collector
            # reclaims them (as the aiohttp backend's do). Closing must not fail here.
            return
        await super().aclose()


class _GuardedStream(httpx.AsyncByteStream):
    """A response body whose close, if interrupted, gives the connection back anyway."""

    __slots__ = ("_pool", "_stream")

    def __init__(self, stream: httpx.AsyncByteStream, pool: Any) -> None:
        self._stream = stream
        self._pool = pool

    def __aiter__(self) -> AsyncIterator[bytes]:
        # httpcore cleans up after a failed read itself; only the close needs help.
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        # Looked up before the close, not in the handler (names checked by
        # _guard_available; a stream of another kind has none).
        pool_stream = getattr(self._stream, "_httpcore_stream", None)
        pool_request = getattr(pool_stream, "_pool_request", None)
        try:
            await self._stream.aclose()
        except BaseException:
            # PoolByteStream marked itself closed before the interruption: it will never
            # drop its request, so drop it here and let the sweep reclaim the connection.
            await _drop_stranded(self._pool, pool_request)
            raise


def _take_stranded(pool: Any, pool_request: Any) -> list[Any]:
    """Drop ``pool_request`` and the stranded connections from ``pool``; return them and
    what else the pool gave up, to be closed.

    Synchronous: no other task runs between the look and the removal.
    """
    with pool._optional_thread_lock:
        if pool_request is not None and pool_request in pool._requests:
            pool._requests.remove(pool_request)
        assigned = {id(request.connection) for request in pool._requests}
        stranded = [
            connection
            for connection in pool._connections
            if id(connection) not in assigned
            and not (
                connection.is_idle()
                or connection.is_available()
                or connection.has_expired()
                or connection.is_closed()
            )
        ]
        if not stranded:
            return []
        for connection in stranded:
            pool._connections.remove(connection)
        closing: list[Any] = stranded + pool._assign_requests_to_connections()
        return closing


async def _drop_stranded(pool: Any, pool_request: Any = None) -> None:
    """Sweep ``pool``; called while a request's own error is being raised.

    Nothing here may take the place of that error (the caller re-raises it): a failure
    of the sweep or of closing what it removed is logged at DEBUG instead.
    """
    try:
        closing = _take_stranded(pool, pool_request)
        if closing:
            await pool._close_connections(closing)
    except Exception:
        logger.debug("the connection-pool sweep failed", exc_info=True)
