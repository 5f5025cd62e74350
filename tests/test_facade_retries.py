"""Retry decision table, Retry-After parsing, backoff and retry logging (time is mocked)."""

from __future__ import annotations

import asyncio
import email.utils
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from voipstudio_async import (
    APIConnectionError,
    APIStatusError,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
    VoipStudio,
)
from voipstudio_async._policies.retry import parse_retry_after

NOW = 1_800_000_000.0

PATCH_CDRS: dict[str, Any] = {
    "method": "patch",
    "url": "/cdrs",
    "json": [{"id": 1, "labels": ["x"]}],
}
DELETE_ALL: dict[str, Any] = {"method": "delete", "url": "/cdrs"}
DELETE_IDS: dict[str, Any] = {"method": "delete", "url": "/monitors/1,2"}


async def _send(vs: VoipStudio, kind: str) -> Any:
    if kind == "GET":
        return await vs.cdrs.list()
    table: dict[str, tuple[dict[str, Any], RetryPolicy]] = {
        "PATCH": (PATCH_CDRS, RetryPolicy.NO_REPLAY),
        "DELETE collection": (DELETE_ALL, RetryPolicy.NO_REPLAY),
        "DELETE ids": (DELETE_IDS, RetryPolicy.IDEMPOTENT),
    }
    kwargs, policy = table[kind]
    return await vs._requester.send(kwargs, policy=policy, path_template=kwargs["url"])


KINDS = ["GET", "DELETE ids", "PATCH", "DELETE collection"]
IDEMPOTENT_KINDS = {"GET", "DELETE ids"}

RETRYABLE_STATUS = [408, 429, 500, 502, 503, 504]
FINAL_STATUS = [400, 401, 403, 404, 409, 422, 501, 522]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", RETRYABLE_STATUS + FINAL_STATUS)
async def test_status_decision_table(
    vs: VoipStudio, httpx_mock: HTTPXMock, sleeps: list[float], kind: str, status: int
) -> None:
    # Each request on its own, as with rate_limit=None (test_ratelimit covers the limiter).
    vs._requester.limiter = None
    httpx_mock.add_response(status_code=status, is_reusable=True)

    with pytest.raises(APIStatusError) as info:
        await _send(vs, kind)

    # A 429 refused the request before acting: even no-replay requests are sent again.
    retried = (kind in IDEMPOTENT_KINDS or status == 429) and status in RETRYABLE_STATUS
    assert info.value.status_code == status
    assert len(httpx_mock.get_requests()) == (3 if retried else 1)
    assert len(sleeps) == (2 if retried else 0)


NOT_SENT = [
    httpx.ConnectError("refused"),
    httpx.ConnectTimeout("slow connect"),
    httpx.PoolTimeout("pool"),
]
AMBIGUOUS = [
    httpx.ReadTimeout("slow"),
    httpx.WriteTimeout("slow"),
    httpx.ReadError("reset"),
    httpx.WriteError("broken pipe"),
    httpx.RemoteProtocolError("bad status line"),
]
NEVER = [httpx.LocalProtocolError("bug"), httpx.UnsupportedProtocol("ftp")]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("exc", NOT_SENT + AMBIGUOUS + NEVER, ids=lambda e: type(e).__name__)
async def test_exception_decision_table(
    vs: VoipStudio,
    httpx_mock: HTTPXMock,
    sleeps: list[float],
    kind: str,
    exc: httpx.TransportError,
) -> None:
    httpx_mock.add_exception(exc, is_reusable=True)

    with pytest.raises(APIConnectionError) as info:
        await _send(vs, kind)

    retried = any(exc is e for e in NOT_SENT) or (
        kind in IDEMPOTENT_KINDS and any(exc is e for e in AMBIGUOUS)
    )
    assert info.value.__cause__ is exc
    assert len(httpx_mock.get_requests()) == (3 if retried else 1)
    assert len(sleeps) == (2 if retried else 0)


