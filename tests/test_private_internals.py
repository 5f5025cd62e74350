"""Private names of other libraries are checked once, at start, and never hide an error.

The default backend's pool guard (``_transports.httpx_pool``) reads httpcore's and httpx's private
names; ``_tracing`` reads OpenTelemetry's suppress keys. A future release that moves one
must switch that feature off with one WARNING, and a failing request must still raise
its own error.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from httpcore._async.connection_pool import AsyncPoolRequest, PoolByteStream
from httpx._transports.default import AsyncResponseStream

from voipstudio_async._transports import httpx_pool as _httpx_pool
from voipstudio_async._transports.httpx_pool import GuardedHTTPTransport

OWNERS: dict[str, type[Any]] = {
    "httpcore.AsyncConnectionPool": httpcore.AsyncConnectionPool,
    "httpcore's pool request": AsyncPoolRequest,
    "httpcore's pool stream": PoolByteStream,
    "httpx's response stream": AsyncResponseStream,
    "httpx.AsyncHTTPTransport": httpx.AsyncHTTPTransport,
}
PRIVATE = [(owner, name) for owner, names in _httpx_pool._INTERNALS.items() for name in names]
GUARD_OFF = "connection-pool guard"


def test_every_checked_name_is_one_the_guard_uses() -> None:
    # The check and the code must not drift apart: every name of _INTERNALS is read by
    # the module, and every owner above is what the check builds.
    source = Path(_httpx_pool.__file__).read_text(encoding="utf-8")
    assert set(OWNERS) == set(_httpx_pool._INTERNALS)
    for _owner, name in PRIVATE:
        assert source.count(name) >= 2, name  # in _INTERNALS and where it is used


def hide(monkeypatch: pytest.MonkeyPatch, owner: str, name: str) -> None:
    """Make ``owner`` lack ``name``: a class attribute is deleted, an instance one is
    deleted right after ``__init__`` sets it."""
    cls = OWNERS[owner]
    if name in vars(cls):
        monkeypatch.delattr(cls, name)
        return
    init = cls.__init__

    def init_without(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        delattr(self, name)

    monkeypatch.setattr(cls, "__init__", init_without)


@pytest.fixture
def fresh_check() -> Iterator[None]:
    _httpx_pool._guard_available.cache_clear()
    yield
    _httpx_pool._guard_available.cache_clear()


def guard_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if GUARD_OFF in r.getMessage()]


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on: connecting fails with the request's own error."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def sweeps(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records each sweep the transport starts (and still runs it)."""
    calls: list[object] = []
    take = _httpx_pool._take_stranded

    def spy(pool: Any, pool_request: Any) -> list[Any]:
        calls.append(pool)
        return take(pool, pool_request)

    monkeypatch.setattr(_httpx_pool, "_take_stranded", spy)
    return calls


async def fails_to_connect(transport: httpx.AsyncBaseTransport, url: str) -> None:
    """The request raises its own error, httpx's ConnectError, and nothing else."""
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(url)


def test_this_httpcore_has_every_name(fresh_check: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="voipstudio_async"):
        assert _httpx_pool._guard_available() is True
    assert guard_warnings(caplog) == []


@pytest.mark.parametrize(("owner", "name"), PRIVATE)
async def test_a_missing_private_name_turns_the_guard_off_once(
    owner: str,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fresh_check: None,
    closed_port: int,
    sweeps: list[object],
) -> None:
    with monkeypatch.context() as patched, caplog.at_level(logging.WARNING, "voipstudio_async"):
        hide(patched, owner, name)
        first = GuardedHTTPTransport()
        GuardedHTTPTransport()
    # httpcore whole again: transports made later keep the verdict, with no new WARNING.
    with caplog.at_level(logging.WARNING, logger="voipstudio_async"):
        later = GuardedHTTPTransport()
    (warning,) = guard_warnings(caplog)
    assert f"{owner}.{name}" in warning
    assert httpcore.__version__ in warning
    assert not first._guarded and not later._guarded

    await fails_to_connect(later, f"http://127.0.0.1:{closed_port}/")
    assert sweeps == []  # the guard touched nothing


async def test_a_missing_private_module_turns_the_guard_off_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fresh_check: None
) -> None:
    monkeypatch.setitem(sys.modules, "httpcore._async.connection_pool", None)
    with caplog.at_level(logging.WARNING, logger="voipstudio_async"):
        assert not GuardedHTTPTransport()._guarded
        assert not GuardedHTTPTransport()._guarded
    (warning,) = guard_warnings(caplog)
    assert "module httpcore._async.connection_pool" in warning


async def test_with_the_guard_on_a_failed_request_is_swept(
    fresh_check: None, closed_port: int, sweeps: list[object]
) -> None:
    transport = GuardedHTTPTransport()
    assert transport._guarded
    await fails_to_connect(transport, f"http://127.0.0.1:{closed_port}/")
    assert sweeps == [transport._pool]


