"""Requests built from parts fixed when the client was built: the Requester's fast path.

For every call httpx's ``AsyncClient.build_request`` parses and validates the whole
URL again and merges the client's headers, cookies and params; ``AsyncClient.send``
runs the auth flow generator, the event hooks and the redirect loop around the
transport. For the client the SDK builds itself (no base URL, hooks or mounts of its
own) and static credentials (``BasicAuth``, ``TokenAuth``), none of that changes
between calls, so ``PreparedRequests`` parses the base URL and the headers (the auth
header among them) once. Per call it only sets the path and the query, and hands the
request to the very transport ``AsyncClient.send`` would have used, so ``transport=``,
pytest-httpx and the OpenTelemetry attempt spans still see every request.

Everything else goes through httpx unchanged: login credentials (the auth flow
re-authenticates on 401), a per-call ``auth=``, streamed bodies, requests with a body
(the bulk PATCHes, rare next to reads), a client holding cookies or event hooks, a
path with characters httpx would quote or a URL over httpx's length limit.
``prepared_requests`` checks, once, that the URLs and headers it builds equal httpx's
own, so an httpx whose internals moved switches the fast path off rather than
sending different requests.
"""

from __future__ import annotations

import datetime
import logging
import re
import time
from collections.abc import Mapping
from typing import Any, Final

import httpx

from .._auth import BasicAuth, TokenAuth, _MaskedHeaders
from .._constants import MAX_URL_LENGTH

__all__ = ["PreparedRequests", "prepared_requests"]

# httpx logs every response it sends at INFO; requests sent here do the same.
_httpx_log: Final = logging.getLogger("httpx")

# Characters httpx leaves as they are in a path: the fast URL takes such paths only.
_PLAIN_PATH: Final = re.compile(r"/[A-Za-z0-9/._~,-]*")

_EMPTY: Final = httpx.ByteStream(b"")


class PreparedRequests:
    """Builds and sends requests for one client; see the module docstring.

    Built by ``prepared_requests`` only (which checks that this httpx matches).
    """

    __slots__ = (
        "_client",
        "_default_extensions",
        "_default_timeout",
        "_headers",
        "_prefix",
        "_room",
        "_transport",
        "_uri",
    )

    def __init__(
        self,
        client: httpx.AsyncClient,
        transport: httpx.AsyncBaseTransport,
        base_url: str,
        auth: BasicAuth | TokenAuth,
        timeout: httpx.Timeout,
    ) -> None:
        """``timeout`` is the client's default, whose extension is built once."""
        base = httpx.URL(base_url)
        self._client = client
        self._transport = transport
        self._uri = base._uri_reference
        self._prefix = base.raw_path.decode("ascii").rstrip("/")
        self._room = MAX_URL_LENGTH - len(str(base))
        name, value = auth.header
        headers = httpx.Headers([(b"Host", base.netloc)])
        headers.update(client.headers)
        headers[name] = value
        # TokenAuth's X-Auth-Token is masked in reprs like httpx masks Authorization.
        self._headers = _MaskedHeaders(headers) if isinstance(auth, TokenAuth) else headers
        self._default_timeout = timeout
        self._default_extensions = {"timeout": timeout.as_dict()}

    def build(
        self, method: str, kwargs: Mapping[str, Any], timeout: httpx.Timeout
    ) -> httpx.Request | None:
        """The request for a generated ``_get_kwargs()`` dict, or None if httpx must build it."""
        path: str = kwargs["url"]
        if (
            "headers" in kwargs  # every operation with a body sets its Content-Type
            or "json" in kwargs
            or "content" in kwargs
            or "data" in kwargs
            or "files" in kwargs
            or "cookies" in kwargs
            or len(path) > self._room
            or not _PLAIN_PATH.fullmatch(path)
            or len(self._client.cookies.jar)
            or any(self._client.event_hooks.values())
        ):
            return None
        if timeout is self._default_timeout:  # httpx.Request copies the dict it is given
            extensions = self._default_extensions
        else:
            extensions = {"timeout": timeout.as_dict()}
        url = httpx.URL.__new__(httpx.URL)
        url._uri_reference = self._uri._replace(path=self._prefix + path)
        params = kwargs.get("params")
        if params:
            url = httpx.URL(url, params=params)  # as httpx.Request does
        request = httpx.Request(
            method, url, headers=self._headers, stream=_EMPTY, extensions=extensions
        )
        if method in ("POST", "PUT", "PATCH"):
            request.headers["Content-Length"] = "0"
        request.read()
        if isinstance(self._headers, _MaskedHeaders):  # httpx.Request copied them plain
            request.headers = _MaskedHeaders(request.headers)
        return request

    async def send(self, request: httpx.Request) -> httpx.Response:
        """Send a request from ``build`` and read its body, as ``AsyncClient.send`` would."""
        started = time.perf_counter()
        try:
            response = await self._transport.handle_async_request(request)
        except httpx.RequestError as exc:
            _attach(exc, request)
            raise
        response.request = request
        try:
            if isinstance(response.stream, httpx.ByteStream):
                response.read()  # a body already in memory: the sync path is the cheaper
            else:
                await response.aread()
        except BaseException:
            await response.aclose()
            raise
        response.elapsed = datetime.timedelta(seconds=time.perf_counter() - started)
        if "set-cookie" in response.headers:
            self._client.cookies.extract_cookies(response)
        if _httpx_log.isEnabledFor(logging.INFO):
            _httpx_log.info(
                'HTTP Request: %s %s "%s %d %s"',
                request.method,
                request.url,
                response.http_version,
                response.status_code,
                response.reason_phrase,
            )
        return response


