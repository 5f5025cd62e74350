"""The SDK names itself: ``User-Agent`` on both backends, ``user_agent=``, ``--version``."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import httpx
import pytest

import voipstudio_async
from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
VERSION = importlib.metadata.version("voipstudio-async")


def _expected(backend: str, application: str | None = None) -> str:
    own = (
        f"voipstudio-async/{VERSION} (python {PYTHON}; "
        f"{backend} {importlib.metadata.version(backend)})"
    )
    return own if application is None else f"{own} {application}"


@pytest.mark.parametrize("application", [None, "myapp/1.2"])
async def test_httpx_backend_sends_the_sdk_user_agent(application: str | None) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["user-agent"])
        return httpx.Response(200, json={"data": [], "total": 0})

    async with VoipStudio(
        1, "k", transport=httpx.MockTransport(handler), user_agent=application
    ) as vs:
        await vs.cdrs.list()
    assert seen == [_expected("httpx", application)]


@pytest.mark.parametrize("application", [None, "myapp/1.2"])
async def test_aiohttp_backend_names_aiohttp(application: str | None) -> None:
    fake = FakeVoipStudio(seed=1, cdrs=3)
    creds = fake.credentials
    with serve_in_thread(fake) as url:
        async with VoipStudio(
            creds.user_id,
            creds.api_key,
            base_url=url,
            http_backend="aiohttp",
            user_agent=application,
        ) as vs:
            await vs.cdrs.list()
    [request] = [r for r in fake.requests if r.path == "/cdrs"]
    assert request.headers["user-agent"] == _expected("aiohttp", application)


@pytest.mark.parametrize("bad", ["", "  ", "my\r\napp", "caf\u00e9/1", 12])
def test_bad_user_agent_is_refused_before_anything_is_sent(bad: object) -> None:
    with pytest.raises(ValueError, match="user_agent must be"):
        VoipStudio(1, "k", user_agent=bad)  # type: ignore[arg-type]


async def test_user_agent_with_own_http_client_is_refused() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(ValueError, match="set it on your http_client"):
            VoipStudio(1, "k", http_client=http, user_agent="myapp/1.2")


def test_version_option_prints_the_package_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "voipstudio_async.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"voipstudio {voipstudio_async.__version__}\n"
    assert voipstudio_async.__version__ == VERSION
