"""Serving the fake on loopback with uvicorn, in a thread or a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from ._fake import FakeVoipStudio

if TYPE_CHECKING:
    from ._accounts import FakeAccounts


class _TrackingProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol (httptools if installed, else h11) that lends the app
    each connection's transport, so faults can drop a connection without answering."""

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        connections = getattr(self.app, "connections", None)
        if connections is not None and self.client:
            connections[self.client] = transport

    def connection_lost(self, exc: Exception | None) -> None:
        connections = getattr(self.app, "connections", None)
        if connections is not None and self.client:
            connections.pop(self.client, None)
        super().connection_lost(exc)


class QuietExitServer(uvicorn.Server):
    """uvicorn's server, minus re-raising SIGINT/SIGTERM after a graceful shutdown.

    uvicorn re-raises the signal so the process ends "killed by signal"; a command
    whose normal way to stop is Ctrl-C should exit with status 0 instead.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def stop(signum: int, frame: object) -> None:
            if self.should_exit:
                self.force_exit = True
            self.should_exit = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket; port 0 picks a free port with no race."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()  # e.g. the port is busy: no socket left for the GC to warn about
        raise
    return sock


def uvicorn_config(app: Any, **overrides: Any) -> uvicorn.Config:
    """uvicorn settings tuned for throughput: no access log, no proxy or date headers."""
    options: dict[str, Any] = {
        "http": _TrackingProtocol,
        "loop": "auto",
        "ws": "none",
        "lifespan": "off",
        "access_log": False,
        "log_level": "warning",
        "proxy_headers": False,
        "server_header": False,
        "date_header": False,
        "backlog": 2048,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


def loopback_url(fake: FakeVoipStudio | FakeAccounts, sock: socket.socket) -> str:
    """The SDK base URL for a fake served on `sock`."""
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}{fake.prefix}"


class LoopbackServer:
    """The fake (one account, or many: ``FakeAccounts``) served by uvicorn in a background
    thread; shares state with the caller.

    The server's event loop runs in its own thread, so faults, live changes and
    the request log work as in process. Use `serve_in_subprocess` when the
    client's CPU use must not be shared with the server (benchmarks).

    Args:
        fake: What to serve.
        host: The address to listen on (loopback).
        port: The port (0: a free one).
    """

    def __init__(
        self, fake: FakeVoipStudio | FakeAccounts, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.fake = fake
        self._sock = bind(host, port)
        self.base_url = loopback_url(fake, self._sock)
        self._server = QuietExitServer(uvicorn_config(fake.app))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self) -> str:
        """Start serving; returns the base URL once the server accepts requests.

        Returns:
            The base URL (``http://127.0.0.1:<port>/v1.1/voipstudio``).

        Raises:
            RuntimeError: The server failed to start.
        """
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the fake VoIPstudio server failed to start")
            self._thread.join(0.005)
        return self.base_url

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(10)
        self._sock.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def serve_in_thread(fake: FakeVoipStudio, port: int = 0) -> Iterator[str]:
    """`with serve_in_thread(fake) as base_url:` serves `fake` on 127.0.0.1 until the block ends.

    Args:
        fake: What to serve.
        port: The port (0: a free one).

    Yields:
        The base URL to give `VoipStudio(base_url=...)`.
    """
    with LoopbackServer(fake, port=port) as base_url:
        yield base_url


_EXPORT = re.compile(r"^export (\w+)=(.*)$")
BIG_IDS = "# big monitor ids: "  # printed by __main__ for --big-monitor


@contextlib.contextmanager
def serve_in_subprocess(
    args: Sequence[str] = (), timeout: float = 60.0, *, cpu: int | None = None
) -> Iterator[dict[str, str]]:
    """Run `python -m voipstudio_async.testing --port 0 *args` until the block ends.

    Yields the exported variables (`VOIPSTUDIO_BASE_URL`, `VOIPSTUDIO_USER_ID`,
    `VOIPSTUDIO_API_KEY`) and, with `--big-monitor`, `BIG_MONITOR_IDS` (comma-separated,
    in the order given). `cpu` pins the server to that CPU (where the OS allows), so a
    benchmark's client and server do not share a core. The process is terminated on exit.

    Args:
        args: Arguments of `python -m voipstudio_async.testing`, e.g. `["--cdrs", "1000"]`.
        timeout: Seconds to wait for the server to start.
        cpu: The CPU to pin the server to, if any.

    Yields:
        The variables the server exported, for a client's environment.

    Raises:
        RuntimeError: The server did not start within `timeout`.
    """
    command = [sys.executable, "-m", "voipstudio_async.testing", "--port", "0", *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=pin if cpu is not None and hasattr(os, "sched_setaffinity") else None,
    )
    try:
        exported: dict[str, str] = {}
        assert proc.stdout is not None
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            for line in proc.stdout:
                match = _EXPORT.match(line.strip())
                if match:
                    exported[match[1]] = match[2].strip("'\"")
                if line.startswith(BIG_IDS):
                    exported["BIG_MONITOR_IDS"] = line[len(BIG_IDS) :].strip()
                if line.startswith("# ready"):
                    break
        finally:
            timer.cancel()
        if "VOIPSTUDIO_BASE_URL" not in exported:
            raise RuntimeError("the fake VoIPstudio server did not start")
        yield exported
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
