"""Failures never leave a connection checked out of the pool (real sockets, loopback)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpcore
import pytest

from voipstudio_async import (
    APIConnectionError,
    IncompleteDownloadError,
    InternalServerError,
    NotFoundError,
    VoipStudio,
)
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=3, cdrs=50, monitors=4, voicemessages=2, chats=2, msdrs=2)


@pytest.fixture
async def vs(fake: FakeVoipStudio) -> AsyncIterator[VoipStudio]:
    creds = fake.credentials
    with serve_in_thread(fake) as base_url:
        client = VoipStudio(
            user_id=creds.user_id, api_key=creds.api_key, base_url=base_url, max_retries=1
        )
        client._requester._sleep = lambda _delay: asyncio.sleep(0)
        async with client:
            yield client
        assert pool(client).connections == []


def pool(client: VoipStudio) -> httpcore.AsyncConnectionPool:
    transport = client._requester._http._transport
    transport = getattr(transport, "wrapped", transport)  # the span wrapper (_tracing)
    connection_pool = transport._pool  # type: ignore[attr-defined]
    assert isinstance(connection_pool, httpcore.AsyncConnectionPool)
    return connection_pool


def assert_nothing_checked_out(client: VoipStudio) -> None:
    connections = pool(client).connections
    assert all(c.is_idle() or c.is_closed() for c in connections), connections
    assert client._requester._gate._value == client.max_concurrency  # every slot returned


async def give_up_mid_body(client: VoipStudio) -> None:
    async with client.monitors.stream(1) as body:
        async for _chunk in body:
            raise RuntimeError("caller gave up")


def files_in(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


async def test_failures_return_every_connection(
    vs: VoipStudio, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    fake.fail("/cdrs/1", 500, times=2)
    with pytest.raises(InternalServerError):
        await vs.cdrs.get(1)

    with pytest.raises(NotFoundError):
        async with vs.monitors.stream(999_999):
            pass

    with pytest.raises(RuntimeError, match="caller gave up"):
        await give_up_mid_body(vs)

    fake.cut_body("/monitors/2.mp3", after_bytes=100, times=1)
    with pytest.raises((IncompleteDownloadError, APIConnectionError)):
        await vs.monitors.download(2, tmp_path)

    fake.add_latency("/monitors/3.mp3", 1.0)
    task = asyncio.create_task(vs.monitors.download(3, tmp_path))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert_nothing_checked_out(vs)
    assert files_in(tmp_path) == []
    assert (await vs.cdrs.get(1)).id == 1  # the pool still serves
