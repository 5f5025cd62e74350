"""The fast transport: ``httpx`` on top of aiohttp's connection pool and C HTTP parser.

``VoipStudio(..., http_backend="aiohttp")`` builds its ``httpx.AsyncClient`` with
``FastTransport``. The generated code and the Requester keep using the httpx API
(requests, auth flows, responses); only the wire work moves to aiohttp, which costs
a fraction of httpcore's CPU per request and does not slow down as concurrency grows
(see README, "Performance").

Compared with ``httpx_aiohttp.AiohttpTransport`` (which it is modelled on) it:

* creates the ``aiohttp.ClientSession`` lazily, inside the running loop, and refuses
  to be used from another loop;
* keeps the SDK's pool size (``limits``) and per-phase timeouts, never follows
  redirects, never decompresses (httpx does), and keeps no cookies (httpx does);
* maps aiohttp's exceptions to the httpx exceptions httpcore raises in the same
  situation, so the Requester's retry decisions do not change: a server that closes
  the connection is a ``RemoteProtocolError`` (ambiguous, not "never sent"), a body
  cut short is a ``RemoteProtocolError``, a read timeout a ``ReadTimeout``;
* streams bodies in the chunks aiohttp already holds (no 16 KiB re-slicing) and reads
  small bodies with ``Content-Length`` in one call.

``FastAsyncClient`` is the ``httpx.AsyncClient`` the fast backend uses: identical,
except that a response without ``Set-Cookie`` skips httpx's cookie-jar round trip
(urllib request/response adapters on every response: ~10% of the SDK's CPU per small
GET in the profile), which has nothing to extract then anyway.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any, Final

import httpx

from .._constants import EAGER_BODY_LIMIT, READ_BUFSIZE
from .._errors import other_loop_error

try:
    import aiohttp
    import yarl
    from multidict import CIMultiDict, CIMultiDictProxy
except ImportError as exc:  # pragma: no cover - only without the extra
    raise ImportError(
        "http_backend='aiohttp' needs aiohttp: pip install 'voipstudio-async[fast]'"
    ) from exc

__all__ = ["FastAsyncClient", "FastTransport"]

# Most specific first: the first match wins.
_EXCEPTIONS: Final[tuple[tuple[type[BaseException], type[httpx.TransportError]], ...]] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # malformed response
    (aiohttp.ClientOSError, httpx.ReadError),
    (aiohttp.ClientConnectionError, httpx.NetworkError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (asyncio.TimeoutError, httpx.TimeoutException),
    (aiohttp.ClientError, httpx.TransportError),
)


def _mapped(exc: BaseException, request: httpx.Request) -> httpx.TransportError | None:
    for source, target in _EXCEPTIONS:
        if isinstance(exc, source):
            _drop_request_headers(exc)
            # The message names the failure class only: aiohttp's may embed the URL.
            return target(f"{type(exc).__name__}: {exc}", request=request)
    return None


def _drop_request_headers(exc: BaseException) -> None:
    # It stays the mapped error's __cause__, so reachable from the SDK's exception, and
    # aiohttp's repr of its request_info (also in args) shows every request header in
    # clear: Authorization, X-Auth-Token.
    info = getattr(exc, "request_info", None)
    if isinstance(info, aiohttp.RequestInfo):
        scrubbed = info._replace(headers=CIMultiDictProxy(CIMultiDict()))
        exc.request_info = scrubbed  # type: ignore[attr-defined]
        exc.args = tuple(scrubbed if arg is info else arg for arg in exc.args)


@contextmanager
def _map_exceptions(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except httpx.TransportError:
        raise
    except Exception as exc:
        mapped = _mapped(exc, request)
        if mapped is None:
            raise
        raise mapped from exc


class _ResponseStream(httpx.AsyncByteStream):
    """The body of an aiohttp response, as an httpx stream; closing releases the connection."""

    __slots__ = ("_request", "_response")

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        with _map_exceptions(self._request):
            while True:
                chunk = await content.readany()
                if not chunk:
                    break
                yield chunk

    async def aclose(self) -> None:
        # Back to the pool when the body was read to the end, closed otherwise.
        self._response.release()


class _LeanCookies(httpx.Cookies):
    """httpx's cookies; extraction runs only when the response sets a cookie."""

    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        # CookieJar.extract_cookies reads only these two headers: without them it is a no-op.
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


class FastAsyncClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` whose cookie handling skips responses without cookies."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cookies = _LeanCookies(self._cookies.jar)  # the same jar

    @property
    def cookies(self) -> httpx.Cookies:
        return self._cookies

    @cookies.setter
    def cookies(self, cookies: httpx._types.CookieTypes) -> None:
        self._cookies = _LeanCookies(httpx.Cookies(cookies).jar)


class FastTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` backed by one ``aiohttp.ClientSession``.

    Args:
        limits: ``max_connections`` sizes the pool (0 or None: unbounded) and
            ``keepalive_expiry`` how long idle connections are kept.
        verify: TLS verification as in httpx (bool, CA bundle path or SSLContext).
        cert: client certificate as in httpx.
        proxy: an ``http://`` proxy URL for every request (HTTPS through ``CONNECT``).

    The session is created on the first request, in the running loop; the transport
    belongs to that loop from then on. ``aclose()`` (or closing the AsyncClient)
    closes it.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        verify: ssl.SSLContext | str | bool = True,
        cert: str | tuple[str, str] | tuple[str, str, str] | None = None,
        proxy: str | None = None,
    ) -> None:
        limits = limits if limits is not None else httpx.Limits()
        self._limit = limits.max_connections or 0
        self._keepalive = limits.keepalive_expiry
        # Built with the session: loading the CA bundle costs ~15 ms per client.
        self._verify, self._cert = verify, cert
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}
        self._closed = False

    @property
    def max_connections(self) -> int:
        """The pool size (0 = unbounded)."""
        return self._limit

    def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None:
            if self._loop is not loop:
                raise other_loop_error()
            return session
        if self._closed:
            raise RuntimeError("the transport is closed")
        connector = aiohttp.TCPConnector(
            limit=self._limit,
            limit_per_host=0,
            keepalive_timeout=self._keepalive if self._keepalive is not None else 3600.0,
            ssl=httpx.create_ssl_context(verify=self._verify, cert=self._cert, trust_env=False),
        )
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
            auto_decompress=False,  # httpx decodes Content-Encoding
            trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None),
            read_bufsize=READ_BUFSIZE,
            raise_for_status=False,
        )
        self._session, self._loop = session, loop
        return session

    def _timeout(self, phases: dict[str, float | None]) -> aiohttp.ClientTimeout:
        key = (phases.get("connect"), phases.get("read"), phases.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            # aiohttp's `connect` covers waiting for a pooled connection plus connecting.
            total_connect = None if connect is None or pool is None else connect + pool
            timeout = aiohttp.ClientTimeout(
                total=None, connect=total_connect, sock_connect=connect, sock_read=read
            )
            if len(self._timeouts) < 64:
                self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._get_session()
        data: Any
        try:
            data = request.content or None
        except httpx.RequestNotRead:
            data = _iterate(request.stream)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        if data is not None and not isinstance(data, bytes):
            headers = [(k, v) for k, v in headers if k.lower() != "transfer-encoding"]
        with _map_exceptions(request):
            response = await session.request(
                request.method,
                # Already percent-encoded by httpx: skip yarl's re-quoting.
                yarl.URL(str(request.url), encoded=True),
                headers=headers,
                data=data,
                allow_redirects=False,
                compress=None,
                timeout=self._timeout(request.extensions.get("timeout", {})),
                server_hostname=request.extensions.get("sni_hostname"),
                proxy=self._proxy,
            )
            length = response.content_length
            if length is not None and length <= EAGER_BODY_LIMIT:
                try:
                    body = await response.read()
                finally:
                    response.release()
                return httpx.Response(
                    response.status,
                    headers=response.raw_headers,
                    stream=httpx.ByteStream(body),
                    request=request,
                    extensions=_extensions(response),
                )
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response, request),
            request=request,
            extensions=_extensions(response),
        )

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


def _extensions(response: aiohttp.ClientResponse) -> dict[str, Any]:
    extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
    if response.reason:
        extensions["reason_phrase"] = response.reason.encode("latin-1", errors="replace")
    return extensions


async def _iterate(stream: httpx.AsyncByteStream | httpx.SyncByteStream) -> AsyncIterator[bytes]:
    if isinstance(stream, httpx.AsyncByteStream):
        async for chunk in stream:
            yield chunk
    else:
        for chunk in stream:
            yield chunk
