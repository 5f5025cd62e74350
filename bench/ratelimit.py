"""Cooperation under rate limits and retry storms: ``python -m bench.ratelimit``.

Case 1: the fake enforces 200 requests/s (bucket of one second's worth) and answers
429 with ``Retry-After``; 4,000 GETs at concurrency 64 for each variant: the SDK with
its default limiter, with ``rate_limit=None``, raw httpx with a per-request retry loop
honouring ``Retry-After``, and 4 processes of 1,000 GETs each with and without one
Redis-shared limit. Case 2: the fake fails 50% of requests with 503 for 10 s; calls at
concurrency 64 with and without the retry budget. Each variant gets a fresh server
process; the clients run in their own processes.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

from voipstudio_async import RateLimit, RetryBudget, VoipStudio
from voipstudio_async.testing import FakeVoipStudio

LIMIT = 200.0
TOTAL = 4000
CONCURRENCY = 64
STORM_SECONDS = 10.0


def serve(mode: str) -> None:
    """The fake in this process: ``limit`` (200/s with Retry-After) or ``storm`` (50% 503)."""
    from voipstudio_async.testing._server import (
        QuietExitServer,
        bind,
        loopback_url,
        uvicorn_config,
    )

    fake = FakeVoipStudio(seed=1, cdrs=10, monitors=1, voicemessages=1, chats=1, msdrs=1)
    if mode == "limit":
        fake.rate_limit(LIMIT, retry_after=True)
    else:
        fake.fail("/cdrs/*", 503, probability=0.5)
    sock = bind()
    creds = fake.credentials
    print(json.dumps([loopback_url(fake, sock), creds.user_id, creds.api_key]), flush=True)
    QuietExitServer(uvicorn_config(fake.app)).run(sockets=[sock])


class _Counts:
    def __init__(self) -> None:
        self.sent = self.throttled = self.ok = self.failed = 0

    async def on_response(self, response: httpx.Response) -> None:
        self.sent += 1
        self.throttled += response.status_code == 429


async def _sdk_gets(spec: dict[str, Any], count: int, **options: Any) -> dict[str, Any]:
    counts = _Counts()
    async with VoipStudio(
        spec["user_id"],
        spec["api_key"],
        base_url=spec["base_url"],
        http_backend="aiohttp",
        max_concurrency=CONCURRENCY,
        **options,
    ) as vs:
        vs._requester._http.event_hooks["response"].append(counts.on_response)
        pending = iter(range(count))

        async def worker() -> None:
            for _ in pending:
                try:
                    await vs.cdrs.get(1)
                    counts.ok += 1
                except Exception:
                    counts.failed += 1

        # Processes of one run start together, whenever each finished importing.
        await asyncio.sleep(max(0.0, spec.get("start_at", 0.0) - time.time()))
        started = time.time()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return {**vars(counts), "started": started, "finished": time.time()}


async def _raw_gets(spec: dict[str, Any], count: int) -> dict[str, Any]:
    counts = _Counts()
    url = spec["base_url"] + "/cdrs/1"
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(
        auth=(str(spec["user_id"]), spec["api_key"]), limits=limits, timeout=30
    ) as client:
        pending = iter(range(count))

        async def worker() -> None:
            for _ in pending:
                for _attempt in range(10):
                    response = await client.get(url)
                    await counts.on_response(response)
                    if response.status_code != 429:
                        break
                    await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                if response.status_code == 200:
                    counts.ok += 1
                else:
                    counts.failed += 1

        started = time.time()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return {**vars(counts), "started": started, "finished": time.time()}


async def _storm(spec: dict[str, Any], budget: RetryBudget | None) -> dict[str, Any]:
    counts = _Counts()
    calls = 0
    async with VoipStudio(
        spec["user_id"],
        spec["api_key"],
        base_url=spec["base_url"],
        http_backend="aiohttp",
        max_concurrency=CONCURRENCY,
        retry_budget=budget,
    ) as vs:
        vs._requester._http.event_hooks["response"].append(counts.on_response)
        end = time.monotonic() + STORM_SECONDS

        async def worker() -> None:
            nonlocal calls
            while time.monotonic() < end:
                calls += 1
                try:
                    await vs.cdrs.get(1)
                    counts.ok += 1
                except Exception:
                    counts.failed += 1

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return {**vars(counts), "calls": calls}


def client(argv: list[str]) -> None:
    """One measured client in this process; prints its counts as JSON."""
    variant, spec, count = argv[0], json.loads(argv[1]), int(argv[2])
    redis_url = argv[3] if len(argv) > 3 else None
    runs = {
        "sdk": lambda: _sdk_gets(spec, count),
        "sdk-no-limiter": lambda: _sdk_gets(spec, count, rate_limit=None),
        "sdk-redis": lambda: _sdk_gets(spec, count, rate_limit=RateLimit(redis_url=redis_url)),
        "raw-httpx": lambda: _raw_gets(spec, count),
        "storm-budget": lambda: _storm(spec, RetryBudget()),
        "storm-no-budget": lambda: _storm(spec, None),
    }
    print(json.dumps(asyncio.run(runs[variant]())), flush=True)


def _server(mode: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.ratelimit", "--serve", mode],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    base_url, user_id, api_key = json.loads(proc.stdout.readline())
    return proc, {"base_url": base_url, "user_id": user_id, "api_key": api_key}


def _clients(variant: str, spec: dict[str, Any], count: int, n: int, *extra: str) -> list[Any]:
    procs = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "bench.ratelimit", "--client", variant),
                *(json.dumps(spec), str(count), *extra),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    return [json.loads(proc.communicate()[0]) for proc in procs]


def _limited(variant: str, processes: int = 1, *extra: str) -> dict[str, Any]:
    server, spec = _server("limit")
    try:
        spec["start_at"] = time.time() + 3.0 * processes
        results = _clients(variant, spec, TOTAL // processes, processes, *extra)
    finally:
        server.terminate()
        server.wait()
    ok = sum(r["ok"] for r in results)
    sent = sum(r["sent"] for r in results)
    throttled = sum(r["throttled"] for r in results)
    seconds = max(r["finished"] for r in results) - min(r["started"] for r in results)
    return {
        "variant": variant if processes == 1 else f"{variant} x{processes}",
        "goodput": ok / seconds,
        "share_429": throttled / sent,
        "failed": sum(r["failed"] for r in results),
        "sent": sent,
    }


class _Redis:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.dir = tempfile.mkdtemp()
        binary = shutil.which("redis-server") or "redis-server"
        self.proc = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--dir", self.dir),
            ],
            stdout=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2])
        return 0
    if sys.argv[1:2] == ["--client"]:
        client(sys.argv[2:])
        return 0
    only = sys.argv[1:2] == ["--shared-only"]
    rows = [] if only else [_limited("sdk"), _limited("sdk-no-limiter"), _limited("raw-httpx")]
    redis = _Redis()
    try:
        rows.append(_limited("sdk-redis", 4, redis.url))
    finally:
        redis.stop()
    rows.append(_limited("sdk", 4))
    print(f"Rate limit {LIMIT:.0f}/s with Retry-After, {TOTAL} GETs at concurrency {CONCURRENCY}")
    print("| variant | goodput (req/s) | x limit | 429 share | failed | sent |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['variant']} | {row['goodput']:.0f} | {row['goodput'] / LIMIT:.2f} "
            f"| {row['share_429']:.1%} | {row['failed']} | {row['sent']} |"
        )
    if only:
        return 0
    print(f"\nRetry storm: 50% of requests answered 503 for {STORM_SECONDS:.0f} s")
    print("| variant | calls | sent | sent per call | sent per success | failed |")
    print("|---|---|---|---|---|---|")
    for variant in ("storm-budget", "storm-no-budget"):
        server, spec = _server("storm")
        try:
            [result] = _clients(variant, spec, 0, 1)
        finally:
            server.terminate()
            server.wait()
        print(
            f"| {variant} | {result['calls']} | {result['sent']} "
            f"| {result['sent'] / result['calls']:.2f} "
            f"| {result['sent'] / max(1, result['ok']):.2f} | {result['failed']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
