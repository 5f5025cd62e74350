"""The fast backend (``http_backend="aiohttp"``) against the fake server on 127.0.0.1.

Also: list pages decoded through the fast builder equal the generated ``from_dict``,
prefetching walks stop cleanly, and the benchmark's ``--quick`` mode runs end to end.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from voipstudio_history_client.api.monitors import download_monitor_mp3
from voipstudio_history_client.models import Cdr, CdrList

from voipstudio_async import VoipStudio
from voipstudio_async._download import download
from voipstudio_async._errors import (
    APIResponseValidationError,
    APITimeoutError,
    NotFoundError,
)
from voipstudio_async._request.decode import parse_list
from voipstudio_async._transports.aiohttp_pool import FastAsyncClient, FastTransport
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=3, cdrs=250, monitors=5, msdrs=5, chats=3, voicemessages=5)


@pytest.fixture
def base_url(fake: FakeVoipStudio) -> Iterator[str]:
    with serve_in_thread(fake) as url:
        assert url.startswith("http://127.0.0.1:")
        yield url


def _client(fake: FakeVoipStudio, base_url: str, **options: object) -> VoipStudio:
    creds = fake.credentials
    return VoipStudio(
        creds.user_id, creds.api_key, base_url=base_url, http_backend="aiohttp", **options
    )  # type: ignore[arg-type]


@pytest.fixture
async def vs(fake: FakeVoipStudio, base_url: str) -> AsyncIterator[VoipStudio]:
    async with _client(fake, base_url) as client:
        yield client


def _transport(vs: VoipStudio) -> FastTransport:
    transport = vs._requester._http._transport
    transport = getattr(transport, "wrapped", transport)  # the span wrapper (_tracing)
    assert isinstance(transport, FastTransport)
    return transport


async def test_the_backend_builds_the_fast_client_and_transport(vs: VoipStudio) -> None:
    assert isinstance(vs._requester._http, FastAsyncClient)
    assert _transport(vs).max_connections == vs.max_concurrency == 32
    assert vs._requester._http.follow_redirects is False
    assert vs._requester._http.timeout == vs.timeout


async def test_json_get(vs: VoipStudio, fake: FakeVoipStudio) -> None:
    ident = fake.ids("cdrs")[7]
    cdr = await vs.cdrs.get(ident)
    record = fake.get("cdrs", ident)
    assert record is not None
    assert cdr == Cdr.from_dict(record)


async def test_paginated_walks(vs: VoipStudio, fake: FakeVoipStudio) -> None:
    ids = fake.ids("cdrs")
    assert [c.id async for c in vs.cdrs.iterate(page_size=40)] == ids
    assert [c.id async for c in vs.cdrs.iterate_consistent(page_size=40)] == ids
    assert [c.id async for c in vs.cdrs.iterate(page_size=40, max_items=95)] == ids[:95]


async def test_list_page_equals_the_generated_models(vs: VoipStudio, fake: FakeVoipStudio) -> None:
    page = await vs.cdrs.list(limit=250)
    expected = CdrList.from_dict({"data": fake.records("cdrs"), "total": 250})
    assert page.items == expected.data and page.total == 250
    assert all(type(item) is Cdr for item in page.items)


async def test_fast_builder_keeps_unknown_keys_and_reports_drift() -> None:
    rows = [{"id": i, "type": "O", "extra": [i]} for i in range(1, 1200)]
    response = httpx.Response(200, content=json.dumps({"data": rows, "total": 5}).encode())
    items, total = await parse_list(response, CdrList.from_dict, what="GET /cdrs")
    assert total == 5
    assert items == CdrList.from_dict({"data": rows}).data
    assert items[-1].additional_properties == {"extra": [1199]} and items[-1].type_ == "O"

    broken = [*rows[:600], {"no": "id"}]
    response = httpx.Response(200, content=json.dumps({"data": broken}).encode())
    with pytest.raises(APIResponseValidationError, match="KeyError") as caught:
        await parse_list(response, CdrList.from_dict, what="GET /cdrs")
    assert caught.value.body == {"data": broken}  # as it arrived, not as consumed


async def test_a_walk_stopped_early_leaves_nothing_running(
    vs: VoipStudio, fake: FakeVoipStudio
) -> None:
    seen = 0
    async for _ in vs.cdrs.iterate(page_size=20):
        seen += 1
        if seen == 55:  # inside page 3, with pages 4 and 5 requested ahead
            break
    await asyncio.sleep(0.05)
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
    assert len([r for r in fake.requests if r.path == "/cdrs"]) <= 5


async def test_streamed_download_matches(
    vs: VoipStudio, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    ident = fake.add_monitor(size=3_000_000)
    result = await download(
        vs._requester,
        download_monitor_mp3._get_kwargs(ident),
        tmp_path,
        path_template="/monitors/{id}.mp3",
        default_name=f"{ident}.mp3",
    )
    assert result.size == 3_000_000
    assert result.sha256 == fake.expected_sha256("monitor_mp3", ident)
    assert (tmp_path / f"{ident}.mp3").stat().st_size == 3_000_000


async def test_404_maps_to_not_found(vs: VoipStudio) -> None:
    with pytest.raises(NotFoundError) as caught:
        await vs.cdrs.get(987_654_321)
    assert caught.value.status_code == 404


async def test_a_slow_answer_maps_to_api_timeout(fake: FakeVoipStudio, base_url: str) -> None:
    fake.add_latency("/cdrs/*", seconds=1.0)
    async with _client(fake, base_url, timeout=0.2, max_retries=0) as vs:
        with pytest.raises(APITimeoutError):
            await vs.cdrs.get(fake.ids("cdrs")[0])


async def test_a_stalled_body_maps_to_api_timeout(
    fake: FakeVoipStudio, base_url: str, tmp_path: Path
) -> None:
    ident = fake.add_monitor(size=200_000)
    fake.drip("/monitors/*.mp3", chunk_size=100_000, interval=1.0)
    async with _client(fake, base_url, timeout=0.2, max_retries=0) as vs:
        with pytest.raises(APITimeoutError):
            await download(
                vs._requester,
                download_monitor_mp3._get_kwargs(ident),
                tmp_path,
                path_template="/monitors/{id}.mp3",
                default_name="x.mp3",
            )
    assert os.listdir(tmp_path) == []


async def test_the_concurrency_bound_holds(fake: FakeVoipStudio, base_url: str) -> None:
    fake.add_latency("/cdrs/*", seconds=0.02)
    ids = fake.ids("cdrs")[:40]
    async with _client(fake, base_url, max_concurrency=4) as vs:
        assert _transport(vs).max_connections == 4
        fake.reset_log()
        got = await asyncio.gather(*(vs.cdrs.get(i) for i in ids))
    assert [c.id for c in got] == ids
    assert fake.max_in_flight == 4


async def test_close_releases_every_connection(fake: FakeVoipStudio, base_url: str) -> None:
    vs = _client(fake, base_url)
    await asyncio.gather(*(vs.cdrs.get(i) for i in fake.ids("cdrs")[:10]))
    transport = _transport(vs)
    assert transport._session is not None
    await vs.aclose()
    assert transport._session is None
    for _ in range(100):  # the server sees the sockets close
        if not fake.app.connections:
            break
        await asyncio.sleep(0.01)
    assert fake.app.connections == {}


def test_the_transport_refuses_a_second_event_loop(fake: FakeVoipStudio, base_url: str) -> None:
    vs = _client(fake, base_url)
    ident = fake.ids("cdrs")[0]
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        first.run_until_complete(vs.cdrs.get(ident))
        with pytest.raises(RuntimeError, match="another event loop"):
            second.run_until_complete(vs.cdrs.get(ident))
    finally:
        first.run_until_complete(vs.aclose())
        first.close()
        second.close()


def test_the_backend_option_is_checked() -> None:
    with pytest.raises(ValueError, match="http_backend"):
        VoipStudio(1, "k", http_backend="curl")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="own transport"):
        VoipStudio(1, "k", http_backend="aiohttp", transport=httpx.MockTransport(lambda r: r))


@pytest.mark.slow
def test_bench_quick_mode_runs_end_to_end(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "get", "walk", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Small GET" in proc.stdout and "Walk" in proc.stdout
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["quick"] is True and report["targets"]
    assert (tmp_path / "latest.md").read_text().startswith("Run ")
