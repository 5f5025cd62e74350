"""A cancellation storm must not wedge the connection pool (httpcore issue 1093).

A keep-alive HTTP/1.1 server on 127.0.0.1, started by each test, answers ``GET /cdrs/{id}``.
Thousands of calls are cancelled at random points (``asyncio.timeout``), then the server
holds every request until ``max_concurrency`` of them are in flight at once: only a pool
with all its connections usable gets there. Both backends must pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

import httpx
import pytest
from _support import LoopbackServer

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio

CONCURRENCY = 4
STORM_CALLS = 2000


async def _cdr_body() -> bytes:
    """A valid ``GET /cdrs/1`` body, as the fake serves it."""
    fake = FakeVoipStudio(seed=1, cdrs=1)
    creds = fake.credentials
    auth = (str(creds.user_id), creds.api_key)
    async with httpx.AsyncClient(transport=fake.transport(), auth=auth) as http:
        response = await http.get(fake.base_url + "/cdrs/1")
    response.raise_for_status()
    return response.content


class BarrierServer(LoopbackServer):
    """Keep-alive server; with ``barrier`` set it answers only once that many are waiting."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self._body = body
        self._waiting = 0
        self._arrived = asyncio.Condition()
        self.barrier: int | None = None
        self.rng = random.Random(1093)
        self.most_in_flight = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            await self._hold()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(self._body), self._body)
            )
            await writer.drain()

    async def _hold(self) -> None:
        if self.barrier is None:
            if self.rng.random() < 0.5:
                await asyncio.sleep(self.rng.uniform(0, 0.004))
            return
        async with self._arrived:
            self._waiting += 1
            self.most_in_flight = max(self.most_in_flight, self._waiting)
            self._arrived.notify_all()
            await self._arrived.wait_for(lambda: self._waiting >= (self.barrier or 0))


async def _storm(vs: VoipStudio, calls: int, rng: random.Random) -> None:
    """``calls`` gets, each cut short by a random timeout; waves keep the pool busy."""

    async def one() -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(rng.uniform(0.001, 0.01)):
                await vs.cdrs.get(1)

    wave = 2 * CONCURRENCY
    for _ in range(calls // wave):
        await asyncio.gather(*(one() for _ in range(wave)))


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
async def test_full_concurrency_survives_a_cancellation_storm(backend: str) -> None:
    async with (
        BarrierServer(await _cdr_body()) as server,
        VoipStudio(
            user_id=1,
            api_key="k",
            base_url=server.base_url,
            max_concurrency=CONCURRENCY,
            max_retries=0,
            http_backend=backend,  # type: ignore[arg-type]
        ) as vs,
    ):
        await _storm(vs, STORM_CALLS, server.rng)

        server.barrier = CONCURRENCY
        # Each call waits for the others at the server: all must be in flight at once.
        # A wedged pool never gets there and fails with a pool timeout.
        cdrs = await asyncio.gather(
            *(vs.cdrs.get(1, timeout=httpx.Timeout(10.0, pool=5.0)) for _ in range(CONCURRENCY))
        )
    assert [cdr.id for cdr in cdrs] == [1] * CONCURRENCY
    assert server.most_in_flight == CONCURRENCY
