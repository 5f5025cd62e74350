"""The rate limiter in every shape users call it: ``python -m bench.ratelimit [--quick]
[--only CELL ...]``.

A matrix of cells, each run for a fixed time against the fake on loopback (its own
process) enforcing a token-bucket limit with ``Retry-After``: call shape (gathered
batches of 10x ``max_concurrency`` tasks, or worker loops), backend (httpx, aiohttp),
processes (1; 4 with their own limiters; 4 sharing one Redis; 4 clients of one account
in one process), server limit (50/s, 200/s, or 200 -> 50 -> 200), faults (Redis killed
and restarted mid-run, Redis unreachable from the start) and a web-app cell (callers
busy in bursts after quiet spells). The same client's unlimited rate is measured in the
same run, per backend and shape.

One row per cell: goodput / limit (the mean limit for a changing one), goodput /
min(limit, unlimited rate), share of requests answered 429, failed calls, per-process
spread (largest deviation from the mean share), and for the Redis restart the accepted
rate in the 5 s after Redis returns / limit. Rows go to ``bench/results/ratelimit.json``
(a whole run only); a picture per key cell (sent, accepted and 429 per 0.5 s against
the server's limit) to ``docs/guides/img/ratelimit-<cell>.png``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Coroutine, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from bench import ratelimit_webapp
from voipstudio_async import RateLimit, VoipStudio
from voipstudio_async.testing import FakeVoipStudio

CONCURRENCY = 32
BUCKET = 0.5  # seconds per time-series point
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "ratelimit.json"
PICTURES = ROOT / "docs" / "guides" / "img"


@dataclass(frozen=True)
class Cell:
    name: str
    limit: str  # "200" or a schedule "200,50@10,200@20" (seconds of the cell)
    backend: str = "httpx"
    shape: str = "gathered"  # or "loops", "bursts"
    processes: int = 1
    sharing: str = "own"  # "own", "redis", "clients" (4 clients in one process)
    fault: str = ""  # "", "redis-restart", "redis-unreachable"
    key: bool = False  # drawn, and in --quick


def _mean_limit(limit: str, seconds: float) -> float:
    steps = [
        (float(at or 0), float(rate))
        for rate, _, at in (s.partition("@") for s in limit.split(","))
    ]
    total = 0.0
    for index, (at, rate) in enumerate(steps):
        end = steps[index + 1][0] if index + 1 < len(steps) else seconds
        total += rate * max(0.0, min(end, seconds) - at)
    return total / seconds


def cells() -> list[Cell]:
    """The matrix; ``key`` cells make the quick subset and the pictures. Cells off the
    backend axis use the aiohttp backend, whose client reaches 200/s on a loaded 2-core
    machine (the default backend's unlimited rate is measured in the same run)."""
    out: list[Cell] = []
    for limit in ("200", "50"):
        for backend in ("httpx", "aiohttp"):
            for shape in ("gathered", "loops"):
                key = limit == "200"
                out.append(Cell(f"{limit}-{backend}-{shape}", limit, backend, shape, key=key))
        for sharing, processes in (("own", 4), ("redis", 4), ("clients", 1)):
            for shape in ("gathered", "loops"):
                key = limit == "200" and shape == "gathered"
                name = f"{limit}-x4-{sharing}-{shape}"
                out.append(Cell(name, limit, "aiohttp", shape, processes, sharing, key=key))
    schedule = "200,50@5,200@10"
    for shape in ("gathered", "loops"):
        out.append(Cell(f"changing-{shape}", schedule, "aiohttp", shape, key=shape == "loops"))
    out.append(Cell("changing-x4-redis", schedule, "aiohttp", "loops", 4, "redis"))
    restart = Cell("200-x4-redis-restart", "200", "aiohttp", "loops", 4, "redis", "redis-restart")
    out.append(replace(restart, key=True))
    out.append(
        Cell("200-x4-redis-unreachable", "200", "aiohttp", "loops", 4, "redis", "redis-unreachable")
    )
    out.append(Cell("100-web-bursts", "100", "aiohttp", "bursts", key=True))
    return out


def serve(limit: str) -> None:
    """The fake in this process, limited as ``limit`` says (a rate, or a schedule whose
    times count from the wall-clock start time the bench writes to stdin)."""
    from voipstudio_async.testing._ratelimit import parse_schedule
    from voipstudio_async.testing._server import (
        QuietExitServer,
        bind,
        loopback_url,
        uvicorn_config,
    )

    fake = FakeVoipStudio(seed=1, cdrs=10, monitors=1, voicemessages=1, chats=1, msdrs=1)
    if limit != "none":
        steps = parse_schedule(limit)
        server_limit = fake.rate_limit(steps[0][1], retry_after=True)
        if server_limit is not None and len(steps) > 1:

            def follow_from_start() -> None:
                delay = max(0.0, float(sys.stdin.readline()) - time.time())
                server_limit.follow([(at + delay, rate) for at, rate in steps])

            threading.Thread(target=follow_from_start, daemon=True).start()
    sock = bind()
    creds = fake.credentials
    print(json.dumps([loopback_url(fake, sock), creds.user_id, creds.api_key]), flush=True)
    QuietExitServer(uvicorn_config(fake.app)).run(sockets=[sock])


class _Series:
    """Responses per ``BUCKET`` s: sent, accepted (2xx), answered 429."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.points: dict[int, list[int]] = {}

    async def on_response(self, response: httpx.Response) -> None:
        point = self.points.setdefault(int((time.time() - self.start) / BUCKET), [0, 0, 0])
        point[0] += 1
        point[1] += response.status_code < 300
        point[2] += response.status_code == 429


async def _all(calls: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run ``calls`` as tasks; when cancelled, return only once every one has ended.

    ``asyncio.gather`` returns as soon as its first child ends cancelled, so at the end
    of a cell the clients were closed under calls still running: they failed (counted)
    and the Redis limiter's connections closed under them (logged as "unreachable").
    """
    async with asyncio.TaskGroup() as group:
        for call in calls:
            group.create_task(call)


async def _run_client(spec: dict[str, Any]) -> dict[str, Any]:
    """One process's share of a cell: its clients, its calls, until the cell ends."""
    start, seconds = spec["start_at"], spec["seconds"]
    rate_limit: RateLimit | None = RateLimit()
    if spec["redis_url"]:
        rate_limit = RateLimit(redis_url=spec["redis_url"])
    if spec["unlimited"]:
        rate_limit = None
    series = _Series(start)
    clients = [
        VoipStudio(
            spec["user_id"],
            spec["api_key"],
            base_url=spec["base_url"],
            http_backend=spec["backend"],
            max_concurrency=CONCURRENCY,
            rate_limit=rate_limit,
        )
        for _ in range(spec["clients"])
    ]
    ok = failed = 0
    errors: dict[str, int] = {}
    try:
        for vs in clients:
            vs._requester._http.event_hooks["response"].append(series.on_response)
        await asyncio.sleep(max(0.0, start - time.time()))
        end = start + seconds

        async def call(vs: VoipStudio) -> None:
            nonlocal ok, failed
            if time.time() >= end:
                return  # the rest of a gathered batch: the cell is over
            try:
                await vs.cdrs.get(1)
                ok += 1
            except Exception as exc:
                failed += 1
                if type(exc).__name__ not in errors:  # the first of each kind, for the log
                    traceback.print_exc(file=sys.stderr)
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

        async def loops(vs: VoipStudio) -> None:
            async def worker() -> None:
                while time.time() < end:
                    await call(vs)

            await _all(worker() for _ in range(CONCURRENCY))

        async def gathered(vs: VoipStudio) -> None:
            while time.time() < end:
                await _all(call(vs) for _ in range(10 * CONCURRENCY))

        async def bursts(vs: VoipStudio) -> None:
            # 100 callers busy for 4 s after each 2 s quiet spell, as a web app's users.
            while time.time() < end:
                await asyncio.sleep(2.0)
                busy_until = min(end, time.time() + 4.0)

                async def caller(until: float) -> None:
                    while time.time() < until:
                        await call(vs)

                await _all(caller(busy_until) for _ in range(100))

        shape = {"loops": loops, "gathered": gathered, "bursts": bursts}[spec["shape"]]
        # Calls still in flight at the end are cancelled, not counted: a gathered batch
        # started just before it would otherwise finish (and count) seconds later.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, end - time.time())):
                await _all(shape(vs) for vs in clients)
    finally:
        for vs in clients:
            await vs.aclose()
    return {"ok": ok, "failed": failed, "errors": errors, "points": series.points}


def client(argv: list[str]) -> None:
    """One process of a cell: says "ready" once imported, then reads the start time."""
    spec = json.loads(argv[0])
    print("ready", flush=True)
    spec["start_at"] = float(sys.stdin.readline())
    print(json.dumps(asyncio.run(_run_client(spec))), flush=True)


class _Redis:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.dir = tempfile.mkdtemp()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        binary = shutil.which("redis-server") or "redis-server"
        self.proc = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", self.dir),
            ],
            stdout=subprocess.DEVNULL,
        )
        time.sleep(0.3)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _server(limit: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.ratelimit", "--serve", limit],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    base_url, user_id, api_key = json.loads(proc.stdout.readline())
    return proc, {"base_url": base_url, "user_id": user_id, "api_key": api_key}


def run_cell(cell: Cell, seconds: float, unlimited: bool = False) -> dict[str, Any]:
    """Run ``cell`` for ``seconds``; its row (and time series)."""
    server, spec = _server("none" if unlimited else cell.limit)
    redis = _Redis() if cell.sharing == "redis" else None
    redis_url = redis.url if redis else ""
    if cell.fault == "redis-unreachable" and redis is not None:
        redis.stop()
    restart_at = None
    try:
        spec |= {
            "seconds": seconds,
            "backend": cell.backend,
            "shape": cell.shape,
            "clients": 4 if cell.sharing == "clients" else 1,
            "redis_url": redis_url,
            "unlimited": unlimited,
        }
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.ratelimit", "--client", json.dumps(spec)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(cell.processes)
        ]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        # Every process imported and built its clients: start together, with the
        # server's schedule.
        spec["start_at"] = start_at = time.time() + 1.0
        for proc in (*procs, server):
            assert proc.stdin is not None
            proc.stdin.write(f"{start_at!r}\n")
            proc.stdin.flush()
        if cell.fault == "redis-restart" and redis is not None:
            time.sleep(max(0.0, spec["start_at"] + seconds * 0.25 - time.time()))
            redis.stop()
            time.sleep(seconds * 0.2)
            redis.start()
            restart_at = time.time() - spec["start_at"]
        results = [json.loads(proc.communicate()[0]) for proc in procs]
    finally:
        server.terminate()
        server.wait()
        if redis is not None:
            redis.close()
    return _row(cell, seconds, results, restart_at)


