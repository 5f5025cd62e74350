"""Fixtures for the CLI tests: a small fake account in process and a way to run the command."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from cli_helpers import Cli

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio


@pytest.fixture
def fake() -> FakeVoipStudio:
    # About a third of each collection falls in the period: 2+ pages of CDRs at 1000/page.
    return FakeVoipStudio(seed=0, cdrs=6000, monitors=30, voicemessages=15, msdrs=5, chats=2)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def client(fake: FakeVoipStudio, sleeps: list[float]) -> AsyncIterator[VoipStudio]:
    """A client on the fake whose retry waits are recorded, never slept."""
    creds = fake.credentials

    async def no_sleep(delay: float) -> None:
        sleeps.append(delay)

    async with VoipStudio(
        user_id=creds.user_id,
        api_key=creds.api_key,
        base_url=fake.base_url,
        transport=fake.transport(),
        max_retries=5,
    ) as vs:
        vs._requester._sleep = no_sleep
        yield vs


@pytest.fixture
def cli(client: VoipStudio) -> Cli:
    return Cli(client)
