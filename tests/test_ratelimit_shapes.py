"""The limiter in the shapes users call it: gathered tasks and worker loops on both
backends, several clients of one account, no-replay requests, deadlines and long pauses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from voipstudio_async import RateLimit, RateLimitError, RateLimitWaitError, VoipStudio
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

Sleep = Callable[[float], Awaitable[None]]
CALLS = 160
CONCURRENCY = 16


def _fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=5, cdrs=20, monitors=1, voicemessages=1, chats=1, msdrs=1)


@pytest.mark.parametrize("http_backend", ["httpx", "aiohttp"])
@pytest.mark.parametrize("shape", ["gathered", "worker loops"])
async def test_every_call_shape_paces_below_the_server_limit(http_backend: str, shape: str) -> None:
    fake = _fake()
    statuses: list[int] = []

    async def on_response(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    creds = fake.credentials
    with serve_in_thread(fake) as base_url:
        async with VoipStudio(
            creds.user_id,
            creds.api_key,
            base_url=base_url,
            max_concurrency=CONCURRENCY,
            http_backend=http_backend,  # type: ignore[arg-type]
        ) as vs:
            fake.rate_limit(20)
            vs._requester._http.event_hooks = {"request": [], "response": [on_response]}
            if shape == "gathered":  # 10x max_concurrency tasks at once
                results = await asyncio.gather(
                    *(vs.cdrs.get(1) for _ in range(CALLS)), return_exceptions=True
                )
                failed = [r for r in results if isinstance(r, BaseException)]
            else:
                pending, failed = iter(range(CALLS)), []

                async def worker() -> None:
                    for _ in pending:
                        try:
                            await vs.cdrs.get(1)
                        except Exception as exc:
                            failed.append(exc)

                await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    assert failed == []
    assert statuses.count(200) == CALLS
    # Before the limiter moved inside the gate, gathered tasks had 49-62% answered 429
    # (they booked their turns before the first throttle and sent after it).
    assert statuses.count(429) <= 0.15 * len(statuses), statuses.count(429)


async def test_clients_of_one_account_share_one_limiter(fake_sleep: Sleep) -> None:
    fake = _fake()
    creds = fake.credentials
    options: dict[str, Any] = {"base_url": fake.base_url}
    first = VoipStudio(creds.user_id, creds.api_key, transport=fake.transport(), **options)
    second = VoipStudio(creds.user_id, creds.api_key, transport=fake.transport(), **options)
    other = VoipStudio(creds.user_id + 1, "other", transport=fake.transport(), **options)
    capped = VoipStudio(
        creds.user_id, creds.api_key, rate_limit=RateLimit(requests_per_second=5), **options
    )
    try:
        shared = first._requester.limiter
        assert shared is not None and second._requester.limiter is shared
        assert other._requester.limiter is not shared  # another account
        assert capped._requester.limiter is not shared  # another RateLimit
        for client in (first, second):
            client._requester._sleep = fake_sleep
        fake.fail("/cdrs/1", 429, times=1, retry_after=3)
        await first.cdrs.get(1)  # waited out, and the whole account paused
        slept: list[float] = []

        async def record(delay: float) -> None:
            slept.append(delay)

        second._requester._sleep = record
        await second.cdrs.get(1)
        # Its own limiter would not wait; the shared one waits out the pause (3 s) and,
        # with no success measured yet, the slow-start rate's first interval.
        assert len(slept) == 1 and slept[0] >= 2.9
    finally:
        for client in (first, second, other, capped):
            await client.aclose()
    fresh = VoipStudio(creds.user_id, creds.api_key, **options)
    try:
        assert fresh._requester.limiter is not shared  # the last close dropped it
    finally:
        await fresh.aclose()


@pytest.mark.parametrize("operation", ["bulk PATCH", "collection DELETE"])
async def test_a_429_on_a_no_replay_request_is_waited_out_and_sent_again(
    operation: str, fake_sleep: Sleep
) -> None:
    fake = _fake()
    creds = fake.credentials
    method = "PATCH" if operation == "bulk PATCH" else "DELETE"
    async with VoipStudio(
        creds.user_id, creds.api_key, base_url=fake.base_url, transport=fake.transport()
    ) as vs:
        vs._requester._sleep = fake_sleep
        fake.fail("/cdrs", 429, method=method, times=1, retry_after=1)
        if operation == "bulk PATCH":
            result = await vs.cdrs.update([{"id": 1, "labels": ["x"]}])
            assert result.failed == []
        else:
            await vs.cdrs.delete_all(confirm=True)
    sent = [r for r in fake.requests if r.method == method and r.path == "/cdrs"]
    assert [r.status < 300 for r in sent] == [False, True] and sent[0].status == 429


async def test_a_pause_longer_than_max_retry_after_fails_calls_at_once() -> None:
    fake = _fake()
    creds = fake.credentials
    async with VoipStudio(
        creds.user_id,
        creds.api_key,
        base_url=fake.base_url,
        transport=fake.transport(),
        max_retry_after=1,
    ) as vs:
        fake.fail("/cdrs/1", 429, times=1, retry_after=20)
        with pytest.raises(RateLimitError) as first:
            await vs.cdrs.get(1)
        assert not isinstance(first.value, RateLimitWaitError)  # the server's own 429
        before = len(fake.requests)
        with pytest.raises(RateLimitWaitError) as info:
            await vs.cdrs.get(2)  # the account is paused for 20 s: not slept on
        assert len(fake.requests) == before  # nothing sent
    assert info.value.retry_after == pytest.approx(20, abs=0.5)
    assert info.value.past_deadline is False and info.value.status_code == 429
    assert "max_retry_after" in str(info.value)


@pytest.mark.parametrize(("deadline", "refused"), [(1.5, True), (3.0, True), (5.0, False)])
async def test_a_turn_that_leaves_too_little_of_the_deadline_is_refused(
    deadline: float, refused: bool, fake_sleep: Sleep
) -> None:
    fake = _fake()
    creds = fake.credentials
    async with VoipStudio(
        creds.user_id, creds.api_key, base_url=fake.base_url, transport=fake.transport()
    ) as vs:
        vs._requester._sleep = fake_sleep  # waits return at once: the pause stays ahead
        await asyncio.gather(*(vs.cdrs.get(1) for _ in range(40)))  # a rate to start from
        fake.fail("/cdrs/1", 429, times=1, retry_after=2)
        await vs.cdrs.get(1)  # waited out: the account is paused for 2 s
        before = len(fake.requests)
        if refused:  # the turn (2 s away) must leave half the deadline for the request
            with pytest.raises(RateLimitWaitError) as info:
                await vs.cdrs.get(1, deadline=deadline)
            assert info.value.past_deadline is True
            assert 1.5 < (info.value.retry_after or 0) <= 2.1
            assert "deadline" in str(info.value)
            assert len(fake.requests) == before
        else:
            await vs.cdrs.get(1, deadline=deadline)
            assert len(fake.requests) == before + 1
