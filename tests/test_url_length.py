"""A query too long for httpx is a ValueError before anything is sent, whatever builds it."""

from __future__ import annotations

import httpx
import pytest

from voipstudio_async import VoipStudio, VoipStudioError
from voipstudio_async._request.requester import MAX_URL_LENGTH, RetryPolicy

PAGE = {"data": [], "total": 0, "page": 1, "limit": 50}


def _client(sent: list[httpx.Request]) -> VoipStudio:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=PAGE)

    return VoipStudio(token="t", transport=httpx.MockTransport(handler), max_retries=0)


async def test_an_over_long_filter_is_a_value_error_and_nothing_is_sent() -> None:
    sent: list[httpx.Request] = []
    value = "needle" + "x" * MAX_URL_LENGTH
    async with _client(sent) as vs:
        with pytest.raises(ValueError, match="65,536") as caught:
            await vs.cdrs.list(filter=[("dst", "like", value)])
    assert not isinstance(caught.value, VoipStudioError)
    assert "GET /cdrs" in str(caught.value)
    assert "needle" not in str(caught.value)  # never the query itself
    assert sent == []


async def test_any_over_long_query_is_caught_where_the_url_is_built() -> None:
    sent: list[httpx.Request] = []
    ids = ",".join(str(n) for n in range(1, 20_000))
    async with _client(sent) as vs:
        with pytest.raises(ValueError, match="characters, over the 65,536"):
            await vs._requester.send(
                {"method": "get", "url": "/cdrs", "params": {"ids": ids}},
                policy=RetryPolicy.IDEMPOTENT,
                path_template="/cdrs",
            )
    assert sent == []


async def test_a_long_filter_under_the_limit_is_sent() -> None:
    sent: list[httpx.Request] = []
    async with _client(sent) as vs:
        await vs.cdrs.list(filter=[("dst", "like", "x" * (MAX_URL_LENGTH - 1_000))])
    assert len(sent) == 1


def test_an_unparseable_base_url_is_refused_when_the_client_is_built() -> None:
    with pytest.raises(ValueError, match="base_url is not a valid URL"):
        VoipStudio(token="t", base_url="http://[::1/v1.1/voipstudio")
