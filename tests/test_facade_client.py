"""Client lifecycle, timeouts, custom clients and transports, and Requester.stream()."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, MutableMapping
from typing import Any, assert_type

import httpx
import pytest
from pytest_httpx import HTTPXMock

from voipstudio_async import (
    DEFAULT_TIMEOUT,
    APIConnectionError,
    ClientClosedError,
    InternalServerError,
    NotFoundError,
    RetryPolicy,
    VoipStudio,
)
from voipstudio_async.types import Cdr

BASE = "https://l7api.com/v1.1/voipstudio"


def _timeout_of(request: httpx.Request) -> dict[str, float | None]:
    timeout: dict[str, float | None] = request.extensions["timeout"]
    return timeout


async def test_closed_client_raises(httpx_mock: HTTPXMock) -> None:
    vs = VoipStudio(token="t")
    await vs.aclose()
    await vs.aclose()  # idempotent

    assert vs.is_closed
    with pytest.raises(ClientClosedError):
        await vs.cdrs.get(1)
    with pytest.raises(ClientClosedError):
        await vs.monitors.list()
    with pytest.raises(ClientClosedError):
        async for _ in vs.chats.iterate():
            pass
    with pytest.raises(ClientClosedError):
        async with vs:
            pass
    assert httpx_mock.get_requests() == []


async def test_async_with_closes(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": {"id": 1}})
    async with VoipStudio(token="t") as vs:
        assert_type(await vs.cdrs.get(1), Cdr)
    assert vs.is_closed


async def test_default_timeout_is_finite(vs: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": []})
    await vs.cdrs.list()
    request = httpx_mock.get_request()
    assert request is not None
    assert vs.timeout == DEFAULT_TIMEOUT
    assert _timeout_of(request) == {"connect": 10.0, "read": 30.0, "write": 30.0, "pool": 30.0}


async def test_per_call_timeout_applies_to_that_call_only(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": {"id": 1}}, is_reusable=True)

    await asyncio.gather(
        vs.cdrs.get(1, timeout=1.5),
        vs.cdrs.get(1, timeout=httpx.Timeout(2.0, connect=0.5)),
        vs.cdrs.get(1),
    )

    timeouts = sorted(
        (_timeout_of(r) for r in httpx_mock.get_requests()), key=lambda t: t["read"] or 0
    )
    assert timeouts == [
        {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5},
        {"connect": 0.5, "read": 2.0, "write": 2.0, "pool": 2.0},
        {"connect": 10.0, "read": 30.0, "write": 30.0, "pool": 30.0},
    ]
    assert vs.timeout == DEFAULT_TIMEOUT


async def test_per_call_timeout_on_iterate(vs: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": [{"id": 1}]})
    httpx_mock.add_response(json={"data": []})
    assert [c.id async for c in vs.cdrs.iterate(timeout=3)] == [1]
    assert {_timeout_of(r)["read"] for r in httpx_mock.get_requests()} == {3.0}


async def test_client_timeout_option(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": []})
    async with VoipStudio(token="t", timeout=7) as vs:
        await vs.cdrs.list()
    request = httpx_mock.get_request()
    assert request is not None
    assert _timeout_of(request)["read"] == 7.0


async def test_bring_your_own_http_client(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": {"id": 3}})
    async with httpx.AsyncClient(base_url="https://elsewhere.example", timeout=12) as http:
        async with VoipStudio(token="t", http_client=http) as vs:
            assert (await vs.cdrs.get(3)).id == 3
        assert not http.is_closed  # not ours to close

    request = httpx_mock.get_request()
    assert request is not None
    assert str(request.url) == f"{BASE}/cdrs/3"
    assert request.headers["X-Auth-Token"] == "t"
    assert _timeout_of(request)["read"] == 12.0


async def test_closed_user_client_raises_client_closed() -> None:
    http = httpx.AsyncClient()
    await http.aclose()
    vs = VoipStudio(token="t", http_client=http)
    with pytest.raises(ClientClosedError):
        await vs.cdrs.get(1)


def test_http_client_and_transport_are_exclusive() -> None:
    with pytest.raises(ValueError, match="not both"):
        VoipStudio(
            token="t",
            http_client=httpx.AsyncClient(),
            transport=httpx.MockTransport(lambda r: httpx.Response(200)),
        )


async def test_asgi_transport() -> None:
    seen: list[tuple[str, str, bytes]] = []

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        headers = dict(scope["headers"])
        seen.append((scope["method"], scope["path"], headers.get(b"x-auth-token", b"")))
        body = json.dumps({"data": [{"id": 1}, {"id": 2}], "total": 2}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async with VoipStudio(
        token="t", base_url="http://fake/v1.1/voipstudio", transport=httpx.ASGITransport(app)
    ) as vs:
        assert [c.id async for c in vs.cdrs.iterate()] == [1, 2]

    assert seen == [("GET", "/v1.1/voipstudio/cdrs", b"t")]


def test_repr_and_options() -> None:
    vs = VoipStudio(user_id=1, api_key="k", max_retries=5, max_concurrency=7)
    assert repr(vs) == (
        "VoipStudio(base_url='https://l7api.com/v1.1/voipstudio/', "
        "auth=BasicAuth(user_id=1, api_key='***'))"
    )
    assert (vs.max_retries, vs.max_concurrency) == (5, 7)
    assert repr(vs.cdrs) == "<Cdrs resource>"


async def test_stream_yields_unread_body_and_releases_the_slot(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(status_code=503)
    httpx_mock.add_response(content=b"ID3audio")
    requester = vs._requester

    async with requester.stream(
        {"method": "get", "url": "/monitors/5.mp3"},
        policy=RetryPolicy.IDEMPOTENT,
        path_template="/monitors/{id}.mp3",
    ) as response:
        assert response.status_code == 200
        assert not response.is_closed
        assert requester._gate._value == requester.max_concurrency - 1
        assert b"".join([chunk async for chunk in response.aiter_bytes()]) == b"ID3audio"

    assert response.is_closed
    assert requester._gate._value == requester.max_concurrency
    assert len(httpx_mock.get_requests()) == 2


async def test_stream_raises_mapped_error_before_the_block(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(status_code=404, json={"message": "Resource not found"})
    entered = False

    with pytest.raises(NotFoundError, match="Resource not found"):
        async with vs._requester.stream(
            {"method": "get", "url": "/monitors/5.mp3"},
            policy=RetryPolicy.IDEMPOTENT,
            path_template="/monitors/{id}.mp3",
        ):
            entered = True

    assert not entered
    assert vs._requester._gate._value == vs._requester.max_concurrency


async def test_stream_error_body_read_is_capped(vs: VoipStudio, httpx_mock: HTTPXMock) -> None:
    vs._requester.retries.max_retries = 0
    httpx_mock.add_response(status_code=500, content=b"x" * 1_000_000)

    with pytest.raises(InternalServerError) as info:
        async with vs._requester.stream(
            {"method": "get", "url": "/monitors/5.mp3"},
            policy=RetryPolicy.IDEMPOTENT,
            path_template="/monitors/{id}.mp3",
        ):
            pass

    assert info.value.body == "x" * 4096


class _BrokenBody(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"ID3"
        raise httpx.ReadError("connection reset")


async def test_stream_transport_error_mid_body_is_wrapped() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=_BrokenBody()))
    async with VoipStudio(token="t", transport=transport) as vs:
        requester = vs._requester
        with pytest.raises(APIConnectionError) as info:
            async with requester.stream(
                {"method": "get", "url": "/monitors/5.mp3"},
                policy=RetryPolicy.IDEMPOTENT,
                path_template="/monitors/{id}.mp3",
            ) as response:
                await response.aread()
        assert isinstance(info.value.__cause__, httpx.ReadError)
        assert requester._gate._value == requester.max_concurrency
