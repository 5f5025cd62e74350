"""Fixtures shared by the facade and engine tests (tests/test_*.py), and the hermetic guard."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from _support import mocked_requester

from voipstudio_async import VoipStudio
from voipstudio_async._request.requester import Requester

Sleep = Callable[[float], Awaitable[None]]


def _is_loopback(host: object) -> bool:
    if host in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse to resolve anything but loopback, so no test can reach the internet."""
    resolve = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            raise OSError(f"tests are hermetic: refusing to resolve {host!r}")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)


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


@pytest.fixture
async def requester() -> AsyncIterator[Requester]:
    """An engine-level Requester for pytest-httpx that never sleeps between retries."""
    req = mocked_requester()
    yield req
    await req.aclose()
