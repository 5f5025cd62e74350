"""Fixtures for the fake server's own tests: the plugin's, as a user would enable them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from voipstudio_async.testing import FakeVoipStudio, pytest_plugin

# What `pytest_plugins = ["voipstudio_async.testing.pytest_plugin"]` gives users
# (that line is only allowed in a root conftest).
fake_voipstudio = pytest_plugin.fake_voipstudio
fake_voipstudio_url = pytest_plugin.fake_voipstudio_url


def basic_client(fake: FakeVoipStudio, base_url: str | None = None) -> httpx.AsyncClient:
    """A raw httpx client signed in with Basic `user_id:api_key`; in process unless `base_url`."""
    creds = fake.credentials
    return httpx.AsyncClient(
        transport=None if base_url else fake.transport(),
        base_url=base_url or fake.base_url,
        auth=(str(creds.user_id), creds.api_key),
    )


@pytest.fixture
def client_for() -> Callable[..., httpx.AsyncClient]:
    """`basic_client`, for tests that build their own fakes."""
    return basic_client


@pytest.fixture
async def client(fake_voipstudio: FakeVoipStudio) -> AsyncIterator[httpx.AsyncClient]:
    async with basic_client(fake_voipstudio) as http:
        yield http
