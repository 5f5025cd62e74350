"""The Requester's prepared fast path (``_request.prepared``): what httpx builds, or nothing."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from voipstudio_async import APIConnectionError, VoipStudio
from voipstudio_async._request.prepared import PreparedRequests

BASE = "https://l7api.com/v1.2/voipstudio"
CDR = {"data": {"id": 7, "calldate": "2026-01-01 10:00:00"}}
CDRS = {"data": [CDR["data"]], "total": 1}


def _recording(
    seen: list[httpx.Request], answer: Callable[[httpx.Request], httpx.Response] | None = None
) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if answer is not None:
            return answer(request)
        return httpx.Response(200, json=CDRS if request.url.path.endswith("/cdrs") else CDR)

    return httpx.MockTransport(handler)


def _client(transport: httpx.AsyncBaseTransport, **kwargs: Any) -> VoipStudio:
    if "token" not in kwargs and "email" not in kwargs:
        kwargs.update(user_id=1, api_key="sekret-key")
    return VoipStudio(base_url=BASE, transport=transport, max_retries=0, **kwargs)


async def _expected(vs: VoipStudio, method: str, path: str, **kwargs: Any) -> httpx.Request:
    """What httpx's own build_request and then the auth flow would send."""
    http = vs._requester._http
    request = http.build_request(method, BASE + path, timeout=vs._requester.timeout, **kwargs)
    flow = vs._requester.auth.async_auth_flow(request)
    authed = await flow.__anext__()
    await flow.aclose()
    return authed


def _same(ours: httpx.Request, theirs: httpx.Request) -> None:
    assert ours.method == theirs.method
    assert ours.url == theirs.url
    assert ours.headers.raw == theirs.headers.raw
    assert ours.extensions == theirs.extensions
    assert ours.content == theirs.content


@pytest.mark.parametrize("auth", [{}, {"token": "tok-123"}], ids=["basic", "token"])
async def test_static_credentials_take_the_fast_path_and_send_what_httpx_would(
    auth: dict[str, str],
) -> None:
    seen: list[httpx.Request] = []
    async with _client(_recording(seen), **auth) as vs:
        assert isinstance(vs._requester._prepared, PreparedRequests)
        cdr = await vs.cdrs.get(7)
        await vs.cdrs.list(filter=[("calldate", "gte", "2026-01-01 00:00:00")], limit=5)
        get, listed = seen
        _same(get, await _expected(vs, "GET", "/cdrs/7"))
        condition = [{"property": "calldate", "operator": "gte", "value": "2026-01-01 00:00:00"}]
        assert json.loads(listed.url.params["filter"]) == condition
        _same(listed, await _expected(vs, "GET", "/cdrs", params=listed.url.params))
    assert cdr.id == 7


async def test_the_token_header_is_masked_in_reprs() -> None:
    seen: list[httpx.Request] = []
    async with _client(_recording(seen), token="tok-123") as vs:
        await vs.cdrs.get(7)
    assert seen[0].headers["X-Auth-Token"] == "tok-123"
    assert "tok-123" not in repr(seen[0].headers)


async def test_a_response_read_on_the_fast_path_is_complete() -> None:
    seen: list[httpx.Request] = []
    async with _client(_recording(seen)) as vs:
        page = await vs.cdrs.list(limit=1)
    response = page.response
    assert response.request is seen[0]
    assert response.elapsed.total_seconds() >= 0
    assert response.is_closed


async def test_httpx_logs_fast_path_requests_as_it_logs_its_own(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with _client(_recording([])) as vs:
        with caplog.at_level(logging.INFO, logger="httpx"):
            await vs.cdrs.get(7)
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines == [f'HTTP Request: GET {BASE}/cdrs/7 "HTTP/1.1 200 OK"']
    assert "sekret" not in caplog.text


async def test_cookies_set_by_the_server_are_sent_back() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"Set-Cookie": "lb=node-2; Path=/"} if len(seen) == 1 else {}
        return httpx.Response(200, json=CDR, headers=headers)

    async with _client(_recording(seen, answer)) as vs:
        await vs.cdrs.get(7)
        await vs.cdrs.get(7)
    assert "cookie" not in seen[0].headers
    assert seen[1].headers["cookie"] == "lb=node-2"
    assert seen[1].headers["authorization"].startswith("Basic ")


async def test_event_hooks_on_the_client_still_run() -> None:
    hooked: list[str] = []

    async def on_request(request: httpx.Request) -> None:
        hooked.append(request.url.path)

    async with _client(_recording([])) as vs:
        vs._requester._http.event_hooks = {"request": [on_request], "response": []}
        await vs.cdrs.get(7)
    assert hooked == ["/v1.2/voipstudio/cdrs/7"]


async def test_login_credentials_and_a_users_client_go_through_httpx() -> None:
    async with _client(_recording([]), email="a@b.c", password="pw") as vs:
        assert vs._requester._prepared is None
    async with VoipStudio(
        1, "k", base_url=BASE, http_client=httpx.AsyncClient(transport=_recording([]))
    ) as vs:
        assert vs._requester._prepared is None


async def test_an_httpx_building_other_urls_turns_the_fast_path_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As if an httpx release quoted paths differently from what _prepared assumes.
    build = httpx.AsyncClient.build_request

    def quoting(self: httpx.AsyncClient, method: str, url: Any, **kwargs: Any) -> httpx.Request:
        return build(self, method, str(url).replace(",", "%2C"), **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "build_request", quoting)
    seen: list[httpx.Request] = []
    async with _client(_recording(seen)) as vs:
        assert vs._requester._prepared is None
        await vs.cdrs.get(7)
    assert seen[0].headers["authorization"].startswith("Basic ")


async def test_a_transport_error_on_the_fast_path_keeps_its_request() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")  # no request attached, as httpcore's mapping does

    async with _client(httpx.MockTransport(fail)) as vs:
        with pytest.raises(APIConnectionError) as caught:
            await vs.cdrs.get(7)
    cause = caught.value.__cause__
    assert isinstance(cause, httpx.ConnectError)
    assert cause.request.url.path == "/v1.2/voipstudio/cdrs/7"


async def test_a_json_body_with_a_token_is_what_httpx_sends_and_stays_masked() -> None:
    seen: list[httpx.Request] = []
    async with _client(_recording(seen, lambda r: httpx.Response(200)), token="tok-123") as vs:
        result = await vs.cdrs.update([{"id": 7, "info": "callback é"}])
        patch = seen[0]
        want = await _expected(vs, "PATCH", "/cdrs", json=json.loads(patch.content))
    assert not result.failed
    assert json.loads(patch.content) == [{"id": 7, "info": "callback é"}]
    assert patch.content == want.content
    assert sorted(patch.headers.raw) == sorted(want.headers.raw)
    assert "tok-123" not in repr(patch.headers)