def _attach(exc: httpx.RequestError, request: httpx.Request) -> None:
    # What httpx's request_context does: transports may raise without the request.
    try:
        exc.request  # noqa: B018 - the property raises when unset
    except RuntimeError:
        exc.request = request


def prepared_requests(
    client: httpx.AsyncClient,
    transport: httpx.AsyncBaseTransport | None,
    base_url: str,
    auth: httpx.Auth,
    timeout: httpx.Timeout,
) -> PreparedRequests | None:
    """A ``PreparedRequests`` for the SDK's own client, or None where it does not apply.

    ``transport`` is the transport the SDK built ``client`` with (None for a user's
    client); ``auth`` must be static credentials of the exact SDK classes.
    """
    if transport is None or type(auth) not in (BasicAuth, TokenAuth):
        return None
    if client.base_url.raw_path not in (b"", b"/") or client.params:
        return None
    static: BasicAuth | TokenAuth = auth  # type: ignore[assignment]
    try:
        prepared = PreparedRequests(client, transport, base_url, static, timeout)
        ok = _same_as_httpx(prepared, client, base_url, static)
    except (AttributeError, TypeError, ValueError, httpx.InvalidURL):
        ok = False
    return prepared if ok else None


def _same_as_httpx(
    prepared: PreparedRequests,
    client: httpx.AsyncClient,
    base_url: str,
    auth: BasicAuth | TokenAuth,
) -> bool:
    """Whether ``prepared`` builds what ``client.build_request`` and then ``auth`` build."""
    timeout = prepared._default_timeout
    base = base_url.rstrip("/")
    name, value = auth.header
    auth_raw = [(name.encode("ascii"), value.encode("ascii"))]
    samples: tuple[tuple[str, str, dict[str, str | int] | None], ...] = (
        ("GET", "/cdrs/12345", None),
        ("DELETE", "/monitors/1,2,3", None),
        ("GET", "/cdrs", {"page": 2, "limit": 50, "filter": '[{"property":"id","value":"a b"}]'}),
    )
    for method, path, params in samples:
        kwargs: dict[str, Any] = {"method": method, "url": path}
        if params is not None:
            kwargs["params"] = params
        ours = prepared.build(method, kwargs, timeout)
        theirs = client.build_request(method, base + path, params=params, timeout=timeout)
        if ours is None or (ours.method, ours.url, ours.headers.raw, ours.extensions) != (
            theirs.method,
            theirs.url,
            theirs.headers.raw + auth_raw,
            theirs.extensions,
        ):
            return False
    return True
