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
a connection. It touches httpcore internals; if they are missing (a future httpcore),
it does nothing rather than mask the request's own error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ._errors import other_loop_error

__all__ = ["GuardedHTTPTransport"]


class GuardedHTTPTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` that reclaims connections a cancellation leaked.

    Like the aiohttp backend, it belongs to the event loop of its first request and
    refuses any other with a clear RuntimeError (httpcore would fail on a pooled
    connection with "Event loop is closed", or hang on one of a live loop).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            if self._loop is not None:
                raise other_loop_error()
            self._loop = loop
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
        try:
            await self._stream.aclose()
        except BaseException:
            # PoolByteStream marked itself closed before the interruption: it will never
            # drop its request, so drop it here and let the sweep reclaim the connection.
            pool_stream = getattr(self._stream, "_httpcore_stream", None)
            pool_request = getattr(pool_stream, "_pool_request", None)
            requests = getattr(self._pool, "_requests", None)
            if requests is not None and pool_request in requests:
                requests.remove(pool_request)
            await _drop_stranded(self._pool)
            raise


async def _drop_stranded(pool: Any) -> None:
    requests = getattr(pool, "_requests", None)
    connections = getattr(pool, "_connections", None)
    if requests is None or connections is None:
        return
    with pool._optional_thread_lock:
        assigned = {id(pool_request.connection) for pool_request in requests}
        stranded = [
            connection
            for connection in connections
            if id(connection) not in assigned
            and not (
                connection.is_idle()
                or connection.is_available()
                or connection.has_expired()
                or connection.is_closed()
            )
        ]
        if not stranded:
            return
        for connection in stranded:
            connections.remove(connection)
        closing = stranded + pool._assign_requests_to_connections()
    await pool._close_connections(closing)
