"""Helpers shared by the engine and facade tests (imported as ``_support``, like cli_helpers)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import httpx
from pytest_httpx import HTTPXMock

from voipstudio_async import VoipStudio
from voipstudio_async._transport import Requester
from voipstudio_async.testing import FakeVoipStudio

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://l7api.com/v1.1/voipstudio"
PREFIX = b"/v1.1/voipstudio"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def only_request(httpx_mock: HTTPXMock) -> httpx.Request:
    """The one request pytest-httpx saw (fails if there was none or more than one)."""
    request = httpx_mock.get_request()
    assert request is not None
    return request


async def _no_sleep(_: float) -> None:
    return None


def mocked_requester() -> Requester:
    """A Requester on a plain httpx client (for pytest-httpx) that never sleeps between retries."""
    req = Requester(
        httpx.AsyncClient(),
        base_url=BASE,
        auth=httpx.BasicAuth("1", "k"),
        timeout=httpx.Timeout(5.0),
        max_retries=2,
        max_retry_after=60.0,
        max_concurrency=16,
        owns_http=True,
    )
    req._sleep = _no_sleep
    return req


def client_of(fake: FakeVoipStudio) -> VoipStudio:
    """A facade on the in-process fake, with its credentials (use with ``async with``)."""
    creds = fake.credentials
    return VoipStudio(
        user_id=creds.user_id,
        api_key=creds.api_key,
        base_url=fake.base_url,
        transport=fake.transport(),
    )


def mypy_strict(source: str, tmp_path: Path) -> None:
    """Type-check ``source`` with ``mypy --strict`` from the repo root; fail with its output."""
    path = tmp_path / "check_types.py"
    path.write_text(source)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
