"""Deadlines and pauses a web app can plan around (issue 21 item 5), at small scale.

* One long ``Retry-After`` beyond ``max_retry_after`` pauses the account, but no call
  sleeps through it: calls queued behind it fail at once with ``RateLimitWaitError``
  carrying the wait left, and nothing is sent meanwhile.
* Under a burst with per-call deadlines, a call whose turn would leave too little of
  its deadline is refused before sending, so no request is cancelled in flight and
  the server's quota goes only to answers that are used.
* The web app tells the limiter's refusal (503 with ``Retry-After``) from a real
  timeout (504).

The timing targets (goodput, latency, shares) are ``bench.ratelimit_webapp``'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from test_fastapi_example import load_example

from voipstudio_async import (
    APITimeoutError,
    RateLimitError,
    RateLimitWaitError,
    VoipStudio,
)
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

Sleep = Callable[[float], Awaitable[None]]


def _fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=7, cdrs=20, monitors=1, voicemessages=1, chats=1, msdrs=1)


def _client(fake: FakeVoipStudio, **options: Any) -> VoipStudio:
    creds = fake.credentials
    return VoipStudio(
        creds.user_id, creds.api_key, base_url=fake.base_url, transport=fake.transport(), **options
    )


CALLS: dict[str, Callable[[VoipStudio], Awaitable[object]]] = {
    "get": lambda vs: vs.cdrs.get(1),
    "list": lambda vs: vs.cdrs.list(limit=5),
    "get with a deadline": lambda vs: vs.cdrs.get(1, deadline=30.0),
}


@pytest.mark.parametrize("retry_after", [5, 20])
@pytest.mark.parametrize("call", list(CALLS))
async def test_calls_queued_behind_a_long_retry_after_fail_at_once_with_the_wait(
    retry_after: int, call: str, sleeps: list[float], fake_sleep: Sleep
) -> None:
    fake = _fake()
    # A gate of 2: most of the 24 calls queue behind the first two when the 429 lands.
    async with _client(fake, max_retry_after=1, max_concurrency=2) as vs:
        vs._requester._sleep = fake_sleep
        fake.fail("/cdrs*", 429, times=1, retry_after=retry_after)
        results = await asyncio.gather(
            *(CALLS[call](vs) for _ in range(24)), return_exceptions=True
        )
    server = [r for r in results if type(r) is RateLimitError]
    refused = [r for r in results if isinstance(r, RateLimitWaitError)]
    assert len(server) == 1 and server[0].retry_after == retry_after
    assert not [r for r in results if isinstance(r, APITimeoutError)]
    # Every call either went out before the 429 was in, or was refused with the wait.
    answered = [r for r in results if not isinstance(r, BaseException)]
    assert len(refused) >= 20 and len(answered) + len(refused) + 1 == 24
    for exc in refused:
        assert exc.past_deadline is False
        assert retry_after - 1 < (exc.retry_after or 0) <= retry_after
    assert [s for s in sleeps if s > 1] == []  # nobody slept through the pause
    assert len(fake.requests) == 1 + len(answered)  # nothing sent after the 429


@pytest.mark.parametrize("limiter", ["adaptive", "none"])
@pytest.mark.parametrize("retry_after", [3, 5])
async def test_a_429_whose_wait_passes_the_deadline_is_busy_not_a_timeout(
    limiter: str, retry_after: int, sleeps: list[float], fake_sleep: Sleep
) -> None:
    # Without a limiter the 429 itself is raised (it had been an APITimeoutError, which
    # an app answers 504); with one, the limiter's refusal, carrying the same wait.
    fake = _fake()
    options: dict[str, Any] = {} if limiter == "adaptive" else {"rate_limit": None}
    async with _client(fake, **options) as vs:
        vs._requester._sleep = fake_sleep
        fake.fail("/cdrs/*", 429, times=1, retry_after=retry_after)
        with pytest.raises(RateLimitError) as info:
            await vs.cdrs.get(1, deadline=2.0)
    assert not isinstance(info.value, APITimeoutError)
    assert info.value.retry_after == pytest.approx(retry_after, abs=0.5)
    assert isinstance(info.value, RateLimitWaitError) is (limiter == "adaptive")
    assert sleeps == [] and len(fake.requests) == 1


@pytest.mark.parametrize("http_backend", ["httpx", "aiohttp"])
async def test_a_burst_under_deadlines_cancels_nothing_in_flight(http_backend: str) -> None:
    fake = _fake()
    creds = fake.credentials
    sent = cancelled = 0
    with serve_in_thread(fake) as base_url:
        async with VoipStudio(
            creds.user_id,
            creds.api_key,
            base_url=base_url,
            http_backend=http_backend,  # type: ignore[arg-type]
            max_concurrency=8,
        ) as vs:
            fake.rate_limit(20)
            attempt = vs._requester._attempt

            async def counted(*args: Any) -> Any:
                nonlocal sent, cancelled
                sent += 1
                try:
                    return await attempt(*args)
                except asyncio.CancelledError:
                    cancelled += 1
                    raise

            vs._requester._attempt = counted  # type: ignore[method-assign]
            # Two bursts of 60 callers, the second after the first found the limit.
            results: list[object] = []
            for _ in range(2):
                results += await asyncio.gather(
                    *(vs.cdrs.get(1, deadline=2.0) for _ in range(60)), return_exceptions=True
                )
    served = [r for r in results if not isinstance(r, BaseException)]
    failed = [r for r in results if isinstance(r, BaseException)]
    assert served and all(isinstance(r, RateLimitWaitError) for r in failed), failed
    assert all(r.past_deadline for r in failed if isinstance(r, RateLimitWaitError))
    assert cancelled == 0
    # The server's quota went to answers the callers got: every 200 it sent was used.
    ok = [r for r in fake.requests if r.status == 200]
    assert len(ok) == len(served) and sent == len(fake.requests)


@pytest.mark.parametrize("cause", ["the limiter's pause", "a deadline in flight"])
async def test_the_web_app_answers_503_for_a_refusal_and_504_for_a_timeout(cause: str) -> None:
    fake = _fake()
    clients: list[VoipStudio] = []

    def make_client() -> VoipStudio:
        clients.append(_client(fake, max_retry_after=2, deadline=0.5))
        return clients[-1]

    app = load_example().create_app(make_client)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://app") as http,
    ):
        if cause == "the limiter's pause":
            fake.fail("/cdrs/*", 429, times=1, retry_after=30)
            first = await http.get("/calls/1")  # the server's own 429
            before = len(fake.requests)
            response = await http.get("/calls/2")  # refused by the limiter: nothing sent
            assert first.status_code == 503 and first.headers["retry-after"] == "30"
            assert len(fake.requests) == before
            assert response.status_code == 503
            assert 28 <= int(response.headers["retry-after"]) <= 30
        else:
            fake.add_latency("/cdrs/*", 2.0)
            response = await http.get("/calls/1")
            assert response.status_code == 504
            assert "retry-after" not in response.headers
    assert len(clients) == 1  # one client for the app's life, built by its lifespan
