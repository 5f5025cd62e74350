"""Downloads over a real socket: a minimal HTTP/1.1 server on 127.0.0.1 that this file
starts itself, for flat memory on a 200 MB body, bodies cut short by the peer, and the
number of bodies ``download_many`` keeps in flight as seen by the server."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from _support import LoopbackServer
from voipstudio_history_client.api.monitors import download_monitor_mp3

from voipstudio_async._download import download, download_many
from voipstudio_async._errors import IncompleteDownloadError
from voipstudio_async._options import ClientOptions
from voipstudio_async._request.requester import Requester

MiB = 1024 * 1024


@dataclass
class Received:
    method: str
    target: str
    headers: dict[str, str]


Handler = Callable[[Received, asyncio.StreamWriter], Awaitable[None]]


class HandlerServer(LoopbackServer):
    """One request per connection; the handler writes the whole response itself."""

    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self._handler = handler
        self.requests: list[Received] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        method, target, _ = request_line.split(" ")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines if line)
        }
        received = Received(method, target, headers)
        self.requests.append(received)
        await self._handler(received, writer)


async def send_head(writer: asyncio.StreamWriter, length: int | None, **headers: str) -> None:
    lines = ["HTTP/1.1 200 OK", "Content-Type: audio/mpeg", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()


@contextlib.asynccontextmanager
async def requester_for(
    server: HandlerServer, *, concurrency: int = 16, http_backend: str = "httpx"
) -> AsyncIterator[Requester]:
    if http_backend == "aiohttp":
        from voipstudio_async._transports.aiohttp_pool import FastAsyncClient, FastTransport

        http: httpx.AsyncClient = FastAsyncClient(transport=FastTransport())
    else:
        http = httpx.AsyncClient()
    req = Requester(
        http,
        ClientOptions(timeout=10.0, max_retries=0, max_concurrency=concurrency),
        base_url=server.base_url,
        auth=httpx.BasicAuth("1", "k"),
        owns_http=True,
    )
    try:
        yield req
    finally:
        await req.aclose()


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def monitor_kwargs(item_id: int) -> dict[str, object]:
    return download_monitor_mp3._get_kwargs(id=item_id)


async def test_200_mb_body_streams_to_disk_with_flat_memory(tmp_path: Path) -> None:
    block = os.urandom(MiB)
    blocks = 200
    view = memoryview(block)
    expected = hashlib.sha256()
    for _ in range(blocks):
        expected.update(block)

    async def handler(_: Received, writer: asyncio.StreamWriter) -> None:
        await send_head(writer, blocks * MiB)
        for _ in range(blocks):
            # Quarter-MiB writes: the server side adds little to what tracemalloc sees.
            for offset in range(0, MiB, MiB // 4):
                writer.write(view[offset : offset + MiB // 4])
                await writer.drain()

    async with HandlerServer(handler) as server, requester_for(server) as requester:
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            started = time.perf_counter()
            result = await download(
                requester,
                monitor_kwargs(5),
                tmp_path,
                path_template="/monitors/{id}.mp3",
                default_name="monitor-5.mp3",
                expected_size=blocks * MiB,
            )
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] - baseline
        finally:
            tracemalloc.stop()
    print(f"200 MiB: peak traced {peak / MiB:.2f} MiB, {blocks / elapsed:.0f} MiB/s (traced)")
    assert peak < 8 * MiB
    assert result.size == blocks * MiB and result.sha256 == expected.hexdigest()
    assert (tmp_path / "monitor-5.mp3").stat().st_size == blocks * MiB


@pytest.mark.parametrize("http_backend", ["httpx", "aiohttp"])
async def test_body_cut_short_by_the_peer_raises_and_leaves_no_file(
    tmp_path: Path, http_backend: str
) -> None:
    async def handler(_: Received, writer: asyncio.StreamWriter) -> None:
        await send_head(writer, 100_000)
        writer.write(b"x" * 40_000)
        await writer.drain()  # then the connection closes: 60,000 bytes missing

    (tmp_path / "monitor-5.mp3").write_bytes(b"previous")
    async with (
        HandlerServer(handler) as server,
        requester_for(server, http_backend=http_backend) as requester,
    ):
        with pytest.raises(IncompleteDownloadError) as caught:
            await download(
                requester,
                monitor_kwargs(5),
                tmp_path,
                path_template="/monitors/{id}.mp3",
                default_name="monitor-5.mp3",
            )
    assert (caught.value.expected, caught.value.received) == (100_000, 40_000)
    assert isinstance(caught.value.__cause__, httpx.RemoteProtocolError)
    assert files_in(tmp_path) == ["monitor-5.mp3"]
    assert (tmp_path / "monitor-5.mp3").read_bytes() == b"previous"


async def test_cancelled_download_closes_the_connection_and_leaves_no_file(
    tmp_path: Path,
) -> None:
    peer_gone = asyncio.Event()

    async def handler(_: Received, writer: asyncio.StreamWriter) -> None:
        await send_head(writer, 10 * MiB)
        writer.write(b"x" * MiB)
        await writer.drain()
        try:
            while True:  # trickle until the client hangs up
                await asyncio.sleep(0.001)
                writer.write(b"x")
                await writer.drain()
        except ConnectionError:
            peer_gone.set()

    async with HandlerServer(handler) as server, requester_for(server) as requester:
        progressed = asyncio.Event()
        task = asyncio.create_task(
            download(
                requester,
                monitor_kwargs(5),
                tmp_path,
                path_template="/monitors/{id}.mp3",
                default_name="monitor-5.mp3",
                on_progress=lambda done, total: progressed.set(),
            )
        )
        await progressed.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert files_in(tmp_path) == []
        await asyncio.wait_for(peer_gone.wait(), 5)


async def test_download_many_never_exceeds_its_concurrency(tmp_path: Path) -> None:
    in_flight = 0
    peak = 0
    body = b"y" * 64 * 1024

    async def handler(request: Received, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await send_head(writer, len(body) * 2)
            writer.write(body)
            await writer.drain()
            await asyncio.sleep(0.005)  # keep the body open so requests overlap
            writer.write(body)
            await writer.drain()
        finally:
            in_flight -= 1

    async with HandlerServer(handler) as server, requester_for(server) as requester:
        result = await download_many(
            requester,
            range(1, 21),
            tmp_path,
            build_kwargs=monitor_kwargs,
            path_template="/monitors/{id}.mp3",
            file_name=lambda i: f"monitor-{i}.mp3",
            concurrency=3,
        )
    assert result.ok and len(result) == 20
    assert len(server.requests) == 20
    assert peak == 3
    assert sorted(r.target for r in server.requests) == sorted(
        f"/v1.1/voipstudio/monitors/{i}.mp3" for i in range(1, 21)
    )
    assert len(files_in(tmp_path)) == 20