async def test_get_recovers_after_two_503(
    vs: VoipStudio, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    httpx_mock.add_response(status_code=503)
    httpx_mock.add_response(status_code=503)
    httpx_mock.add_response(json={"data": {"id": 7}})

    assert (await vs.cdrs.get(7)).id == 7
    assert len(httpx_mock.get_requests()) == 3
    assert len(sleeps) == 2


async def test_patch_retried_after_connect_error_only(
    vs: VoipStudio, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"))
    httpx_mock.add_response(json={"data": []})

    response = await _send(vs, "PATCH")

    assert response.status_code == 200
    assert len(httpx_mock.get_requests()) == 2


@pytest.mark.parametrize("max_retries", [0, 1, 4])
async def test_max_retries_is_respected(
    httpx_mock: HTTPXMock, sleeps: list[float], fake_sleep: Any, max_retries: int
) -> None:
    httpx_mock.add_response(status_code=500, is_reusable=True)
    async with VoipStudio(1, "k", max_retries=max_retries) as vs:
        vs._requester._sleep = fake_sleep
        with pytest.raises(InternalServerError):
            await vs.monitors.list()
    assert len(httpx_mock.get_requests()) == max_retries + 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": " 3 "}, 3.0),
        ({"retry-after": "0"}, None),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "-inf"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "1e9"}, None),
        ({"retry-after": "86400"}, 86400.0),
        ({"retry-after": "86401"}, None),
        ({"retry-after": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"retry-after": email.utils.formatdate(NOW - 30, usegmt=True)}, None),
        ({"retry-after": email.utils.formatdate(NOW + 10 * 86400, usegmt=True)}, None),
        ({"retry-after": "Fri, 99 Foo 2026 99:99:99 GMT"}, None),
        ({"retry-after": "Sat, 31 Dec 1960 00:00:00"}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "1500", "retry-after": "10"}, 1.5),
        ({"retry-after-ms": "junk", "retry-after": "10"}, 10.0),
        ({"retry-after-ms": "-5", "retry-after": "10"}, None),
    ],
)
def test_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    got = parse_retry_after(httpx.Headers(headers), now=NOW)
    assert got == (None if expected is None else pytest.approx(expected))


async def test_retry_after_is_honoured_then_the_error_carries_it(
    vs: VoipStudio, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    vs._requester.limiter = None  # as with rate_limit=None
    httpx_mock.add_response(status_code=429, headers={"Retry-After": "2"}, is_reusable=True)

    with pytest.raises(RateLimitError) as info:
        await vs.cdrs.list()

    assert sleeps == [2.0, 2.0]
    assert info.value.retry_after == 2.0
    assert len(httpx_mock.get_requests()) == 3


async def test_retry_after_above_the_cap_raises_at_once(
    vs: VoipStudio, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    httpx_mock.add_response(status_code=429, headers={"Retry-After": "120"})

    with pytest.raises(RateLimitError) as info:
        await vs.cdrs.list()

    assert info.value.retry_after == 120.0
    assert sleeps == []
    assert len(httpx_mock.get_requests()) == 1


async def test_max_retry_after_is_configurable(
    httpx_mock: HTTPXMock, sleeps: list[float], fake_sleep: Any
) -> None:
    httpx_mock.add_response(status_code=503, headers={"Retry-After": "120"})
    httpx_mock.add_response(json={"data": []})
    async with VoipStudio(1, "k", max_retry_after=300) as vs:
        vs._requester._sleep = fake_sleep
        await vs.cdrs.list()
    assert sleeps == [120.0]


@pytest.mark.parametrize("value", ["-5", "garbage", "1e12", "0"])
async def test_absurd_retry_after_falls_back_to_backoff(
    vs: VoipStudio, httpx_mock: HTTPXMock, sleeps: list[float], value: str
) -> None:
    vs._requester.retries.random = lambda: 1.0
    httpx_mock.add_response(status_code=503, headers={"Retry-After": value}, is_reusable=True)

    with pytest.raises(InternalServerError) as info:
        await vs.cdrs.list()

    assert sleeps == [0.5, 1.0]
    assert info.value.retry_after is None


@pytest.mark.parametrize(
    ("rand", "expected"),
    [
        (1.0, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]),
        (0.5, [0.25, 0.5, 1.0, 2.0, 4.0, 4.0]),
        (0.0, [0.0] * 6),
    ],
)
async def test_backoff_is_exponential_jittered_and_capped(
    httpx_mock: HTTPXMock, sleeps: list[float], fake_sleep: Any, rand: float, expected: list[float]
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), is_reusable=True)
    async with VoipStudio(1, "k", max_retries=6) as vs:
        vs._requester._sleep = fake_sleep
        vs._requester.retries.random = lambda: rand
        with pytest.raises(APIConnectionError):
            await vs.cdrs.list()
    assert sleeps == expected


