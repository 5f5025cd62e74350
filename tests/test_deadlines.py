"""``deadline=``: one bound for a whole call, for each kind of operation, on the fake."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _support import files_in

from voipstudio_async import APITimeoutError, RateLimitWaitError, VoipStudio
from voipstudio_async.testing import FakeVoipStudio


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=4, cdrs=30, monitors=6, voicemessages=1, chats=1, msdrs=1)


@pytest.fixture
async def vs(fake: FakeVoipStudio, sleeps: list[float]) -> AsyncIterator[VoipStudio]:
    creds = fake.credentials
    async with VoipStudio(
        creds.user_id, creds.api_key, base_url=fake.base_url, transport=fake.transport()
    ) as client:

        async def recorded_sleep(delay: float) -> None:
            sleeps.append(delay)

        client._requester._sleep = recorded_sleep
        yield client
        assert client._requester._gate._value == client.max_concurrency  # no slot leaked


async def test_a_read_stops_at_its_deadline(fake: FakeVoipStudio, vs: VoipStudio) -> None:
    fake.add_latency("/cdrs/*", 5.0)
    started = time.monotonic()
    with pytest.raises(APITimeoutError, match="deadline"):
        await vs.cdrs.get(1, deadline=0.2)
    assert time.monotonic() - started < 2.0


async def test_the_client_default_applies_and_a_call_overrides_it(
    fake: FakeVoipStudio,
) -> None:
    creds = fake.credentials
    fake.add_latency("/cdrs/*", 0.5)
    async with VoipStudio(
        creds.user_id,
        creds.api_key,
        base_url=fake.base_url,
        transport=fake.transport(),
        deadline=0.1,
    ) as vs:
        with pytest.raises(APITimeoutError):
            await vs.cdrs.get(1)
        assert (await vs.cdrs.get(1, deadline=None)).id == 1


@pytest.mark.parametrize("status", [503, 429])  # 429: the shared limiter's pause
async def test_a_retry_after_beyond_the_time_left_raises_without_sleeping(
    fake: FakeVoipStudio, vs: VoipStudio, sleeps: list[float], status: int
) -> None:
    fake.fail("/cdrs/*", status, times=1, retry_after=5)
    # The limiter's refusal is a RateLimitError (its own class), not a timeout.
    with pytest.raises(APITimeoutError if status == 503 else RateLimitWaitError):
        await vs.cdrs.get(1, deadline=2.0)
    assert sleeps == []
    assert len(fake.requests) == 1


async def test_without_a_deadline_the_same_retry_after_is_waited_out(
    fake: FakeVoipStudio, vs: VoipStudio, sleeps: list[float]
) -> None:
    fake.fail("/cdrs/*", 503, times=1, retry_after=5)
    assert (await vs.cdrs.get(1)).id == 1
    assert sleeps == [5.0]


async def test_a_walk_applies_the_deadline_per_page(fake: FakeVoipStudio, vs: VoipStudio) -> None:
    fake.add_latency("/cdrs", 0.15)
    # Three pages of 0.15 s each: longer than the deadline in total, never per page.
    rows = [cdr async for cdr in vs.cdrs.iterate(page_size=10, deadline=0.6)]
    assert len(rows) == 30
    fake.add_latency("/cdrs", 1.0)
    with pytest.raises(APITimeoutError):
        async for _ in vs.cdrs.iterate(page_size=10, deadline=0.6):
            pass


async def test_a_bulk_call_applies_the_deadline_to_the_whole_call(
    fake: FakeVoipStudio, vs: VoipStudio
) -> None:
    ids = fake.ids("monitors")
    fake.add_latency("/monitors/*", 0.2)
    started = time.monotonic()
    result = await vs.monitors.delete(ids, chunk_size=1, concurrency=1, deadline=0.5)
    assert time.monotonic() - started < 1.5
    assert 1 <= len(result.succeeded) < len(ids)
    assert all(isinstance(o.error, APITimeoutError) for o in result.failed)


async def test_a_download_stops_at_its_deadline_and_leaves_no_file(
    fake: FakeVoipStudio, vs: VoipStudio, tmp_path: Path
) -> None:
    item = fake.add_monitor(size=200_000)
    fake.drip(f"/monitors/{item}.mp3", chunk_size=1000, interval=0.01)
    with pytest.raises(APITimeoutError):
        await vs.monitors.download(item, tmp_path, deadline=0.3)
    assert files_in(tmp_path) == []


async def test_download_many_applies_the_deadline_to_the_whole_call(
    fake: FakeVoipStudio, vs: VoipStudio, tmp_path: Path
) -> None:
    fake.add_latency("/monitors/*", 0.2)
    ids = fake.ids("monitors")
    result = await vs.monitors.download_many(ids, tmp_path, concurrency=1, deadline=0.5)
    assert 1 <= len(result.succeeded) < len(ids)
    assert all(isinstance(o.error, APITimeoutError) for o in result.failed)
    assert not [name for name in files_in(tmp_path) if name.endswith(".part")]


@pytest.mark.parametrize("bad", [0, -1.0, float("inf"), float("nan"), "5", True])
async def test_bad_deadlines_are_refused_before_sending(
    fake: FakeVoipStudio, vs: VoipStudio, bad: object
) -> None:
    with pytest.raises(ValueError, match="deadline"):
        await vs.cdrs.get(1, deadline=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="deadline"):
        VoipStudio(1, "k", deadline=bad)  # type: ignore[arg-type]
    assert fake.requests == []
