"""Fault injection in process and on loopback, the request log and the in-flight gauge."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

import httpx
import pytest

from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

ClientFor = Callable[..., httpx.AsyncClient]


def small() -> FakeVoipStudio:
    return FakeVoipStudio(cdrs=50, monitors=5, msdrs=5, chats=2, voicemessages=5)


async def test_status_for_the_first_n_with_retry_after(client_for: ClientFor) -> None:
    fake = small()
    rule = fake.fail("/cdrs", 429, times=2, retry_after=3)
    async with client_for(fake) as client:
        first, second, third = [await client.get("/cdrs") for _ in range(3)]
        other = await client.get("/monitors")
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["retry-after"] == "3"
    assert first.json() == {"message": "Service unavailable", "errors": []}
    assert other.status_code == 200
    assert rule.hits == 2
    assert [e.fault for e in fake.requests] == ["status", "status", None, None]
    fake.fail("/cdrs", 503)
    async with client_for(fake) as client:
        plain = await client.get("/cdrs")
    assert plain.status_code == 503
    assert "retry-after" not in plain.headers


async def test_scoping_by_method_glob_and_regex(client_for: ClientFor) -> None:
    fake = small()
    fake.fail("/cdrs", 500, method="PATCH")
    fake.fail("/monitors/*.mp3", 502)
    fake.fail(re.compile(r"^/msdrs/\d+$"), 504)
    async with client_for(fake) as client:
        assert (await client.get("/cdrs")).status_code == 200
        assert (await client.patch("/cdrs", json=[{"id": 1, "info": "x"}])).status_code == 500
        assert (await client.get("/monitors/1")).status_code == 200
        assert (await client.get("/monitors/1.mp3")).status_code == 502
        assert (await client.get("/msdrs/1")).status_code == 504
        assert (await client.get("/msdrs/1.pcap")).status_code == 200
    fake.clear_faults()
    assert fake.faults == []


async def test_probability_is_seeded(client_for: ClientFor) -> None:
    outcomes = []
    for _ in range(2):
        fake = small()
        fake.fail("/cdrs/*", 503, probability=0.3)
        async with client_for(fake) as client:
            outcomes.append([(await client.get(f"/cdrs/{i}")).status_code for i in range(1, 41)])
    assert outcomes[0] == outcomes[1]
    assert 4 <= outcomes[0].count(503) <= 24


async def test_latency_and_max_in_flight(client_for: ClientFor) -> None:
    fake = small()
    fake.add_latency("/cdrs/*", 0.05)
    async with client_for(fake) as client:
        started = time.perf_counter()
        results = await asyncio.gather(*(client.get(f"/cdrs/{i}") for i in range(1, 9)))
        elapsed = time.perf_counter() - started
    assert all(r.status_code == 200 for r in results)
    assert 0.05 <= elapsed < 0.4  # concurrent, not serialised
    assert fake.max_in_flight == 8
    assert fake.in_flight == 0
    fake.reset_log()
    assert (fake.requests, fake.max_in_flight) == ([], 0)


async def test_drop_in_process_raises_remote_protocol_error(client_for: ClientFor) -> None:
    fake = small()
    fake.drop_connection("/cdrs", times=1)
    async with client_for(fake) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/cdrs")
        assert (await client.get("/cdrs")).status_code == 200
    assert fake.requests[0].status is None
    assert fake.requests[0].fault == "drop"


async def test_cut_body_in_process_is_short_against_content_length(client_for: ClientFor) -> None:
    fake = small()
    fake.cut_body("/monitors/*.mp3", after_bytes=1000, times=1)
    async with client_for(fake) as client:
        cut = await client.get("/monitors/1.mp3")
        whole = await client.get("/monitors/1.mp3")
    assert int(cut.headers["content-length"]) == fake.expected_size("monitor_mp3", 1)
    assert cut.content == whole.content[:1000]
    assert len(whole.content) == fake.expected_size("monitor_mp3", 1)


async def test_faults_on_loopback(client_for: ClientFor) -> None:
    fake = small()
    with serve_in_thread(fake) as base_url:
        async with client_for(fake, base_url) as client:
            fake.drop_connection("/cdrs/1", times=1)
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get("/cdrs/1")
            assert (await client.get("/cdrs/1")).status_code == 200

            fake.cut_body("/monitors/2.mp3", times=1)
            size = fake.expected_size("monitor_mp3", 2)
            received: list[int] = []

            async def download() -> None:
                async with client.stream("GET", "/monitors/2.mp3") as response:
                    assert int(response.headers["content-length"]) == size
                    async for chunk in response.aiter_raw():
                        received.append(len(chunk))

            with pytest.raises(httpx.RemoteProtocolError):
                await download()
            assert sum(received) == size // 2

            fake.drip("/cdrs/3", chunk_size=100, interval=0.01, times=1)
            started = time.perf_counter()
            async with client.stream("GET", "/cdrs/3") as response:
                chunks = [chunk async for chunk in response.aiter_raw()]
            assert time.perf_counter() - started >= 0.05
            assert len(chunks) > 3
            assert b"".join(chunks) == (await client.get("/cdrs/3")).content

            fake.add_latency("/chats", 0.3, times=1)
            with pytest.raises(httpx.ReadTimeout):
                await client.get("/chats", timeout=0.05)
    assert fake.in_flight == 0