def _row(
    cell: Cell, seconds: float, results: list[dict[str, Any]], restart_at: float | None
) -> dict[str, Any]:
    points = int(seconds / BUCKET) + 1
    first_second = int(1.0 / BUCKET)
    series = [[0, 0, 0] for _ in range(points)]
    for result in results:
        for index, values in result["points"].items():
            if int(index) < points:
                for k in range(3):
                    series[int(index)][k] += values[k]
    ok = sum(r["ok"] for r in results)
    sent = sum(point[0] for point in series)
    shares = [r["ok"] for r in results]
    mean_share = sum(shares) / len(shares)
    spread = max(abs(share - mean_share) for share in shares) / mean_share if mean_share else 0.0
    recovered = None
    limit = 1.0 if cell.limit == "none" else _mean_limit(cell.limit, seconds)
    if restart_at is not None:  # accepted in the 5 s after Redis returns, / limit
        first = int(restart_at / BUCKET)
        window = series[first : first + int(5.0 / BUCKET)]
        recovered = sum(point[1] for point in window) / (len(window) * BUCKET) / limit
    return {
        "cell": cell.name,
        "limit": limit,
        "goodput": ok / seconds,
        "share_429": sum(point[2] for point in series) / max(1, sent),
        # Past the first wave: requests in flight before any 429 (up to max_concurrency
        # per client) meet the server's burst unpaced, as botocore's adaptive mode does.
        "share_429_after_1s": sum(point[2] for point in series[first_second:])
        / max(1, sum(point[0] for point in series[first_second:])),
        "failed": sum(r["failed"] for r in results),
        "errors": sorted({name for r in results for name in r.get("errors", {})}),
        "spread": spread,
        "restart_at": restart_at,
        "recovered_after": recovered,
        "series": series,
    }


