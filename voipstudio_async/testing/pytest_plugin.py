"""pytest fixtures for the fake VoIPstudio server.

Enable with `pytest_plugins = ["voipstudio_async.testing.pytest_plugin"]` in a
`conftest.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ._fake import FakeVoipStudio

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
    """A fresh fake with a small data set; use `fake_voipstudio.transport()` in process."""
    return FakeVoipStudio(seed=0, **SMALL)


@pytest.fixture
def fake_voipstudio_url(fake_voipstudio: FakeVoipStudio) -> Iterator[str]:
    """The base URL of `fake_voipstudio` served on 127.0.0.1 for the test's duration."""
    from ._server import serve_in_thread  # needs uvicorn, which in-process tests do not

    with serve_in_thread(fake_voipstudio) as base_url:
        yield base_url
