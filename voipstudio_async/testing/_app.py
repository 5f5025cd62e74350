"""The ASGI application: routing, auth, faults and the request log around the handlers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import Any, cast

import httpx
from voipstudio_history_client.models import CdrPatch

from .._fields import field_kinds
from ._auth import Authenticator
from ._blobs import Download
from ._data import DICTIONARIES, FIELDS, FieldType, Kind, csv_lines
from ._faults import Fault, FaultSet
from ._http import (
    ApiError,
    Headers,
    Response,
    bad_request,
    dumps,
    json_response,
    loads,
    not_found,
)
from ._log import LoggedRequest, RequestLog
from ._query import params, parse
from ._ratelimit import ServerRateLimit
from ._state import State

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Hook = Callable[[str, str], None]

_LISTS: dict[str, Kind] = {
    "/cdrs": "cdrs",
    "/monitors": "monitors",
    "/msdrs": "msdrs",
    "/chats": "chats",
    "/voicemessages": "voicemessages",
    "/cdrs/calltracking": "calltracking",
    "/calltracking/cdrs": "calltracking_numbers",
}
_DIGITS = re.compile(r"\d+")
_FILE_KINDS: dict[tuple[str, str], Download] = {
    ("cdrs", "pcap"): "cdr_pcap",
    ("cdrs", "trace"): "cdr_trace",
    ("msdrs", "pcap"): "msdr_pcap",
    ("msdrs", "trace"): "msdr_trace",
    ("monitors", "mp3"): "monitor_mp3",
    ("voicemessages", "mp3"): "voicemessage_mp3",
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_COLLECTION_DELETE = {
    "/cdrs": 204,
    "/monitors": 202,
    "/voicemessages": 202,
    "/chatmsgs": 204,
    "/statements": 204,
}
_FITS: dict[FieldType, Callable[[Any], bool]] = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "date": lambda v: isinstance(v, str),
    "code": lambda v: isinstance(v, int | str) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "object": lambda v: True,
}
# Which Cdr fields are writable is undocumented, so (as the spec's CdrPatch) any that is
# not readOnly is, with a value of its type or null; the readOnly ones (what the server
# records: ids, timing, billing) are refused. A voicemessage's folder is required and
# never null.
_PATCH_FIELDS: dict[str, dict[str, Callable[[Any], bool]]] = {
    "cdrs": {
        name: (lambda fits: lambda v: v is None or fits(v))(_FITS[ftype])
        for name, ftype in field_kinds(CdrPatch).items()
        if name != "id"
    },
    "voicemessages": {"folder": _FITS["code"]},
}
_READ_ONLY = {"cdrs": frozenset(FIELDS["cdrs"]) - _PATCH_FIELDS["cdrs"].keys() - {"id"}}
# The API answers under /v1.1/voipstudio and /v1.2/voipstudio alike (openapi/notes.md §7).
_VERSION = re.compile(r"^/v1\.[12]/")
_REQUIRED_PATCH = {"cdrs": frozenset({"id"}), "voicemessages": frozenset({"id", "folder"})}


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return cast(bytes, value)
    return None


_Handler = Callable[["FakeApp", re.Match[str], Scope, Receive], Awaitable[Response]]


class _Route:
    """A path pattern, the handler of each method it allows, and whether it needs no
    credentials. The first route whose pattern matches a path owns it: methods it lacks
    get 405 (naming the allowed ones), the others go to their handler."""

    __slots__ = ("handlers", "pattern", "public")

    def __init__(self, pattern: str, public: bool = False, **handlers: _Handler) -> None:
        self.pattern = re.compile(pattern)
        self.handlers = handlers
        self.public = public


def _routes() -> tuple[_Route, ...]:
    app = FakeApp
    return (
        _Route(r"^/login(2fa)?$", public=True, POST=app._login),
        _Route(
            r"^/(cdrs|voicemessages)$",
            GET=app._list,
            PATCH=app._patch_route,
            DELETE=app._delete_all_route,
        ),
        _Route(r"^/monitors$", GET=app._list, DELETE=app._delete_all_route),
        _Route(r"^/(msdrs|chats|cdrs/calltracking|calltracking/cdrs)$", GET=app._list),
        _Route(r"^/(chatmsgs|statements)$", DELETE=app._delete_all_route),
        _Route(r"^/(cdrs|msdrs|sms|mediasessions)/dictionaries$", GET=app._dictionary),
        _Route(r"^/(cdrs|msdrs)/(\d+)\.(pcap|trace)$", GET=app._file),
        _Route(r"^/(monitors|voicemessages)/(\d+)\.(mp3)$", GET=app._file),
        _Route(r"^/(cdrs|msdrs|chats)/(\d+)$", GET=app._item),
        _Route(r"^/cdrs/(\d+)/notes$", GET=app._notes),
        _Route(r"^/users/([^/]+)/cdrs\.csv$", GET=app._csv_route),
        # No dot: `/monitors/6.mp3` is a download, never an id list.
        _Route(
            r"^/(monitors|voicemessages)/([^/.]+)$", GET=app._item, DELETE=app._delete_ids_route
        ),
        _Route(r"^/(chatmsgs)/([^/.]+)$", DELETE=app._delete_ids_route),
    )


def _find(rel: str) -> tuple[_Route, re.Match[str]] | None:
    for route in _ROUTES:
        match = route.pattern.match(rel)
        if match is not None:
            return route, match
    return None


def _no_route(method: str, rel: str) -> ApiError:
    return ApiError(404, "Not found", [{"field": None, "message": f"No route for {method} {rel}"}])


class FakeApp:
    """A pure ASGI app serving the History operations under `prefix`."""

    def __init__(
        self,
        state: State,
        auth: Authenticator,
        faults: FaultSet,
        log: RequestLog,
        prefix: str,
        default_limit: int,
    ) -> None:
        self.state = state
        self.auth = auth
        self.faults = faults
        self.log = log
        self.prefix = prefix.rstrip("/")
        # A versioned prefix is served under both versions, as the API does.
        self.prefixes = (
            (self.prefix, _VERSION.sub("/v1.2/", self.prefix), _VERSION.sub("/v1.1/", self.prefix))
            if _VERSION.match(self.prefix)
            else (self.prefix,)
        )
        self.default_limit = default_limit
        self.ranges = False
        self.hooks: list[Hook] = []
        self.rate_limit: ServerRateLimit | None = None
        #: Loopback servers register each connection's transport by client address,
        #: so a "drop" fault can abort the socket without answering.
        self.connections: dict[tuple[str, int], asyncio.Transport] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method: str = scope["method"]
        path: str = scope["path"]
        rel = next((path[len(p) :] for p in self.prefixes if path.startswith(p)), None)
        self.log.begin()
        status: int | None = None
        fault: Fault | None = None
        try:
            for hook in self.hooks:
                hook(method, rel or path)
            delay, fault = self.faults.pick(method, rel or path)
            if delay:
                await asyncio.sleep(delay)
            if fault is not None and fault.kind == "drop":
                await self._drop(scope, receive)
                return
            if fault is not None and fault.kind == "status":
                headers = (
                    [(b"retry-after", fault.retry_after.encode())] if fault.retry_after else []
                )
                response = ApiError(fault.status, fault.message, [], headers).response()
            else:
                response = await self._respond(method, rel, scope, receive)
            status = response.status
            await self._send(send, response, fault, scope, receive)
        finally:
            self.log.end(
                LoggedRequest(
                    method,
                    rel or path,
                    scope["query_string"].decode("latin-1"),
                    scope["headers"],
                    status,
                    fault.kind if fault is not None else None,
                )
            )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _socket(self, scope: Scope) -> asyncio.Transport | None:
        client = scope.get("client")
        return self.connections.get((client[0], client[1])) if client else None

    async def _drop(self, scope: Scope, receive: Receive) -> None:
        transport = self._socket(scope)
        if transport is None:
            # In process there is no socket: raise what httpx raises when a server
            # closes the connection without answering, so clients see the same error.
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        await _abort(transport, receive)

    async def _respond(
        self, method: str, rel: str | None, scope: Scope, receive: Receive
    ) -> Response:
        if self.rate_limit is not None and (refused := self.rate_limit.check()) is not None:
            return refused
        try:
            if rel is None:
                raise ApiError(404, "Not found", [])
            found = _find(rel)
            if found is not None and method not in found[0].handlers:
                # Known path, unsupported method: 405 names what is allowed (before
                # auth, as routers do), so OPTIONS and TRACE get it too.
                allow = ", ".join(sorted(found[0].handlers)).encode()
                raise ApiError(405, "Method not allowed", [], [(b"allow", allow)])
            if found is None or not found[0].public:
                self.auth.check(_header(scope, b"authorization"), _header(scope, b"x-auth-token"))
            if found is None:
                raise _no_route(method, rel)
            route, match = found
            return await route.handlers[method](self, match, scope, receive)
        except ApiError as exc:
            return exc.response()

    async def _login(self, match: re.Match[str], scope: Scope, receive: Receive) -> Response:
        body = loads_or_400(await _read_body(receive))
        login = self.auth.login2fa if match[1] else self.auth.login
        status, payload = login(body)
        return json_response(dumps(payload), status)

    async def _list(self, match: re.Match[str], scope: Scope, receive: Receive) -> Response:
        coll = self.state.collections[_LISTS[match[0]]]
        query = parse(params(scope["query_string"]), coll.fields, self.default_limit)
        return json_response(coll.page(scope["query_string"], query))

    async def _patch_route(self, match: re.Match[str], scope: Scope, receive: Receive) -> Response:
        return self._patch(match[1], loads_or_400(await _read_body(receive)))

    async def _delete_all_route(
        self, match: re.Match[str], scope: Scope, receive: Receive
    ) -> Response:
        return self._delete_all(match[0])

    async def _dictionary(self, match: re.Match[str], scope: Scope, receive: Receive) -> Response:
        if match[1] not in DICTIONARIES:
            raise _no_route("GET", match[0])
        return json_response(dumps({"data": DICTIONARIES[match[1]]}))

    async def _item(self, match: re.Match[str], scope: Scope, receive: Receive) -> Response:
        if not _DIGITS.fullmatch(match[2]):  # `/monitors/abc`: an id list only DELETE takes
            raise _no_route("GET", match[0])
        body = self.state.collections[cast(Kind, match[1])].item(int(match[2]))
        if body is None:
            raise not_found()
        return json_response(body)

    async def _delete_ids_route(
        self, match: re.Match[str], scope: Scope, receive: Receive
    ) -> Response:
        return self._delete_ids(match[1], match[2])

    async def _file(self, match: re.Match[str], scope: Scope, receive: Receive) -> Response:
        return self._download(_FILE_KINDS[match[1], match[3]], int(match[2]), scope)

    async def _notes(self, match: re.Match[str], scope: Scope, receive: Receive) -> Response:
        row = self.state.collections["cdrs"].get(int(match[1]))
        if row is None:
            raise not_found()
        return json_response(dumps({"data": self.state.generator.notes(row), "links": {}}))

    async def _csv_route(self, match: re.Match[str], scope: Scope, receive: Receive) -> Response:
        if not match[1].isdigit() or int(match[1]) < 1:
            # The export documents no 404: a malformed user id is a validation error.
            raise bad_request("id", "This value should be a positive integer.")
        return self._csv(int(match[1]), scope)

    def _delete_all(self, rel: str) -> Response:
        state = self.state
        with state.lock:
            if rel == "/chatmsgs":
                state.chatmsgs.clear()
            elif rel == "/statements":
                state.statements.clear()
            else:
                state.collections[cast(Kind, rel[1:])].clear()
        return Response(_COLLECTION_DELETE[rel])

    def _delete_ids(self, name: str, raw: str) -> Response:
        try:
            idents = [int(part) for part in raw.split(",")]
        except ValueError:
            raise not_found(f"Invalid id list '{raw}'") from None
        state = self.state
        with state.lock:
            if name == "chatmsgs":
                existing: Any = state.chatmsgs
            else:
                existing = state.collections[cast(Kind, name)]
            missing = [i for i in idents if i not in existing]
            if missing:
                raise not_found(f"Not found: {','.join(map(str, missing))}")
            if name == "chatmsgs":
                for ident in idents:
                    state.chatmsgs.pop(ident, None)
            else:
                existing.delete(idents)
        return Response(204)

    def _patch(self, name: str, body: Any) -> Response:
        allowed = _PATCH_FIELDS[name]
        required = _REQUIRED_PATCH[name]
        if not isinstance(body, list) or not body:
            raise bad_request("body", "Expected a non-empty array of objects.")
        changes: dict[int, dict[str, Any]] = {}
        for n, item in enumerate(body):
            if not isinstance(item, dict) or not required <= item.keys():
                raise bad_request(f"[{n}]", f"Each item needs {', '.join(sorted(required))}.")
            # An integer beyond 64 bits arrives as a float (orjson); JSON says 1.0 is 1.
            item = {
                k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in item.items()
            }
            ident = item["id"]
            if not isinstance(ident, int) or isinstance(ident, bool) or ident < 1:
                raise bad_request(f"[{n}].id", "This value should be a positive integer.")
            for key, value in item.items():
                if key in _READ_ONLY.get(name, ()):
                    raise bad_request(f"[{n}].{key}", "This value is read-only.")
                if key != "id" and (key not in allowed or not allowed[key](value)):
                    raise bad_request(f"[{n}].{key}", "This value is not valid.")
            changes.setdefault(ident, {}).update({k: v for k, v in item.items() if k != "id"})
        coll = self.state.collections[cast(Kind, name)]
        with self.state.lock:
            missing = [i for i in changes if i not in coll]
            if missing:
                # All or nothing: the SDK narrows a 404 chunk to single PATCHes on the
                # assumption that the server applied none of it (docs/design.md).
                raise not_found(f"Not found: {','.join(map(str, missing))}")
            rows = coll.update(changes)
            # The reference answers a single object; several updates come back as a list.
            return json_response(dumps({"data": rows[0] if len(rows) == 1 else rows, "links": {}}))

    def _download(self, kind: Download, ident: int, scope: Scope) -> Response:
        body = self.state.body(kind, ident)
        if body is None:
            raise not_found()
        headers: Headers = [(b"content-type", body.content_type)]
        start, end, status = 0, body.size, 200
        if self.ranges:
            headers.append((b"accept-ranges", b"bytes"))
            wanted = _header(scope, b"range")
            if wanted is not None:
                start, end = _byte_range(wanted.decode("latin-1"), body.size)
                status = 206
                headers.append((b"content-range", f"bytes {start}-{end - 1}/{body.size}".encode()))
        return Response(status, headers, body.chunks(start, end), end - start)

    def _csv(self, user_id: int, scope: Scope) -> Response:
        coll = self.state.collections["cdrs"]
        query = parse(params(scope["query_string"]), coll.fields, self.default_limit, paged=False)
        with self.state.lock:
            rows = [
                row
                for i in coll.rows(query)
                if (row := coll.get(i)) and row.get("user_id") == user_id
            ]
            data = "".join(csv_lines(list(FIELDS["cdrs"]), rows)).encode()
        return Response(200, [(b"content-type", b"text/csv; charset=utf-8")], data)

    async def _send(
        self, send: Send, response: Response, fault: Fault | None, scope: Scope, receive: Receive
    ) -> None:
        length = response.content_length()
        headers = list(response.headers)
        if response.status != 204:
            headers.append((b"content-length", str(length).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        chunks: Iterable[bytes] = (
            (response.body,) if isinstance(response.body, bytes) else response.body
        )
        if fault is not None and fault.kind == "truncate":
            limit = fault.after_bytes if fault.after_bytes is not None else length // 2
            for chunk in _take(chunks, min(limit, max(length - 1, 0))):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await self._cut(send, scope, receive)
            return
        if fault is not None and fault.kind == "drip":
            for chunk in _rechunk(chunks, fault.chunk_size):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await asyncio.sleep(fault.interval)
        elif isinstance(response.body, bytes):
            await send({"type": "http.response.body", "body": response.body, "more_body": False})
            return
        else:
            for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _cut(self, send: Send, scope: Scope, receive: Receive) -> None:
        transport = self._socket(scope)
        if transport is None:
            # In process the body is buffered: end it early; Content-Length still
            # announces the full size, so the client sees a short body.
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await _abort(transport, receive)


async def _abort(transport: asyncio.Transport, receive: Receive) -> None:
    # Waiting for the disconnect keeps uvicorn from answering 500 on our behalf.
    transport.abort()
    while (await receive())["type"] != "http.disconnect":
        pass


def loads_or_400(data: bytes) -> Any:
    """The JSON request body, or a 400 answer."""
    try:
        return loads(data)
    except ValueError:
        raise bad_request("body", "The body is not valid JSON.") from None


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(parts)


def _byte_range(spec: str, size: int) -> tuple[int, int]:
    match = _RANGE.match(spec.strip())
    if match is None or not (match[1] or match[2]):
        raise ApiError(
            416, "Range not satisfiable", [], [(b"content-range", f"bytes */{size}".encode())]
        )
    if not match[1]:
        start, end = max(size - int(match[2]), 0), size
    else:
        start = int(match[1])
        end = min(int(match[2]) + 1, size) if match[2] else size
    if start >= size or start >= end:
        raise ApiError(
            416, "Range not satisfiable", [], [(b"content-range", f"bytes */{size}".encode())]
        )
    return start, end


def _take(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    sent = 0
    for chunk in chunks:
        if sent >= limit:
            return
        piece = chunk[: limit - sent]
        sent += len(piece)
        yield piece


def _rechunk(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    for chunk in chunks:
        for at in range(0, len(chunk), size):
            yield chunk[at : at + size]


_ROUTES: tuple[_Route, ...] = _routes()