def _draw(row: dict[str, Any], limit: str, seconds: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = [index * BUCKET for index in range(len(row["series"]))]
    per_second = 1.0 / BUCKET
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.plot(times, [p[0] * per_second for p in row["series"]], label="sent")
    ax.plot(times, [p[1] * per_second for p in row["series"]], label="accepted")
    ax.plot(times, [p[2] * per_second for p in row["series"]], label="answered 429")
    steps = [
        (float(at or 0), float(rate))
        for rate, _, at in (s.partition("@") for s in limit.split(","))
    ]
    xs, ys = [], []
    for index, (at, rate) in enumerate(steps):
        end = steps[index + 1][0] if index + 1 < len(steps) else seconds
        xs += [at, end]
        ys += [rate, rate]
    ax.plot(xs, ys, "k--", label="server limit")
    if row["restart_at"] is not None:
        ax.axvspan(
            row["restart_at"] - seconds * 0.2, row["restart_at"], color="0.9", label="Redis down"
        )
    ax.set_xlabel("seconds")
    ax.set_ylabel("requests/s")
    ax.set_title(row["cell"])
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    PICTURES.mkdir(parents=True, exist_ok=True)
    path = PICTURES / f"ratelimit-{row['cell']}.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2])
        return 0
    if sys.argv[1:2] == ["--client"]:
        client(sys.argv[2:])
        return 0
    if "-h" in sys.argv or "--help" in sys.argv:
        print(__doc__)
        return 0
    quick = "--quick" in sys.argv
    seconds = 8.0 if quick else 15.0
    only = sys.argv[sys.argv.index("--only") + 1 :] if "--only" in sys.argv else []
    matrix = [
        cell for cell in cells() if (cell.key or not quick) and (not only or cell.name in only)
    ]
    baselines: dict[tuple[str, str], float] = {}
    for backend in ("httpx", "aiohttp"):
        for shape in ("gathered", "loops"):
            probe = Cell("unlimited", "none", backend, shape)
            baselines[backend, shape] = run_cell(probe, 5.0, unlimited=True)["goodput"]
    rows = []
    for cell in matrix:
        row = run_cell(cell, seconds)
        unlimited = baselines.get((cell.backend, cell.shape), row["limit"])
        row["vs_reachable"] = row["goodput"] / min(row["limit"], unlimited)
        rows.append(row)
        print(_line(row), flush=True)
        if cell.key:
            _draw(row, cell.limit, seconds)
    # Written before the web-app half too, so that a failure there keeps the matrix.
    _write(seconds, baselines, matrix, rows)
    web = ratelimit_webapp.rows(seconds, only)  # the web-app cells, with figures of their own
    for row in web:
        rows.append(row)
        print(_line(row), flush=True)
    _write(seconds, baselines, matrix, rows)
    print(f"\n{seconds:.0f} s per cell, max_concurrency {CONCURRENCY}; unlimited req/s:")
    print(", ".join(f"{b} {s} {v:.0f}" for (b, s), v in baselines.items()))
    header = ("goodput/limit", "goodput/reachable", "429 share", "after 1 s", "failed", "spread")
    print(f"| cell | {' | '.join(header)} | 5 s after Redis returns |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(_line(row))
    for row in web:
        print("\n" + ratelimit_webapp.describe(row))
    return 0


def _write(
    seconds: float,
    baselines: dict[tuple[str, str], float],
    matrix: list[Cell],
    rows: list[dict[str, Any]],
) -> None:
    if len(matrix) < len(cells()):
        return  # a subset (--quick, --only) keeps the last whole run's file
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "seconds_per_cell": seconds,
                "unlimited": {f"{b}-{s}": v for (b, s), v in baselines.items()},
                "cells": [asdict(cell) for cell in matrix],
                "rows": rows,
            },
            indent=1,
        )
    )


def _why(row: dict[str, Any]) -> str:
    return f" ({', '.join(row['errors'])})" if row.get("errors") else ""


def _line(row: dict[str, Any]) -> str:
    recovered = row["recovered_after"]
    back = "" if recovered is None else f"{recovered:.2f}"
    after = row.get("share_429_after_1s")
    later = "" if after is None else f"{after:.1%}"
    return (
        f"| {row['cell']} | {row['goodput'] / row['limit']:.2f} | {row.get('vs_reachable', 0):.2f} "
        f"| {row['share_429']:.1%} | {later} | {row['failed']}{_why(row)} | {row['spread']:.0%} "
        f"| {back} |"
    )


if __name__ == "__main__":
    sys.exit(main())
