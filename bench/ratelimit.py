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
reachable (min(limit, unlimited rate); for the bursts cell what the server admits while
the callers are busy), share of requests answered 429, failed calls, per-process spread
(largest deviation from the mean share), for the Redis restart the accepted rate in the
5 s after Redis returns / limit, the 1-minute load average at the cell's end, and
``meets``: each of ``TARGETS`` that applies to the cell, met or not. A whole run (not
``--quick`` or ``--only``) writes ``bench/results/ratelimit.json`` (the rows, and
``by_cell`` without their time series for the guides' figures) and
``bench/results/ratelimit.md`` (the table the performance guide includes); a picture per
key cell (sent, accepted and 429 per 0.5 s against the server's limit) goes to
``docs/guides/img/ratelimit-<cell>.png``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from bench import ratelimit_webapp
from bench._child import dispatch, serve_fake
from voipstudio_async import RateLimit, VoipStudio
from voipstudio_async.testing import FakeVoipStudio

CONCURRENCY = 32
BUCKET = 0.5  # seconds per time-series point
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "ratelimit.json"
TABLE = RESULTS.with_suffix(".md")
TIMES = "\N{MULTIPLICATION SIGN}"
QUIET, BUSY = 2.0, 4.0  # the bursts shape: callers busy BUSY s after each QUIET s spell
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
    out.append(replace(restart, name="200-x4-redis-restart-gathered", shape="gathered"))
    out.append(
        Cell("200-x4-redis-unreachable", "200", "aiohttp", "loops", 4, "redis", "redis-unreachable")
    )
    out.append(Cell("100-web-bursts", "100", "aiohttp", "bursts", key=True))
    return out


@dataclass(frozen=True)
class Target:
    """One of issue 21's targets per cell: ``row[field] op threshold`` where it applies."""

    name: str  # the key in a row's ``meets`` and the file's ``targets``
    label: str  # in the table's verdicts
    field: str
    op: str  # ">=" or "<="
    threshold: float
    applies: Callable[[Cell], bool]
    where: str  # what it is measured against and where it applies, in words


def _changing(cell: Cell) -> bool:
    return "," in cell.limit


TARGETS = (
    Target(
        "goodput",
        "goodput",
        "vs_reachable",
        ">=",
        0.9,
        lambda cell: not _changing(cell),
        "of the reachable rate, where the limit is fixed",
    ),
    Target(
        "goodput-changing",
        "goodput",
        "vs_reachable",
        ">=",
        0.85,
        _changing,
        "of the mean limit, where it changes",
    ),
    Target(
        "answered-429",
        "answered 429",
        "share_429",
        "<=",
        0.03,
        lambda cell: True,
        "of the requests",
    ),
    Target("failed", "failed calls", "failed", "<=", 0, lambda cell: True, "in every cell"),
    Target(
        "spread",
        "spread",
        "spread",
        "<=",
        0.25,
        lambda cell: cell.processes > 1,
        "for several processes: the largest deviation of one from the mean share",
    ),
    Target(
        "redis-return",
        "5 s after Redis returns",
        "recovered_after",
        ">=",
        0.9,
        lambda cell: cell.fault == "redis-restart",
        "of the limit, accepted",
    ),
)


def meets(cell: Cell, row: dict[str, Any]) -> dict[str, bool]:
    """Each target of ``TARGETS`` that applies to ``cell``: met by ``row`` or not."""
    out = {}
    for target in TARGETS:
        if target.applies(cell):
            value = row[target.field]
            if value is None:  # not measured (a restart cell whose Redis never returned)
                out[target.name] = False
            elif target.op == ">=":
                out[target.name] = value >= target.threshold
            else:
                out[target.name] = value <= target.threshold
    return out


_OPS = {">=": "≥", "<=": "≤"}


def goal(target: Target) -> str:
    """``target``'s goal as the table writes it: a ratio ``≥ 0.9`` and a times sign, a share
    ``≤ 3%``."""
    op = _OPS[target.op]
    if target.field in ("share_429", "spread"):
        return f"{op} {target.threshold:.0%}"
    if target.field == "failed":
        return f"{target.threshold:g}"
    return f"{op} {target.threshold:g}{TIMES}"


def words(cell: Cell) -> str:
    """``cell`` as the performance guide's table names it."""
    limit = " → ".join(rate.partition("@")[0] for rate in cell.limit.split(",")) + "/s"
    parts = [limit]
    if cell.processes == 1 and cell.sharing == "own" and cell.shape != "bursts":
        parts.append(cell.backend)  # the backend axis; the other cells use aiohttp
    if cell.sharing == "clients":
        parts.append("4 clients in one process")
    elif cell.processes > 1:
        limiter = {"own": "own limiters", "redis": "one Redis"}[cell.sharing]
        parts.append(f"{cell.processes} processes, {limiter}")
    fault = {
        "redis-restart": "Redis killed and restarted",
        "redis-unreachable": "Redis unreachable from the start",
    }
    if cell.fault:
        parts.append(fault[cell.fault])
    shape = {
        "gathered": "gathered",
        "loops": "worker loops",
        "bursts": f"web app: 100 callers busy {BUSY:g} s after {QUIET:g} s quiet",
    }
    parts.append(shape[cell.shape])
    return ", ".join(parts)


def _busy_windows(seconds: float) -> list[tuple[float, float]]:
    """(start, end) of each busy spell of the bursts shape within ``seconds``."""
    period = QUIET + BUSY
    return [
        (at + QUIET, min(at + period, seconds))
        for at in (i * period for i in range(int(seconds / period) + 1))
        if at + QUIET < seconds
    ]


def reachable(cell: Cell, seconds: float, unlimited: float) -> float:
    """The rate the cell's calls can reach: min(limit, the client's unlimited rate); for
    the bursts shape, what the server admits while callers are busy (the limit, plus the
    one-second bucket each quiet spell refills), over the whole cell."""
    limit = _mean_limit(cell.limit, seconds)
    if cell.shape == "bursts":
        return sum(limit * (end - start) + limit for start, end in _busy_windows(seconds)) / seconds
    return min(limit, unlimited)


def finish(cell: Cell, row: dict[str, Any], seconds: float, unlimited: float) -> dict[str, Any]:
    """``row`` (from ``_row``, updated in place) with goodput / reachable, the share
    answered 429 past the first second of requests and ``meets``, each computed from
    the row's own figures and series (and ``unlimited``, the run's baseline for the
    cell's client)."""
    series = row["series"]
    # Past the first wave: requests in flight before any 429 (up to max_concurrency per
    # client) meet the server's burst unpaced, as botocore's adaptive mode does. Counted
    # from the first request, not the cell's start: on a loaded machine 4 processes
    # sent their first one up to 2.5 s late.
    first = next((index for index, point in enumerate(series) if point[0]), 0)
    later = series[first + int(1.0 / BUCKET) :]
    row["vs_reachable"] = row["goodput"] / reachable(cell, seconds, unlimited)
    row["share_429_after_1s"] = sum(p[2] for p in later) / max(1, sum(p[0] for p in later))
    row["meets"] = meets(cell, row)
    return row


def serve(limit: str) -> None:
    """The fake in this process, limited as ``limit`` says (a rate, or a schedule whose
    times count from the wall-clock start time the bench writes to stdin)."""
    from voipstudio_async.testing._ratelimit import parse_schedule

    fake = FakeVoipStudio(seed=1, cdrs=10, monitors=1, voicemessages=1, chats=1, msdrs=1)
    if limit != "none":
        steps = parse_schedule(limit)
        server_limit = fake.rate_limit(steps[0][1], retry_after=True)
        if server_limit is not None and len(steps) > 1:

            def follow_from_start() -> None:
                delay = max(0.0, float(sys.stdin.readline()) - time.time())
                server_limit.follow([(at + delay, rate) for at, rate in steps])

            threading.Thread(target=follow_from_start, daemon=True).start()
    serve_fake(fake)


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
            # 100 callers busy after each quiet spell, as a web app's users.
            while time.time() < end:
                await asyncio.sleep(QUIET)
                busy_until = min(end, time.time() + BUSY)

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


def client() -> None:
    """One process of a cell: reads its spec, says "ready", then reads the start time."""
    # The spec (the fake's API key among it) comes on stdin: a command line shows in ps.
    spec = json.loads(sys.stdin.readline())
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
                [sys.executable, "-m", "bench.ratelimit", "--client"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(cell.processes)
        ]
        for proc in procs:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(spec) + "\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "ready"
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
        "failed": sum(r["failed"] for r in results),
        "errors": sorted({name for r in results for name in r.get("errors", {})}),
        "spread": spread,
        "restart_at": restart_at,
        "recovered_after": recovered,
        "load": os.getloadavg()[0],
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
    if dispatch(serve, client, __doc__):
        return 0
    quick = "--quick" in sys.argv
    seconds = 8.0 if quick else 15.0
    only = sys.argv[sys.argv.index("--only") + 1 :] if "--only" in sys.argv else []
    matrix = [
        cell for cell in cells() if (cell.key or not quick) and (not only or cell.name in only)
    ]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    loads = [os.getloadavg()[0]]
    baselines: dict[tuple[str, str], float] = {}
    for backend in ("httpx", "aiohttp"):
        for shape in ("gathered", "loops"):
            probe = Cell("unlimited", "none", backend, shape)
            baselines[backend, shape] = run_cell(probe, 5.0, unlimited=True)["goodput"]
    rows = []
    for cell in matrix:
        unlimited = baselines.get((cell.backend, cell.shape), float("inf"))
        row = finish(cell, run_cell(cell, seconds), seconds, unlimited)
        loads.append(row["load"])
        rows.append(row)
        print(_line(row), flush=True)
        if cell.key:
            _draw(row, cell.limit, seconds)
    whole = len(matrix) == len(cells())  # a subset (--quick, --only) keeps the last run's
    if whole:  # written before the web-app half too, so that a failure there keeps the matrix
        write(report(when, loads, seconds, baselines, matrix, rows))
    web = ratelimit_webapp.rows(seconds, only)  # the web-app cells, with figures of their own
    for row in web:
        row["meets"] = {t["target"]: t["met"] for t in row["webapp"]["targets"]}
        rows.append(row)
        print(_line(row), flush=True)
    loads.append(os.getloadavg()[0])
    if whole:
        write(report(when, loads, seconds, baselines, matrix, rows))
    print("\n" + table(report(when, loads, seconds, baselines, matrix, rows)))
    for row in web:
        print("\n" + ratelimit_webapp.describe(row))
    return 0


def report(
    when: str,
    loads: list[float],
    seconds: float,
    baselines: dict[tuple[str, str], float],
    matrix: list[Cell],
    rows: list[dict[str, Any]],
) -> dict[str, Any]:
    """What ``write`` writes: the run's rows, and ``by_cell`` (a row without its time
    series, by cell name) for the guides' ``{{ bench: ratelimit.json:by_cell.… }}``."""
    return {
        "when": when,
        "load": {"min": min(loads), "max": max(loads)},  # 1-minute average, sampled per cell
        "seconds_per_cell": seconds,
        "max_concurrency": CONCURRENCY,
        "unlimited": {f"{b}-{s}": v for (b, s), v in baselines.items()},
        "targets": {
            t.name: {
                "field": t.field,
                "op": t.op,
                "threshold": t.threshold,
                "goal": goal(t),
                "cells": t.where,
            }
            for t in TARGETS
        },
        "cells": [asdict(cell) for cell in matrix],
        "rows": rows,
        "by_cell": {row["cell"]: {k: v for k, v in row.items() if k != "series"} for row in rows},
    }


def write(data: dict[str, Any]) -> None:
    """``data`` (from ``report``) to ``RESULTS``, and its table to ``TABLE``."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")
    TABLE.write_text(table(data))


def _verdict(row: dict[str, Any], labels: dict[str, str]) -> str:
    missed = [labels.get(name, name) for name, met in row["meets"].items() if not met]
    return "met" if not missed else "**missed**: " + ", ".join(missed)


def _web_words(name: str) -> str:
    cell = next(c for c in ratelimit_webapp.cells() if c.name == name)
    limit = f"{ratelimit_webapp.LIMIT:g}/s, web app, {cell.backend}"
    if cell.concurrency != CONCURRENCY:
        limit += f", `max_concurrency={cell.concurrency}`"
    if cell.kind == "deadline":
        return f"{limit}, `deadline={ratelimit_webapp.DEADLINE:g}`, bursts"
    return (
        f"{limit}, one `Retry-After: {ratelimit_webapp.LONG_WAIT}`, "
        f"`max_retry_after={ratelimit_webapp.MAX_RETRY_AFTER:g}`"
    )


def table(data: dict[str, Any]) -> str:
    """The performance guide's rate-limit table (Markdown) of one run's ``data``."""
    load = data["load"]
    labels = {t.name: t.label for t in TARGETS}
    unlimited = ", ".join(
        f"{name.replace('-', ' ')} {rate:,.0f}/s" for name, rate in data["unlimited"].items()
    )
    goals = "; ".join(
        f"{labels[name]} {t['goal']} {t['cells']}" for name, t in data["targets"].items()
    )
    lines = [
        f"Run {data['when']}, {data['seconds_per_cell']:g} s per cell, "
        f"`max_concurrency={data['max_concurrency']}`, load average (1 minute) "
        f"{load['min']:.1f} to {load['max']:.1f}; the same clients with no limit in the same "
        f"run: {unlimited}. Cells off the backend axis use the aiohttp backend. Targets: "
        f"{goals}.",
        "",
        "| cell | goodput / reachable | answered 429 | after 1 s | failed | spread "
        "| 5 s after Redis returns | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    by_name = {cell["name"]: Cell(**cell) for cell in data["cells"]}
    web = []
    for row in data["rows"]:
        cell = by_name.get(row["cell"])
        if cell is None:
            web.append(row)
            continue
        spread = f"{row['spread']:.0%}" if cell.processes > 1 else ""
        back = row["recovered_after"]
        lines.append(
            f"| {words(cell)} | {row['vs_reachable']:.2f} | {row['share_429']:.1%} "
            f"| {row['share_429_after_1s']:.1%} | {row['failed']}{_why(row)} | {spread} "
            f"| {'' if back is None else f'{back:.2f}'} | {_verdict(row, labels)} |"
        )
    if web:
        lines += [
            "",
            "The web-app cells of `bench/ratelimit_webapp.py`, against their own targets:",
            "",
            "| cell | verdict |",
            "|---|---|",
        ]
        for row in web:
            missed = [
                f"{t['target']} ({t['value']:g}, goal {_OPS[t['op']]} {t['threshold']:g})"
                for t in row["webapp"]["targets"]
                if not t["met"]
            ]
            verdict = "met" if not missed else "**missed**: " + "; ".join(missed)
            lines.append(f"| {_web_words(row['cell'])} | {verdict} |")
    notes = [data["note"]] if data.get("note") else []
    notes += [
        f"{words(by_name[row['cell']])}: {row['note'].rstrip('.')}."
        for row in data["rows"]
        if "note" in row
    ]
    if notes:
        lines += ["", *(f"* {note}" for note in notes)]
    return "\n".join(lines) + "\n"


def _why(row: dict[str, Any]) -> str:
    return f" ({', '.join(row['errors'])})" if row.get("errors") else ""


def _line(row: dict[str, Any]) -> str:
    """A row as the run's progress shows it."""
    labels = {t.name: t.label for t in TARGETS}
    return (
        f"{row['cell']}: goodput / reachable {row['vs_reachable']:.2f}, answered 429 "
        f"{row['share_429']:.1%}, failed {row['failed']}{_why(row)}, spread {row['spread']:.0%}"
        f": {_verdict(row, labels)}"
    )


if __name__ == "__main__":
    sys.exit(main())