@pytest.mark.parametrize(
    "failure",
    [
        AttributeError("'AsyncConnectionPool' object has no attribute '_requests'"),
        RuntimeError("sweep bug"),
    ],
)
async def test_a_failing_sweep_never_replaces_the_requests_error(
    failure: Exception,
    monkeypatch: pytest.MonkeyPatch,
    fresh_check: None,
    closed_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(pool: Any, pool_request: Any) -> list[Any]:
        raise failure

    monkeypatch.setattr(_httpx_pool, "_take_stranded", broken)
    with caplog.at_level(logging.DEBUG, logger="voipstudio_async"):
        await fails_to_connect(GuardedHTTPTransport(), f"http://127.0.0.1:{closed_port}/")
    assert any(r.exc_info and r.exc_info[1] is failure for r in caplog.records)


async def test_a_failing_close_of_swept_connections_never_replaces_the_requests_error(
    monkeypatch: pytest.MonkeyPatch, fresh_check: None, closed_port: int
) -> None:
    class Stranded:
        closed = False

        async def aclose(self) -> None:
            raise OSError("close failed")

    transport = GuardedHTTPTransport()
    monkeypatch.setattr(_httpx_pool, "_take_stranded", lambda pool, request: [Stranded()])
    await fails_to_connect(transport, f"http://127.0.0.1:{closed_port}/")


async def test_a_cancelled_request_stays_cancelled_when_the_sweep_fails(
    monkeypatch: pytest.MonkeyPatch, fresh_check: None
) -> None:
    def broken(pool: Any, pool_request: Any) -> list[Any]:
        raise AttributeError("_optional_thread_lock")

    monkeypatch.setattr(_httpx_pool, "_take_stranded", broken)
    arrived, release = asyncio.Event(), asyncio.Event()
    handlers: list[asyncio.Task[Any]] = []

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        handlers.append(handler)
        arrived.set()
        await release.wait()  # never answers while the request waits
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, httpx.AsyncClient(transport=GuardedHTTPTransport()) as client:
        task = asyncio.create_task(client.get(f"http://127.0.0.1:{port}/"))
        await arrived.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        await asyncio.gather(*handlers)


# OpenTelemetry: module-level state, so each case runs in its own interpreter.

_OTEL_SCRIPT = """
import asyncio, sys
{prelude}
import httpx
from voipstudio_async import NotFoundError, VoipStudio
from voipstudio_async.resources import Cdrs

def answer(request):
    return httpx.Response(404, json={{"message": "not found"}})

async def main():
    for _ in range(2):
        async with VoipStudio(1, "k", base_url="https://x.test/v1.2",
                              transport=httpx.MockTransport(answer), max_retries=0) as vs:
            try:
                await vs.cdrs.get(1)
            except NotFoundError:
                print("NotFoundError")

import voipstudio_async._tracing as otel
print("traced" if otel._trace is not None else "untraced",
      "wrapped" if hasattr(Cdrs.get, "__wrapped__") else "plain")
asyncio.run(main())
"""

_HIDE_KEY = """
import opentelemetry.context
delattr(opentelemetry.context, {name!r})
"""

_BLOCK = """
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            raise {error}

sys.meta_path.insert(0, Block())
"""


def run_otel_script(prelude: str) -> subprocess.CompletedProcess[str]:
    script = _OTEL_SCRIPT.format(prelude=textwrap.dedent(prelude))
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    "name", ["_SUPPRESS_HTTP_INSTRUMENTATION_KEY", "_SUPPRESS_INSTRUMENTATION_KEY"]
)
def test_otel_without_a_private_key_says_once_that_tracing_is_off(name: str) -> None:
    result = run_otel_script(_HIDE_KEY.format(name=name))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["untraced plain", "NotFoundError", "NotFoundError"]
    warnings = [line for line in result.stderr.splitlines() if "tracing is off" in line]
    assert len(warnings) == 1, result.stderr
    assert f"lacks opentelemetry.context.{name}" in warnings[0]


def test_otel_that_fails_to_import_says_once_that_tracing_is_off() -> None:
    prelude = _BLOCK.format(module="opentelemetry.trace", error='ImportError("broken build")')
    result = run_otel_script(prelude)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["untraced plain", "NotFoundError", "NotFoundError"]
    warnings = [line for line in result.stderr.splitlines() if "tracing is off" in line]
    assert warnings == ["OpenTelemetry cannot be imported (broken build): tracing is off"]


@pytest.mark.parametrize("module", ["opentelemetry", "opentelemetry.trace"])
def test_otel_not_installed_is_silent(module: str) -> None:
    error = f"ModuleNotFoundError({module!r}, name={module!r})"
    result = run_otel_script(_BLOCK.format(module=module, error=error))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["untraced plain", "NotFoundError", "NotFoundError"]
    assert result.stderr == ""


def test_otel_with_every_name_traces_silently() -> None:
    result = run_otel_script("")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["traced wrapped", "NotFoundError", "NotFoundError"]
    assert result.stderr == ""
