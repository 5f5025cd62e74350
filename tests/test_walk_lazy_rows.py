"""Walks build items lazily from decoded rows; what they yield is what from_dict builds."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock
from voipstudio_history_client.models import CdrList

from voipstudio_async import APIResponseValidationError, VoipStudio
from voipstudio_async.resources import _base


def rows(start: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "calldate": f"2026-01-01 00:00:{i % 60:02d}",
            "type": "O" if i % 2 else 1,
            "labels": ["a"] if i % 3 else [],
            "duration": None if i % 5 == 0 else i,
            **({"x_extra": {"nested": i}} if i % 7 == 0 else {}),
        }
        for i in range(start, start + count)
    ]


async def test_walk_yields_exactly_what_from_dict_builds(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    first, second = rows(1, 600), rows(601, 400)
    httpx_mock.add_response(json={"data": first, "total": 1000})
    httpx_mock.add_response(json={"data": second, "total": 1000})
    expected = CdrList.from_dict({"data": first + second}).data
    walked = [cdr async for cdr in vs.cdrs.iterate(page_size=600)]
    assert walked == expected
    assert walked[6].additional_properties == {"x_extra": {"nested": 7}}


async def collect_ids(client: VoipStudio, into: list[int]) -> None:
    async for cdr in client.cdrs.iterate():
        into.append(cdr.id)


async def test_a_bad_row_mid_page_raises_a_validation_error_with_the_body(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    page = rows(1, 10)
    del page[4]["id"]  # `id` is required: from_dict raises KeyError on this row
    httpx_mock.add_response(json={"data": page, "total": 10})
    seen: list[int] = []
    with pytest.raises(APIResponseValidationError) as caught:
        await collect_ids(vs, seen)
    assert seen == [1, 2, 3, 4]
    assert caught.value.body == {"data": page, "total": 10}


async def test_prefetched_pages_wait_undecoded_until_the_walk_reaches_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Decoded rows held ahead of the caller would age into the GC's oldest generation.
    decoded: list[int] = []
    parse_rows = _base.parse_rows

    def recording(response: httpx.Response, *args: Any, **kwargs: Any) -> Any:
        decoded.append(int(response.request.url.params["page"]))
        return parse_rows(response, *args, **kwargs)

    monkeypatch.setattr(_base, "parse_rows", recording)
    sent: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        sent.append(page)
        return httpx.Response(200, json={"data": rows(page * 10 - 9, 10), "total": 50})

    async with VoipStudio(
        1, "k", base_url="https://x.test/v1.2", transport=httpx.MockTransport(answer)
    ) as client:
        walk = client.cdrs.iterate(page_size=10)
        ids = [(await anext(walk)).id for _ in range(11)]  # into page 2: prefetch starts
        await asyncio.sleep(0.05)
        assert sent == [1, 2, 3, 4]
        assert decoded == [1, 2]
        ids += [cdr.id async for cdr in walk]
    assert ids == list(range(1, 51))
    assert decoded == [1, 2, 3, 4, 5]
