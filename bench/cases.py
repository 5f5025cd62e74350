"""One measured case in a fresh process: ``python -m bench.cases`` with the spec on stdin.

Prints one JSON line with the measurements. The spec names the case (``get``,
``walk``, ``download``, ``fanout``), the variant (``sdk`` or a raw client), the
server (``base_url``, credentials, ids) and the sizes. Run by ``bench.run``, which
pins this process to its own core.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench._child import read_spec
from voipstudio_async import VoipStudio

Spec = dict[str, Any]
Result = dict[str, Any]

# The SDK as a batch job configures it: the fast transport and a gate wide enough to
# keep the pool busy (see README, "Performance").
SDK_MAX_CONCURRENCY = 64


def _auth_header(spec: Spec) -> dict[str, str]:
    raw = f"{spec['user_id']}:{spec['api_key']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def _sdk(spec: Spec, max_concurrency: int = SDK_MAX_CONCURRENCY) -> VoipStudio:
    return VoipStudio(
        spec["user_id"],
        spec["api_key"],
        base_url=spec["base_url"],
        http_backend="aiohttp",
        max_concurrency=max_concurrency,
    )


def _url(spec: Spec, path: str) -> str:
    return spec["base_url"].rstrip("/") + path


# -- 1. small GET ----------------------------------------------------------------------------


async def _drive(call: Callable[[int], Awaitable[object]], spec: Spec, concurrency: int) -> Result:
    """``concurrency`` workers share one counter; warm-up, then a timed phase."""
    ids: list[int] = spec["cdr_ids"]
    n_ids = len(ids)
    warmup = max(spec["warmup"], 2 * concurrency)
    target = spec["requests"]
    max_seconds = spec["max_seconds"]
    latencies: list[float] = []
    counter = 0
    deadline = 0.0
    measuring = False

    async def worker(limit: int) -> None:
        nonlocal counter
        perf = time.perf_counter
        while counter < limit and (not measuring or perf() < deadline):
            i = counter
            counter += 1
            started = perf()
            await call(ids[i % n_ids])
            if measuring:
                latencies.append(perf() - started)

    await asyncio.gather(*(worker(warmup) for _ in range(concurrency)))
    counter = 0
    measuring = True
    cpu0, t0 = time.process_time(), time.perf_counter()
    deadline = t0 + max_seconds
    await asyncio.gather(*(worker(target) for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    done = len(latencies)
    latencies.sort()
    return {
        "requests": done,
        "seconds": elapsed,
        "rps": done / elapsed,
        "p50_ms": latencies[done // 2] * 1e3,
        "p99_ms": latencies[min(done - 1, int(done * 0.99))] * 1e3,
        "cpu_ms_per_request": cpu / done * 1e3,
    }


async def case_get(spec: Spec) -> Result:
    variant, concurrency = spec["variant"], spec["concurrency"]
    headers = _auth_header(spec)
    item_url = _url(spec, "/cdrs/")
    if variant == "sdk":
        async with _sdk(spec) as vs:
            return await _drive(vs.cdrs.get, spec, concurrency)
    if variant == "aiohttp":
        import aiohttp

        connector = aiohttp.TCPConnector(limit=max(100, concurrency))
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

            async def get_aiohttp(ident: int) -> object:
                async with session.get(f"{item_url}{ident}") as response:
                    response.raise_for_status()
                    return json.loads(await response.read())

            return await _drive(get_aiohttp, spec, concurrency)
    transport: httpx.AsyncBaseTransport | None = None
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    client_class = httpx.AsyncClient
    if variant in ("httpx_fast", "httpx_fastclient"):
        from voipstudio_async._transports.aiohttp_pool import FastAsyncClient, FastTransport

        transport = FastTransport(limits=limits)
        if variant == "httpx_fastclient":
            client_class = FastAsyncClient
    elif variant == "httpx_aiohttp":
        from httpx_aiohttp import AiohttpTransport

        transport = AiohttpTransport(limits=limits)
    elif variant != "httpx":
        raise ValueError(variant)
    async with client_class(headers=headers, transport=transport) as client:

        async def get_httpx(ident: int) -> object:
            response = await client.get(f"{item_url}{ident}")
            response.raise_for_status()
            return json.loads(response.content)

        return await _drive(get_httpx, spec, concurrency)


# -- 2. walk ---------------------------------------------------------------------------------


class _StallMeter:
    """A ticker task: the worst lateness of a 1 ms sleep while the loop runs other work."""

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.worst = 0.0
        self.lates: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        perf = time.perf_counter
        while True:
            expected = perf() + self.interval
            await asyncio.sleep(self.interval)
            late = perf() - expected
            self.lates.append(late)
            self.worst = max(self.worst, late)

    def __enter__(self) -> _StallMeter:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()

    def summary(self) -> Result:
        lates = sorted(self.lates) or [0.0]
        return {
            "stall_max_ms": self.worst * 1e3,
            "stall_p99_ms": lates[min(len(lates) - 1, int(len(lates) * 0.99))] * 1e3,
        }


# What a batch job may do at start-up: move everything imported so far out of the
# collector's reach and collect the young generation less often. Applied to both
# sides of the "GC tuned" walk rows.
GC_TUNING = (10_000, 10, 10)


async def case_walk(spec: Spec) -> Result:
    variant, page_size, total = spec["variant"], spec["page_size"], spec["items"]
    count = 0
    if spec.get("gc_tuned"):
        gc.freeze()
        gc.set_threshold(*GC_TUNING)
    if variant == "sdk":
        async with _sdk(spec) as vs:
            # Warm the connection (and the server's page cache is warmed by the runner).
            await vs.cdrs.list(limit=1)
            with _StallMeter() as meter:
                t0 = time.perf_counter()
                async for _cdr in vs.cdrs.iterate(page_size=page_size, max_items=total):
                    count += 1
                elapsed = time.perf_counter() - t0
    elif variant == "httpx":
        async with httpx.AsyncClient(headers=_auth_header(spec)) as client:
            url = _url(spec, "/cdrs")
            (await client.get(url, params={"limit": 1})).raise_for_status()
            with _StallMeter() as meter:
                t0 = time.perf_counter()
                page = 1
                while count < total:
                    response = await client.get(url, params={"page": page, "limit": page_size})
                    response.raise_for_status()
                    body = json.loads(response.content)
                    if not body["data"]:
                        break
                    for _item in body["data"]:
                        count += 1
                        if count >= total:
                            break
                    page += 1
                elapsed = time.perf_counter() - t0
    else:
        raise ValueError(variant)
    if count != total:
        raise RuntimeError(f"walked {count} items, expected {total}")
    return {"items": count, "seconds": elapsed, "items_per_s": count / elapsed, **meter.summary()}


# -- 3. download -----------------------------------------------------------------------------


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _RssPeak:
    """Samples RSS every 2 ms in a thread (and ru_maxrss at the end)."""

    def __init__(self) -> None:
        self.start = _rss()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> _RssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        if maxrss > self.start:  # ru_maxrss is a lifetime peak: only trust it above start
            self.peak = max(self.peak, maxrss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 1e6


async def case_download(spec: Spec) -> Result:
    variant, ident, size = spec["variant"], spec["big_id"], spec["big_size"]
    workdir = Path(tempfile.mkdtemp(prefix="vsbench-"))
    dest = workdir / "big.mp3"
    try:
        if variant == "sdk":
            async with _sdk(spec) as vs:
                await vs.cdrs.list(limit=1)  # connect and import outside the measurement
                with _RssPeak() as rss:
                    t0 = time.perf_counter()
                    received = (await vs.monitors.download(ident, dest)).size
                    elapsed = time.perf_counter() - t0
        elif variant == "httpx":
            async with httpx.AsyncClient(headers=_auth_header(spec)) as client:
                (await client.get(_url(spec, "/cdrs"), params={"limit": 1})).raise_for_status()
                with _RssPeak() as rss:
                    t0 = time.perf_counter()
                    received = 0
                    url = _url(spec, f"/monitors/{ident}.mp3")
                    async with client.stream("GET", url) as response:
                        response.raise_for_status()
                        with dest.open("wb") as file:
                            async for chunk in response.aiter_raw():
                                file.write(chunk)
                                received += len(chunk)
                    elapsed = time.perf_counter() - t0
        else:
            raise ValueError(variant)
        if received != size or dest.stat().st_size != size:
            raise RuntimeError(f"downloaded {received} bytes, expected {size}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "bytes": received,
        "seconds": elapsed,
        "mb_per_s": received / elapsed / 1e6,
        "rss_growth_mb": rss.growth_mb,
    }


# -- 4. fan-out ------------------------------------------------------------------------------


async def case_fanout(spec: Spec) -> Result:
    variant, ids, concurrency = spec["variant"], spec["small_ids"], spec["concurrency"]
    ids = ids[: spec["files"]]
    workdir = Path(tempfile.mkdtemp(prefix="vsbench-"))
    try:
        if variant == "sdk":
            async with _sdk(spec, max_concurrency=concurrency) as vs:
                await vs.cdrs.list(limit=1)
                t0 = time.perf_counter()
                result = await vs.monitors.download_many(ids, workdir, concurrency=concurrency)
                elapsed = time.perf_counter() - t0
                failed = result.failed
                if failed:
                    raise RuntimeError(f"{len(failed)} downloads failed: {failed[0]!r}")
        elif variant == "httpx":
            limits = httpx.Limits(
                max_connections=concurrency, max_keepalive_connections=concurrency
            )
            async with httpx.AsyncClient(headers=_auth_header(spec), limits=limits) as client:
                (await client.get(_url(spec, "/cdrs"), params={"limit": 1})).raise_for_status()
                gate = asyncio.Semaphore(concurrency)

                async def one(ident: int) -> None:
                    url = _url(spec, f"/monitors/{ident}.mp3")
                    async with gate, client.stream("GET", url) as r:
                        r.raise_for_status()
                        with (workdir / f"{ident}.mp3").open("wb") as file:
                            async for chunk in r.aiter_raw():
                                file.write(chunk)

                t0 = time.perf_counter()
                await asyncio.gather(*(one(i) for i in ids))
                elapsed = time.perf_counter() - t0
        else:
            raise ValueError(variant)
        sizes = await asyncio.to_thread(_sizes, workdir)
        if len(sizes) != len(ids) or set(sizes) != {spec["small_size"]}:
            raise RuntimeError("fan-out left missing or short files")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"files": len(ids), "seconds": elapsed, "files_per_s": len(ids) / elapsed}


def _sizes(directory: Path) -> list[int]:
    return [f.stat().st_size for f in directory.glob("*.mp3")]


CASES: dict[str, Callable[[Spec], Awaitable[Result]]] = {
    "get": case_get,
    "walk": case_walk,
    "download": case_download,
    "fanout": case_fanout,
}


def run(spec: Spec) -> Result:
    coro = CASES[spec["case"]](spec)
    if spec.get("loop", "uvloop") == "uvloop":
        import uvloop

        return uvloop.run(coro)
    return asyncio.run(coro)


def main() -> int:
    spec = read_spec()
    if spec.get("cpu") is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {spec["cpu"]})
    result = run(spec)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
