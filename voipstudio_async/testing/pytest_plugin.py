"""pytest fixtures for the fake VoIPstudio server.

Enable with `pytest_plugins = ["voipstudio_async.testing.pytest_plugin"]` in the
`conftest.py` at the root of your tests; the `testing` extra
(`pip install 'voipstudio-async[testing]'`) brings what it needs: pytest-asyncio, and
uvicorn for `fake_voipstudio_url`.

The fixtures work whether or not your project sets `asyncio_mode = "auto"`: the async
one is declared with `pytest_asyncio.fixture`, which both modes honour. In the default
(strict) mode, mark your async tests `@pytest.mark.asyncio`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from .. import VoipStudio
from ._fake import FakeVoipStudio

try:
    import pytest_asyncio
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "voipstudio_async.testing.pytest_plugin needs pytest-asyncio:"
        " pip install 'voipstudio-async[testing]'"
    ) from exc

__all__ = ["SMALL", "fake_voipstudio", "fake_voipstudio_client", "fake_voipstudio_url"]

#: Small enough to build in milliseconds, big enough to page through.
SMALL: dict[str, Any] = {
    "cdrs": 250,
    "monitors": 20,
    "msdrs": 30,
    "chats": 10,
    "voicemessages": 20,
    "statements": 3,
}


@pytest.fixture
def fake_voipstudio() -> FakeVoipStudio:
    """A fresh fake with a small data set (`SMALL`), seed 0, for one test.

    Returns:
        The fake, not served: use `fake_voipstudio_client` or `fake_voipstudio_url`,
        or its `transport()`.
    """
    return FakeVoipStudio(seed=0, **SMALL)


@pytest_asyncio.fixture
async def fake_voipstudio_client(fake_voipstudio: FakeVoipStudio) -> AsyncIterator[VoipStudio]:
    """An open `VoipStudio` talking to `fake_voipstudio` in process (no sockets).

    It uses the SDK's defaults, retries included; it is closed after the test.

    Args:
        fake_voipstudio: The fake it talks to (the fixture: faults added to it apply).

    Yields:
        The open client.
    """
    creds = fake_voipstudio.credentials
    async with VoipStudio(
        user_id=creds.user_id,
        api_key=creds.api_key,
        base_url=fake_voipstudio.base_url,
        transport=fake_voipstudio.transport(),
    ) as client:
        yield client


@pytest.fixture
def fake_voipstudio_url(fake_voipstudio: FakeVoipStudio) -> Iterator[str]:
    """The base URL of `fake_voipstudio` served on 127.0.0.1 for the test's duration.

    Args:
        fake_voipstudio: The fake to serve (the fixture: faults added to it apply).

    Yields:
        The base URL (``http://127.0.0.1:<port>/v1.1/voipstudio``).
    """
    from ._server import serve_in_thread  # needs uvicorn, which in-process tests do not

    with serve_in_thread(fake_voipstudio) as base_url:
        yield base_url
