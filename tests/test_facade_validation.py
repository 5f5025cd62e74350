"""Input validation and filter encoding: bad input raises ValueError with zero requests sent."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from pytest_httpx import HTTPXMock

from voipstudio_async import Filter, VoipStudio
from voipstudio_async._filters import encode_filters

BAD_IDS: list[Any] = ["", "..", "1", "../1", 0, -1, True, False, 1.0, None, [1]]


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
@pytest.mark.parametrize(
    "call",
    [
        lambda vs, i: vs.cdrs.get(i),
        lambda vs, i: vs.cdrs.notes(i),
        lambda vs, i: vs.cdrs.trace(i),
        lambda vs, i: vs.monitors.get(i),
        lambda vs, i: vs.msdrs.get(i),
        lambda vs, i: vs.msdrs.trace(i),
        lambda vs, i: vs.chats.get(i),
        lambda vs, i: vs.voicemessages.get(i),
    ],
    ids=[
        "cdrs.get",
        "cdrs.notes",
        "cdrs.trace",
        "monitors.get",
        "msdrs.get",
        "msdrs.trace",
        "chats.get",
        "voicemessages.get",
    ],
)
async def test_bad_ids_raise_before_sending(
    vs: VoipStudio,
    httpx_mock: HTTPXMock,
    call: Callable[[VoipStudio, Any], Awaitable[Any]],
    bad: Any,
) -> None:
    with pytest.raises(ValueError, match="positive int"):
        await call(vs, bad)
    assert httpx_mock.get_requests() == []


BAD_LIST_ARGS: list[dict[str, Any]] = [
    {"limit": 0},
    {"limit": 5001},
    {"limit": -1},
    {"limit": True},
    {"limit": "100"},
    {"page": 0},
    {"page": "2"},
    {"sort": ""},
    {"sort": 3},
    {"direction": "desc"},
    {"direction": "UP"},
    {"filter": [("duration", "between", 5)]},
    {"filter": [("duration", "neq", 5)]},
    {"filter": [("", "eq", 5)]},
    {"filter": [("  ", "eq", 5)]},
    {"filter": [("duration", "gt", object())]},
    {"filter": [("duration", "gt", None)]},
    {"filter": [("duration", "gt", float("nan"))]},
    {"filter": [("duration", "gt", float("inf"))]},
    {"filter": [("flag", "eq", True)]},
    {"filter": [("duration", "gt")]},
    {"filter": ["duration>5"]},
    {"filter": ("duration", "gt", 5)},
    {"filter": Filter("duration", "gt", 5)},
]


@pytest.mark.parametrize("kwargs", BAD_LIST_ARGS, ids=repr)
async def test_bad_list_arguments_raise_before_sending(
    vs: VoipStudio, httpx_mock: HTTPXMock, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies per argument
        await vs.cdrs.list(**kwargs)
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"page_size": 0},
        {"page_size": 5001},
        {"max_items": 0},
        {"max_items": -3},
        {"direction": "sideways"},
        {"filter": [("calldate", "between", "2026-01-01")]},
    ],
    ids=repr,
)
async def test_bad_iterate_arguments_raise_at_the_call(
    vs: VoipStudio, httpx_mock: HTTPXMock, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies per argument
        vs.cdrs.iterate(**kwargs)
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("kwargs", [{"page_size": 0}, {"filter": [("id", "in", [1])]}], ids=repr)
async def test_bad_iterate_consistent_arguments(
    vs: VoipStudio, httpx_mock: HTTPXMock, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        vs.cdrs.iterate_consistent(**kwargs)
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("limit", [5001, 10000])
async def test_a_page_above_the_documented_maximum_says_why(
    vs: VoipStudio, httpx_mock: HTTPXMock, limit: int
) -> None:
    # The maximum is unverified (openapi/notes.md §6): the refusal names the reason and
    # where it is written, not only the bound.
    for call in (lambda: vs.cdrs.list(limit=limit), lambda: vs.cdrs.iterate(page_size=limit)):
        with pytest.raises(ValueError, match=r"unverified.*API versions and page size"):
            await _consume(call())
    assert httpx_mock.get_requests() == []


async def _consume(result: Any) -> None:
    if hasattr(result, "__aiter__"):
        async for _ in result:
            break
    else:
        await result


@pytest.mark.parametrize("limit", [1, 5000])
async def test_limit_bounds_are_inclusive(
    vs: VoipStudio, httpx_mock: HTTPXMock, limit: int
) -> None:
    httpx_mock.add_response(json={"data": []})
    await vs.cdrs.list(limit=limit)
    request = httpx_mock.get_request()
    assert request is not None
    assert request.url.params["limit"] == str(limit)


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (60, 60),
        (1.5, 1.5),
        ("+44%", "+44%"),
        ("Zoë", "Zoë"),
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02 03:04:05"),
        (datetime(2026, 1, 2, 3, 4, 5, 999_999), "2026-01-02 03:04:05"),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02 03:04:05"),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))), "2026-01-02 01:04:05"),
        (date(2026, 1, 2), "2026-01-02"),
        # Years before 1000 padded to four digits (strftime's %Y does not pad them).
        (date(999, 1, 1), "0999-01-01"),
        (date(1, 1, 1), "0001-01-01"),
        (datetime(999, 12, 31, 23, 59, 59, 5), "0999-12-31 23:59:59"),
        (datetime(5, 1, 2, 3, 4, 5), "0005-01-02 03:04:05"),
        (datetime(1000, 1, 1, 1, tzinfo=timezone(timedelta(hours=2))), "0999-12-31 23:00:00"),
        (datetime.min, "0001-01-01 00:00:00"),
    ],
)
def test_filter_values_serialise(value: Any, wire: Any) -> None:
    encoded = encode_filters([("calldate", "gte", value)])
    assert encoded is not None
    assert json.loads(encoded) == [{"property": "calldate", "operator": "gte", "value": wire}]


def test_a_datetime_before_year_1_in_utc_is_refused() -> None:
    early = datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=2)))
    with pytest.raises(ValueError, match="before year 1 in UTC"):
        encode_filters([("calldate", "gte", early)])


def test_filters_are_compact_json_in_order() -> None:
    encoded = encode_filters(
        [Filter("duration", "gt", 60), ("src", "like", "44"), ("type", "eq", "O")]
    )
    assert encoded == (
        '[{"property":"duration","operator":"gt","value":60},'
        '{"property":"src","operator":"like","value":"44"},'
        '{"property":"type","operator":"eq","value":"O"}]'
    )


@pytest.mark.parametrize("empty", [None, [], ()])
def test_no_filters_means_no_parameter(empty: Any) -> None:
    assert encode_filters(empty) is None


@pytest.mark.parametrize("operator", ["eq", "like", "gt", "gte", "lt", "lte"])
def test_every_verified_operator_is_accepted(operator: Any) -> None:
    assert Filter("duration", operator, 1).operator == operator


async def test_empty_filter_list_sends_no_filter(vs: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": []})
    await vs.cdrs.list(filter=[])
    request = httpx_mock.get_request()
    assert request is not None
    assert "filter" not in request.url.params
