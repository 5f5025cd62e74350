"""``--fake``: a client wired to the embedded fake server, in process."""

from __future__ import annotations

from typing import Any

from .._client import VoipStudio

__all__ = ["FAKE_CDRS", "FAKE_MONITORS", "FAKE_VOICEMESSAGES", "fake_client"]

FAKE_CDRS = 20_000
FAKE_MONITORS = 500
FAKE_VOICEMESSAGES = 200
"""A realistic account: six months (May to October 2026) of history."""


def fake_client(**options: Any) -> VoipStudio:
    """A ``VoipStudio`` on a fresh ``FakeVoipStudio`` (seed 0) through an ASGI transport."""
    from ..testing import FakeVoipStudio  # only --fake pays for building the data

    fake = FakeVoipStudio(
        seed=0,
        cdrs=FAKE_CDRS,
        monitors=FAKE_MONITORS,
        voicemessages=FAKE_VOICEMESSAGES,
        msdrs=100,
        chats=10,
    )
    creds = fake.credentials
    return VoipStudio(
        user_id=creds.user_id,
        api_key=creds.api_key,
        base_url=fake.base_url,
        transport=fake.transport(),
        **options,
    )
