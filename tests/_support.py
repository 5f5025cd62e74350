"""Helpers shared by the engine and facade tests (imported as ``_support``, like cli_helpers)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx
from pytest_httpx import HTTPXMock

from voipstudio_async import VoipStudio
from voipstudio_async._options import ClientOptions
from voipstudio_async._request.requester import Requester
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
        ClientOptions(timeout=5.0, max_retries=2, max_retry_after=60.0, max_concurrency=16),
        base_url=BASE,
        auth=httpx.BasicAuth("1", "k"),
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


class LoopbackServer:
    """An asyncio TCP server on 127.0.0.1 (a free port) that a test starts and stops with
    ``async with``; a subclass answers each connection in ``handle``. A client going away
    mid-answer (some tests do that on purpose) ends its connection quietly."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1.1/voipstudio"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer one connection."""
        raise NotImplementedError

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()
            self._tasks.discard(task)
