"""Fixtures shared by the facade tests (tests/test_facade_*.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from voipstudio_async import VoipStudio

Sleep = Callable[[float], Awaitable[None]]


@pytest.fixture
def sleeps() -> list[float]:
    """The delays the Requester asked to sleep, in order."""
    return []


@pytest.fixture
def fake_sleep(sleeps: list[float]) -> Sleep:
    """Stands in for asyncio.sleep in the Requester: records the delay, never waits."""

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    return sleep


@pytest.fixture
async def vs(fake_sleep: Sleep) -> AsyncIterator[VoipStudio]:
    """A Basic-auth client (user 123456, key "k3y") whose retries never sleep."""
    async with VoipStudio(user_id=123456, api_key="k3y") as client:
        client._requester._sleep = fake_sleep
        yield client
