"""Serving on loopback: the thread helper, the CLI (clean stop on signals), the plugin's
URL fixture, and a throughput measurement (printed, not asserted)."""

from __future__ import annotations

import asyncio
import base64
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from voipstudio_async.testing import (
    FakeVoipStudio,
    LoopbackServer,
    serve_in_subprocess,
    serve_in_thread,
)

ClientFor = Callable[..., httpx.AsyncClient]


async def test_thread_server_shares_state_and_stops(client_for: ClientFor) -> None:
    threads = threading.active_count()
    fake = FakeVoipStudio(cdrs=30, monitors=2, msdrs=2, chats=1, voicemessages=2)
    with serve_in_thread(fake) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/v1.1/voipstudio")
        async with client_for(fake, base_url) as client:
            assert (await client.get("/cdrs")).json()["total"] == 30
            fake.insert_cdrs(5)
            assert (await client.get("/cdrs")).json()["total"] == 35
            assert (await client.delete("/cdrs")).status_code == 204
        assert fake.count("cdrs") == 0
    assert threading.active_count() == threads
    server = LoopbackServer(FakeVoipStudio(cdrs=1, prefix="/v1.2/voipstudio/"))
    assert server.start().endswith("/v1.2/voipstudio")
    server.stop()
    assert threading.active_count() == threads


async def test_plugin_url_fixture(
    fake_voipstudio: FakeVoipStudio, fake_voipstudio_url: str
) -> None:
    creds = fake_voipstudio.credentials
    async with httpx.AsyncClient(
        base_url=fake_voipstudio_url, auth=(str(creds.user_id), creds.api_key)
    ) as http:
        assert (await http.get("/monitors")).json()["total"] == 20


def _exports(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"^export (\w+)=(\S+)$", stdout, re.MULTILINE))


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_cli_prints_credentials_and_stops_cleanly(stop: signal.Signals) -> None:
    command = [sys.executable, "-m", "voipstudio_async.testing", "--port", "0", "--cdrs", "40"]
    command += ["--monitors", "3", "--big-monitor", "1000000"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("# ready"):
                break
        env = _exports("".join(lines))
        assert "# big monitor ids: 4\n" in lines
        assert urlsplit(env["VOIPSTUDIO_BASE_URL"]).hostname == "127.0.0.1"
        token = base64.b64encode(
            f"{env['VOIPSTUDIO_USER_ID']}:{env['VOIPSTUDIO_API_KEY']}".encode()
        )
        response = httpx.get(
            env["VOIPSTUDIO_BASE_URL"] + "/monitors/4", headers={"Authorization": b"Basic " + token}
        )
        assert response.json()["data"]["size"] == 1_000_000
        proc.send_signal(stop)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


async def _hammer(base_url: str, path: str, auth: str, concurrency: int, seconds: float) -> float:
    """Requests/s from a minimal keep-alive HTTP/1.1 client, so the client is not the limit."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    request = (
        f"GET {url.path}{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n\r\n".encode()
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    done = 0

    async def worker() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while loop.time() < deadline:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                match = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
                assert match is not None and head.startswith(b"HTTP/1.1 200")
                await reader.readexactly(int(match[1]))
                done += 1
        finally:
            writer.close()
            await writer.wait_closed()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


async def test_throughput_on_loopback() -> None:
    args = ["--cdrs", "5000", "--monitors", "1", "--big-monitor", "10", "--big-monitor", "20"]
    with serve_in_subprocess(args) as env:
        assert env["BIG_MONITOR_IDS"] == "2,3"
        base_url = env["VOIPSTUDIO_BASE_URL"]
        auth = (
            "Basic "
            + base64.b64encode(
                f"{env['VOIPSTUDIO_USER_ID']}:{env['VOIPSTUDIO_API_KEY']}".encode()
            ).decode()
        )
        page = await _hammer(base_url, "/cdrs?limit=1000&page=2", auth, 8, 1.5)
        tiny = await _hammer(base_url, "/cdrs/1", auth, 8, 1.5)
    print(
        f"\nfake on loopback (uvicorn subprocess, 8 keep-alive connections): "
        f"1,000-item CDR page {page:,.0f} req/s; single CDR {tiny:,.0f} req/s"
    )
    assert page > 0
    assert tiny > 0
