"""Timeouts are checked where they are given (client and per call), naming the option,
before anything is sent; both backends treat every accepted value the same."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from voipstudio_async import APITimeoutError, VoipStudio
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

BACKENDS = ["httpx", "aiohttp"]

BAD_TIMEOUTS = [
    math.inf,
    -math.inf,
    math.nan,
    0,
    0.0,
    -1,
    -5.0,
    "5",
    "x",
    True,
    None,
    [5],
    httpx.Timeout(None),
    httpx.Timeout(5.0, read=None),
    httpx.Timeout(5.0, connect=0),
    httpx.Timeout(5.0, pool=-1),
    httpx.Timeout(5.0, write=math.inf),
    httpx.Timeout(5.0, read=math.nan),
]


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=5, cdrs=30, monitors=2)


@pytest.fixture
def base_url(fake: FakeVoipStudio) -> Iterator[str]:
    with serve_in_thread(fake) as url:
        yield url


def _client(fake: FakeVoipStudio, base_url: str, backend: str, **options: Any) -> VoipStudio:
    creds = fake.credentials
    return VoipStudio(
        creds.user_id,
        creds.api_key,
        base_url=base_url,
        http_backend=backend,
        max_retries=0,
        **options,
    )


@pytest.fixture(params=BACKENDS)
async def vs(
    request: pytest.FixtureRequest, fake: FakeVoipStudio, base_url: str
) -> AsyncIterator[VoipStudio]:
    async with _client(fake, base_url, request.param) as client:
        yield client


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bad", BAD_TIMEOUTS, ids=repr)
def test_a_bad_client_timeout_is_refused_naming_it(backend: str, bad: object) -> None:
    with pytest.raises(ValueError, match=r"^timeout(\.\w+)? must be"):
        VoipStudio(token="t", timeout=bad, http_backend=backend)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [b for b in BAD_TIMEOUTS if b is not None], ids=repr)
async def test_a_bad_per_call_timeout_is_refused_before_sending(
    vs: VoipStudio, fake: FakeVoipStudio, bad: Any
) -> None:
    for call in (
        lambda: vs.cdrs.get(1, timeout=bad),
        lambda: vs.cdrs.list(timeout=bad),
        lambda: vs.monitors.get(1, timeout=bad),
    ):
        with pytest.raises(ValueError, match=r"^timeout(\.\w+)? must be"):
            await call()
    for walk in (vs.cdrs.iterate, vs.cdrs.iterate_consistent):
        with pytest.raises(ValueError, match=r"^timeout(\.\w+)? must be"):
            walk(timeout=bad)  # at the call, not at the first `async for`
    assert fake.requests == []


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("timeout", [0.05, 0.001, 1e-6, httpx.Timeout(5.0, read=0.05)], ids=repr)
async def test_a_short_timeout_times_out_on_both_backends(
    fake: FakeVoipStudio, base_url: str, backend: str, timeout: Any
) -> None:
    fake.add_latency("/cdrs/*", seconds=0.5)
    async with _client(fake, base_url, backend, timeout=timeout) as vs:
        with pytest.raises(APITimeoutError):
            await vs.cdrs.get(1)
    async with _client(fake, base_url, backend) as vs:
        with pytest.raises(APITimeoutError):
            await vs.cdrs.get(1, timeout=timeout)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("timeout", [5, 5.0, 30, httpx.Timeout(5.0, connect=2.0)], ids=repr)
async def test_an_ample_timeout_lets_a_slow_answer_through_on_both_backends(
    fake: FakeVoipStudio, base_url: str, backend: str, timeout: Any
) -> None:
    fake.add_latency("/cdrs/*", seconds=0.2)
    async with _client(fake, base_url, backend, timeout=timeout) as vs:
        assert (await vs.cdrs.get(1)).id == 1
        assert (await vs.cdrs.get(1, timeout=timeout)).id == 1
        expected = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        assert vs.timeout == expected
