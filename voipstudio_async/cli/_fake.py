"""``--fake``: a client wired to the embedded fake server, in process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._client import VoipStudio
from ._defaults import FAKE_CDRS, FAKE_MONITORS, FAKE_VOICEMESSAGES

if TYPE_CHECKING:
    from ..testing import FakeVoipStudio

__all__ = ["fake_account", "fake_client"]
"""A realistic account: six months (May to October 2026) of history."""


def fake_account() -> FakeVoipStudio:
    """A fresh ``FakeVoipStudio`` (seed 0) with the account ``--fake`` shows."""
    from ..testing import FakeVoipStudio  # only --fake pays for building the data

    return FakeVoipStudio(
        seed=0,
        cdrs=FAKE_CDRS,
        monitors=FAKE_MONITORS,
        voicemessages=FAKE_VOICEMESSAGES,
        msdrs=100,
        chats=10,
    )


def fake_client(**options: Any) -> VoipStudio:
    """A ``VoipStudio`` on a fresh ``fake_account()`` through an ASGI transport."""
    fake = fake_account()
    creds = fake.credentials
    return VoipStudio(
        user_id=creds.user_id,
        api_key=creds.api_key,
        base_url=fake.base_url,
        transport=fake.transport(),
        **options,
    )
