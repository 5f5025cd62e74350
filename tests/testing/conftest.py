"""Fixtures for the fake server's own tests: the plugin's, as a user would enable them."""

from __future__ import annotations

from voipstudio_async.testing.pytest_plugin import (  # noqa: F401
    fake_voipstudio,
    fake_voipstudio_url,
)
