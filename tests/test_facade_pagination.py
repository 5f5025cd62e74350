"""list()/iterate()/iterate_consistent(): laziness, fixed query, termination, max_items."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from voipstudio_async import APIResponseValidationError, NotFoundError, VoipStudio


def _rows(start: int, count: int) -> list[dict[str, Any]]:
    return [{"id": i} for i in range(start, start + count)]


def _query(request: httpx.Request) -> dict[str, str]:
    return dict(request.url.params)


async def _drain(items: AsyncIterator[Any], into: list[Any]) -> None:
    async for item in items:
        into.append(item.id)


async def test_iterate_is_lazy_one_request_for_five_items(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": _rows(1, 100), "total": 1000})

    seen: list[int] = []
    async for cdr in vs.cdrs.iterate(page_size=100):
        seen.append(cdr.id)
        if len(seen) == 5:
            break

    assert seen == [1, 2, 3, 4, 5]
    assert len(httpx_mock.get_requests()) == 1


async def test_iterate_sends_identical_filters_and_sort_on_every_page(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": _rows(1, 2), "total": 5})
    httpx_mock.add_response(json={"data": _rows(3, 2), "total": 5})
    httpx_mock.add_response(json={"data": _rows(5, 1), "total": 5})

    ids = [
        m.id
        async for m in vs.monitors.iterate(
            filter=[("duration", "gte", 10), ("caller", "like", "44")],
            sort="timestamp",
            direction="DESC",
            page_size=2,
        )
    ]

    assert ids == [1, 2, 3, 4, 5]
    queries = [_query(r) for r in httpx_mock.get_requests()]
    assert [q.pop("page") for q in queries] == ["1", "2", "3"]
    assert queries[0] == queries[1] == queries[2]
    assert queries[0]["limit"] == "2"
    assert queries[0]["sort"] == "timestamp"
    assert queries[0]["dir"] == "DESC"
    assert json.loads(queries[0]["filter"]) == [
        {"property": "duration", "operator": "gte", "value": 10},
        {"property": "caller", "operator": "like", "value": "44"},
    ]


async def test_iterate_stops_on_an_empty_page_without_total(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": _rows(1, 2)})
    httpx_mock.add_response(json={"data": _rows(3, 2)})
    httpx_mock.add_response(json={"data": []})

    assert [c.id async for c in vs.chats.iterate(page_size=2)] == [1, 2, 3, 4]
    assert len(httpx_mock.get_requests()) == 3


async def test_iterate_stops_when_total_items_were_seen(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": _rows(1, 3), "total": 5})
    httpx_mock.add_response(json={"data": _rows(4, 2), "total": 5})

    assert [c.id async for c in vs.cdrs.iterate(page_size=3)] == [1, 2, 3, 4, 5]
    assert len(httpx_mock.get_requests()) == 2  # no third request for an empty page


async def test_iterate_raises_when_the_server_repeats_a_page(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    # A server that ignores `page` would otherwise make this loop forever.
    httpx_mock.add_response(json={"data": _rows(1, 2)}, is_reusable=True)

    seen: list[int] = []
    with pytest.raises(APIResponseValidationError, match="repeated"):
        await _drain(vs.cdrs.iterate(page_size=2), seen)

    assert seen == [1, 2]
    assert len(httpx_mock.get_requests()) == 2


@pytest.mark.parametrize(
    ("max_items", "page_size", "pages", "requests", "expected"),
    [
        (20, 10, [_rows(1, 10), _rows(11, 10)], 2, list(range(1, 21))),
        (20, 100, [_rows(1, 100)], 1, list(range(1, 21))),
        (3, 2, [_rows(1, 2), _rows(3, 2)], 2, [1, 2, 3]),
    ],
)
async def test_max_items_bounds_the_walk(
    vs: VoipStudio,
    httpx_mock: HTTPXMock,
    max_items: int,
    page_size: int,
    pages: list[list[dict[str, Any]]],
    requests: int,
    expected: list[int],
) -> None:
    for rows in pages:
        httpx_mock.add_response(json={"data": rows, "total": 1000})

    got = [c.id async for c in vs.cdrs.iterate(page_size=page_size, max_items=max_items)]

    assert got == expected
    assert len(httpx_mock.get_requests()) == requests
    assert {r.url.params["limit"] for r in httpx_mock.get_requests()} == {str(page_size)}


async def test_list_returns_one_page(vs: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": _rows(11, 10), "total": 95})

    page = await vs.cdrs.list(page=2, limit=10)

    assert [c.id for c in page.items] == list(range(11, 21))
    assert (page.total, page.page, page.limit) == (95, 2, 10)
    assert page.response.status_code == 200


async def test_list_without_total_reports_none(vs: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": []})
    assert (await vs.msdrs.list()).total is None


async def test_calltracking_iterate_on_cdrs(vs: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": [{"id": 1}, {"id": "x"}], "total": 2})

    ids = [c.id async for c in vs.cdrs.calltracking_iterate(page_size=5)]

    assert ids == [1, "x"]
    request = httpx_mock.get_request()
    assert request is not None
    assert request.url.path.endswith("/cdrs/calltracking")


async def test_iterate_consistent_walks_by_id(vs: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": _rows(1, 2), "total": 5})
    # A row was deleted meanwhile: a page-number walk would now skip id 3.
    httpx_mock.add_response(json={"data": [{"id": 3}, {"id": 5}], "total": 3})
    httpx_mock.add_response(json={"data": [{"id": 6}], "total": 1})

    ids = [
        c.id async for c in vs.cdrs.iterate_consistent(filter=[("type", "eq", "O")], page_size=2)
    ]

    assert ids == [1, 2, 3, 5, 6]
    requests = httpx_mock.get_requests()
    assert len(requests) == 3  # the last page held all remaining rows (total)
    for request in requests:
        assert request.url.params["page"] == "1"
        assert request.url.params["sort"] == "id"
        assert request.url.params["dir"] == "ASC"
    filters = [json.loads(r.url.params["filter"]) for r in requests]
    type_filter = {"property": "type", "operator": "eq", "value": "O"}
    assert filters == [
        [type_filter],
        [type_filter, {"property": "id", "operator": "gt", "value": 2}],
        [type_filter, {"property": "id", "operator": "gt", "value": 5}],
    ]


async def test_iterate_consistent_stops_on_empty_page(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": _rows(1, 2)})
    httpx_mock.add_response(json={"data": []})

    assert [m.id async for m in vs.monitors.iterate_consistent(page_size=2)] == [1, 2]


async def test_iterate_consistent_raises_if_the_id_filter_is_ignored(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": _rows(1, 2)}, is_reusable=True)

    with pytest.raises(APIResponseValidationError, match="keyset"):
        await _drain(vs.voicemessages.iterate_consistent(page_size=2), [])


async def test_iterate_consistent_max_items(vs: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": _rows(1, 5)})

    ids = [c.id async for c in vs.chats.iterate_consistent(page_size=5, max_items=3)]

    assert ids == [1, 2, 3]


async def test_a_failing_page_raises_after_earlier_items(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": _rows(1, 2), "total": 4})
    httpx_mock.add_response(status_code=404, json={"message": "gone"})

    seen: list[int] = []
    with pytest.raises(NotFoundError, match="gone"):
        await _drain(vs.cdrs.iterate(page_size=2), seen)
    assert seen == [1, 2]