async def test_one_info_record_per_retry_without_query(
    vs: VoipStudio,
    httpx_mock: HTTPXMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    vs._requester.retries.random = lambda: 1.0
    httpx_mock.add_response(status_code=503)
    httpx_mock.add_exception(httpx.ReadTimeout("slow"))
    httpx_mock.add_response(json={"data": []})

    with caplog.at_level(logging.INFO, logger="voipstudio_async"):
        await vs.cdrs.list(filter=[("src", "like", "QUERYVALUE")])

    records = [
        r for r in caplog.records if r.name == "voipstudio_async" and r.levelno == logging.INFO
    ]
    assert [r.getMessage() for r in records] == [
        "retrying GET /cdrs after 503 (retry 1 of 2) in 0.50s",
        "retrying GET /cdrs after ReadTimeout (retry 2 of 2) in 1.00s",
    ]
    assert [(r.http_method, r.path_template, r.cause, r.attempt, r.delay) for r in records] == [  # type: ignore[attr-defined]
        ("GET", "/cdrs", 503, 1, 0.5),
        ("GET", "/cdrs", "ReadTimeout", 2, 1.0),
    ]
    assert all("QUERYVALUE" not in r.getMessage() for r in caplog.records)


async def test_backoff_sleep_does_not_hold_a_concurrency_slot(httpx_mock: HTTPXMock) -> None:
    second_done = asyncio.Event()

    async def sleep_until_second_finishes(delay: float) -> None:
        await asyncio.wait_for(second_done.wait(), timeout=5)

    httpx_mock.add_response(url=httpx.URL(_cdr_url(1)), status_code=503)
    httpx_mock.add_response(url=httpx.URL(_cdr_url(2)), json={"data": {"id": 2}})
    httpx_mock.add_response(url=httpx.URL(_cdr_url(1)), json={"data": {"id": 1}})

    async with VoipStudio(1, "k", max_concurrency=1) as vs:
        vs._requester._sleep = sleep_until_second_finishes

        async def second() -> int:
            await asyncio.sleep(0)  # let the first request take the only slot first
            cdr = await vs.cdrs.get(2)
            second_done.set()
            return cdr.id

        first, second_id = await asyncio.gather(vs.cdrs.get(1), second())

    assert (first.id, second_id) == (1, 2)


def _cdr_url(id_: int) -> str:
    return f"https://l7api.com/v1.1/voipstudio/cdrs/{id_}"


@pytest.fixture
async def slow_vs() -> AsyncIterator[VoipStudio]:
    async with VoipStudio(1, "k", max_concurrency=4) as client:
        yield client


async def test_concurrency_is_bounded(slow_vs: VoipStudio, httpx_mock: HTTPXMock) -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return httpx.Response(200, json={"data": {"id": 1}})

    httpx_mock.add_callback(handler, is_reusable=True)

    await asyncio.gather(*(slow_vs.cdrs.get(1) for _ in range(50)))

    assert peak == 4
    assert len(httpx_mock.get_requests()) == 50
