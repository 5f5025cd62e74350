"""Fixtures for the warehouse tests: a small fake account and a client factory on it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio

# dlt reports anonymous usage over the internet unless told not to; tests stay on loopback.
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=3, cdrs=2500, monitors=40, voicemessages=30, chats=12, msdrs=25)


@pytest.fixture
def factory(fake: FakeVoipStudio) -> Callable[[], VoipStudio]:
    """Builds a client on the fake in process (in whichever loop dlt runs it)."""
    creds = fake.credentials

    def build() -> VoipStudio:
        return VoipStudio(
            creds.user_id, creds.api_key, base_url=fake.base_url, transport=fake.transport()
        )

    return build


@pytest.fixture
def pipelines_dir(tmp_path: Path) -> str:
    return str(tmp_path / "pipelines")
