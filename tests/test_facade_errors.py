"""Status → exception mapping, tolerant error bodies, transport and validation errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from voipstudio_async import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorDetail,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    VoipStudio,
    VoipStudioError,
)


@pytest.fixture
async def vs0() -> AsyncIterator[VoipStudio]:
    """A client that never retries, so each status is seen exactly once."""
    async with VoipStudio(user_id=1, api_key="k", max_retries=0) as client:
        yield client


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (522, InternalServerError),
        (599, InternalServerError),
        (405, APIStatusError),
        (418, APIStatusError),
        (422, APIStatusError),
    ],
)
async def test_status_maps_to_class(
    vs0: VoipStudio, httpx_mock: HTTPXMock, status: int, cls: type[APIStatusError]
) -> None:
    httpx_mock.add_response(status_code=status, json={"message": "Nope"})

    with pytest.raises(cls) as info:
        await vs0.cdrs.get(5)

    exc = info.value
    assert type(exc) is cls
    assert isinstance(exc, VoipStudioError)
    assert exc.status_code == status
    assert exc.message == "Nope"
    assert exc.body == {"message": "Nope"}
    assert exc.response.status_code == status
    assert exc.path_template == "/cdrs/{id}"
    assert str(exc) == f"{status} Nope (GET /cdrs/5)"  # the id, not the template


@pytest.mark.parametrize(
    ("content", "headers", "message", "errors", "body"),
    [
        pytest.param(
            b'{"message":"Validation error","errors":[{"field":"from","message":"Invalid."}]}',
            {"content-type": "application/json"},
            "Validation error",
            [ErrorDetail("from", "Invalid.")],
            {"message": "Validation error", "errors": [{"field": "from", "message": "Invalid."}]},
            id="api-shape",
        ),
        pytest.param(
            b'{"errors":[{"message":"Invalid credentials"}]}',
            {},
            "Invalid credentials",
            [ErrorDetail(None, "Invalid credentials")],
            {"errors": [{"message": "Invalid credentials"}]},
            id="errors-only",
        ),
        pytest.param(
            b'{"errors":["bad page","bad limit"]}',
            {},
            "bad page",
            [ErrorDetail(None, "bad page"), ErrorDetail(None, "bad limit")],
            {"errors": ["bad page", "bad limit"]},
            id="string-errors",
        ),
        pytest.param(
            b'{"message":"Filtration error","errors":{"from":["Unknown."],"to":"Unknown."}}',
            {},
            "Filtration error",
            [ErrorDetail("from", "Unknown."), ErrorDetail("to", "Unknown.")],
            {"message": "Filtration error", "errors": {"from": ["Unknown."], "to": "Unknown."}},
            id="dict-errors",
        ),
        pytest.param(
            b'{"message":null,"errors":null}',
            {},
            "Bad Request",
            [],
            {"message": None, "errors": None},
            id="nulls",
        ),
        pytest.param(b"", {}, "Bad Request", [], None, id="empty"),
        pytest.param(
            b"<html><body>Bad gateway</body></html>",
            {"content-type": "text/html"},
            "Bad Request",
            [],
            "<html><body>Bad gateway</body></html>",
            id="html",
        ),
        pytest.param(b"[1,2]", {}, "Bad Request", [], [1, 2], id="json-array"),
        pytest.param(b"\xff\xfe", {}, "Bad Request", [], "\ufffd\ufffd", id="binary"),
    ],
)
async def test_error_bodies_are_parsed_tolerantly(
    vs0: VoipStudio,
    httpx_mock: HTTPXMock,
    content: bytes,
    headers: dict[str, str],
    message: str,
    errors: list[ErrorDetail],
    body: Any,
) -> None:
    httpx_mock.add_response(status_code=400, content=content, headers=headers)

    with pytest.raises(BadRequestError) as info:
        await vs0.monitors.list()

    assert info.value.message == message
    assert info.value.errors == errors
    assert info.value.body == body


async def test_field_errors_appear_in_the_message(vs0: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        status_code=400,
        json={"message": "Validation error", "errors": [{"field": "limit", "message": "Too big"}]},
    )
    with pytest.raises(
        BadRequestError, match=r"^400 Validation error \(GET /cdrs\): limit: Too big$"
    ):
        await vs0.cdrs.list()


@pytest.mark.parametrize("content", [b"", b"<h1>origin down</h1>"])
async def test_unknown_status_522_maps_cleanly(
    vs0: VoipStudio, httpx_mock: HTTPXMock, content: bytes
) -> None:
    httpx_mock.add_response(status_code=522, content=content)

    with pytest.raises(InternalServerError) as info:
        await vs0.cdrs.trace(3)

    assert info.value.status_code == 522
    assert str(info.value).startswith("522 ")


async def test_request_id_is_exposed(vs0: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=404, headers={"X-Request-Id": "req-1"})
    with pytest.raises(NotFoundError) as info:
        await vs0.chats.get(1)
    assert info.value.request_id == "req-1"


async def test_huge_text_error_body_is_truncated(vs0: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=500, content=b"x" * 100_000)
    with pytest.raises(InternalServerError) as info:
        await vs0.cdrs.list()
    assert isinstance(info.value.body, str)
    assert len(info.value.body) == 4096


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.ReadError("reset"), APIConnectionError),
        (httpx.RemoteProtocolError("garbage"), APIConnectionError),
        (httpx.ConnectTimeout("slow"), APITimeoutError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.PoolTimeout("busy"), APITimeoutError),
    ],
)
async def test_transport_failures_are_wrapped_with_cause(
    vs0: VoipStudio, httpx_mock: HTTPXMock, exc: httpx.TransportError, cls: type[Exception]
) -> None:
    httpx_mock.add_exception(exc)

    with pytest.raises(cls) as info:
        await vs0.cdrs.list(filter=[("src", "like", "SECRETQUERY")])

    assert type(info.value) is cls
    assert info.value.__cause__ is exc
    assert "/cdrs" in str(info.value)
    assert "SECRETQUERY" not in str(info.value)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"not json", "not JSON"),
        (b"", "not JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"links":{}}', "KeyError"),
        (b'{"data":"nope"}', "does not match"),
        (b'{"data":{"id":1}}', "does not match"),
    ],
)
async def test_bodies_that_do_not_match_the_spec(
    vs0: VoipStudio, httpx_mock: HTTPXMock, content: bytes, match: str
) -> None:
    httpx_mock.add_response(content=content)

    with pytest.raises(APIResponseValidationError, match=match) as info:
        await vs0.cdrs.list()

    assert info.value.response.status_code == 200


async def test_get_with_missing_required_field(vs0: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": {"calldate": "2026-01-01 00:00:00"}})
    with pytest.raises(APIResponseValidationError) as info:
        await vs0.cdrs.get(1)
    assert info.value.body == {"data": {"calldate": "2026-01-01 00:00:00"}}
    assert isinstance(info.value.__cause__, KeyError)
