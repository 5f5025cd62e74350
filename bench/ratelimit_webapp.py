"""The rate limiter as a web app meets it: ``python -m bench.ratelimit_webapp [--quick]
[--only CELL ...]`` (also run by ``python -m bench.ratelimit``, whose table gets a row
per cell).

Each cell runs against the fake on loopback (its own process: a token bucket of one
second's worth with ``Retry-After``) and one client process of ``USERS`` callers, each
calling ``vs.cdrs.get`` and thinking ``THINK`` s between calls (a web app's users:
refused calls come back later, they do not spin):

* ``web-deadline-<backend>`` (and ``-httpx-c8``: ``max_concurrency=8``): the callers
  are busy ``BUSY`` s after each ``QUIET`` s quiet spell, every call with
  ``deadline=DEADLINE``. Figures: share of calls served, p50/p99 latency of served
  calls, goodput while busy / limit, requests sent, their time in flight, those
  cancelled in flight (the deadline hit after the limiter let them go), and the quota
  spent on cancelled requests ((server admitted - answers the client used) / server
  admitted).
* ``web-retry-after``: continuous demand with ``max_retry_after=MAX_RETRY_AFTER``; at
  ``LONG_AT`` s the fake answers one request 429 with ``Retry-After: LONG_WAIT``.
  Figures: the longest a call was held by the pause (at most ``max_retry_after``), the calls
  refused at once (``RateLimitWaitError``) and how far the wait they carry is from the
  pause's real end, and goodput / limit after the pause.

Rows have the matrix's columns (goodput / limit, 429 share, failures) plus each cell's
own figures and targets; ``bench/results/ratelimit-webapp.json`` keeps them by cell name.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench._child import serve_fake
from voipstudio_async import (
    APITimeoutError,
    RateLimitError,
    RateLimitWaitError,
    VoipStudio,
)
from voipstudio_async._policies import deadline as _deadline
from voipstudio_async.testing import FakeVoipStudio

LIMIT = 100.0  # requests/s the fake allows
USERS = 100
THINK = 0.2  # seconds between one user's calls
CONCURRENCY = 32
QUIET, BUSY = 2.0, 4.0
DEADLINE = 0.5
MAX_RETRY_AFTER = 1.0
LONG_AT, LONG_WAIT = 3.0, 20
RETRY_AFTER_SECONDS = 30.0  # the pause, and 7 s to see the calls come back
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "ratelimit-webapp.json"


@dataclass(frozen=True)
class WebCell:
    name: str
    kind: str  # "deadline" or "retry-after"
    backend: str = "aiohttp"
    concurrency: int = CONCURRENCY  # the client's max_concurrency


def cells() -> list[WebCell]:
    """The web-app cells (every one in ``--quick`` too: they are the issue's key cells)."""
    return [
        WebCell("web-deadline-aiohttp", "deadline", "aiohttp"),
        WebCell("web-deadline-httpx", "deadline", "httpx"),
        # The default backend with a narrower gate: fewer requests share its CPU.
        WebCell("web-deadline-httpx-c8", "deadline", "httpx", 8),
        WebCell("web-retry-after", "retry-after", "aiohttp"),
    ]


def serve(limit: float, long_at: float) -> None:
    """The fake in this process. Stdin: the start time (wall clock), then ``stats`` for
    its counts; ``long_at`` > 0: one 429 with ``Retry-After: LONG_WAIT`` that many
    seconds after the start."""

    fake = FakeVoipStudio(seed=1, cdrs=10, monitors=1, voicemessages=1, chats=1, msdrs=1)
    bucket = fake.rate_limit(limit, retry_after=True)
    assert bucket is not None

    def control() -> None:
        start = float(sys.stdin.readline())
        if long_at > 0:
            time.sleep(max(0.0, start + long_at - time.time()))
            fake.fail("/cdrs/*", 429, times=1, retry_after=LONG_WAIT, message="Slow down")
        for line in sys.stdin:
            if line.strip() == "stats":
                counts = {"admitted": bucket.admitted, "refused": bucket.refused}
                print(json.dumps(counts), flush=True)

    threading.Thread(target=control, daemon=True).start()
    serve_fake(fake)


def _busy(t: float, kind: str) -> bool:
    return kind != "deadline" or t % (QUIET + BUSY) >= QUIET


async def _run_client(spec: dict[str, Any]) -> dict[str, Any]:
    """The cell's callers until it ends; what each call did, and what was sent."""
    start, seconds, kind = spec["start_at"], spec["seconds"], spec["kind"]
    end = start + seconds
    served: list[tuple[float, float]] = []  # (finished at, latency)
    refused: list[tuple[float, float, float]] = []  # (at, latency, retry_after)
    server_429: list[tuple[float, float | None]] = []
    timeouts = others = 0
    sent = cancelled = answered = 0
    left_when_cancelled: list[float] = []
    in_flight: list[float] = []  # seconds from send to answer, per answered attempt
    async with VoipStudio(
        spec["user_id"],
        spec["api_key"],
        base_url=spec["base_url"],
        http_backend=spec["backend"],
        max_concurrency=spec["concurrency"],
        max_retry_after=spec["max_retry_after"],
    ) as vs:
        requester = vs._requester
        attempt = requester._attempt

        async def counted(*args: Any) -> Any:
            # Every attempt the limiter let go: sent, then answered or cancelled.
            nonlocal sent, cancelled, answered
            sent += 1
            at = _deadline.current()
            began = time.perf_counter()
            try:
                outcome = await attempt(*args)
                in_flight.append(time.perf_counter() - began)
            except asyncio.CancelledError:
                cancelled += 1
                if at is not None:
                    left_when_cancelled.append(at - time.monotonic())
                raise
            answered += isinstance(outcome, httpx.Response)
            return outcome

        requester._attempt = counted  # type: ignore[method-assign]
        deadline = spec["deadline"]
        await asyncio.sleep(max(0.0, start - time.time()))

        async def user(index: int) -> None:
            nonlocal timeouts, others
            await asyncio.sleep(THINK * index / USERS)  # users do not arrive in lockstep
            while (now := time.time()) < end:
                if not _busy(now - start, kind):
                    await asyncio.sleep(min(0.05, end - now))
                    continue
                began = time.perf_counter()
                try:
                    await vs.cdrs.get(1, deadline=deadline)
                    if time.time() < end:  # a call ending after the cell is not counted
                        served.append((time.time() - start, time.perf_counter() - began))
                except RateLimitWaitError as exc:
                    took = time.perf_counter() - began
                    refused.append((time.time() - start, took, exc.retry_after or 0.0))
                except RateLimitError as exc:
                    server_429.append((time.time() - start, exc.retry_after))
                except APITimeoutError:
                    timeouts += 1
                except Exception:
                    if not others:  # the first unexpected failure, for the log
                        traceback.print_exc(file=sys.stderr)
                    others += 1
                await asyncio.sleep(THINK)

        # Users start no call after the end and every call ends by itself (a deadline or
        # max_retry_after bounds it): a cancelled gather would close the client under
        # calls still running, counted as failures.
        await asyncio.gather(*(user(i) for i in range(USERS)))
    return {
        "served": served,
        "refused": refused,
        "server_429": server_429,
        "timeouts": timeouts,
        "others": others,
        "sent": sent,
        "cancelled": cancelled,
        "answered": answered,
        "left_when_cancelled": left_when_cancelled,
        "in_flight": in_flight,
    }


def _client_main() -> None:
    # The spec (the fake's API key among it) comes on stdin: a command line shows in ps.
    spec = json.loads(sys.stdin.readline())
    print("ready", flush=True)
    spec["start_at"] = float(sys.stdin.readline())
    print(json.dumps(asyncio.run(_run_client(spec))), flush=True)


def _popen(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.ratelimit_webapp", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def run_cell(cell: WebCell, seconds: float) -> dict[str, Any]:
    """Run ``cell`` (``seconds`` for a deadline cell; the retry-after cell runs
    ``RETRY_AFTER_SECONDS``); its row."""
    long_at = LONG_AT if cell.kind == "retry-after" else 0.0
    if cell.kind == "retry-after":
        seconds = RETRY_AFTER_SECONDS
    server = _popen("--serve", str(LIMIT), str(long_at))
    assert server.stdin is not None and server.stdout is not None
    try:
        base_url, user_id, api_key = json.loads(server.stdout.readline())
        spec = {
            "base_url": base_url,
            "user_id": user_id,
            "api_key": api_key,
            "seconds": seconds,
            "kind": cell.kind,
            "backend": cell.backend,
            "concurrency": cell.concurrency,
            "deadline": DEADLINE if cell.kind == "deadline" else None,
            "max_retry_after": MAX_RETRY_AFTER if cell.kind == "retry-after" else 60.0,
        }
        client = _popen("--client")
        assert client.stdin is not None and client.stdout is not None
        client.stdin.write(json.dumps(spec) + "\n")
        client.stdin.flush()
        assert client.stdout.readline().strip() == "ready"
        start_at = time.time() + 1.0
        for proc in (client, server):
            assert proc.stdin is not None
            proc.stdin.write(f"{start_at!r}\n")
            proc.stdin.flush()
        result = json.loads(client.communicate()[0])
        server.stdin.write("stats\n")
        server.stdin.flush()
        counts = json.loads(server.stdout.readline())
    finally:
        server.terminate()
        server.wait()
    return _row(cell, seconds, result, counts)


def _frange(start: float, stop: float, step: float) -> list[float]:
    return [start + i * step for i in range(int((stop - start) / step) + 1)]


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _row(
    cell: WebCell, seconds: float, result: dict[str, Any], counts: dict[str, int]
) -> dict[str, Any]:
    served = [tuple(x) for x in result["served"]]
    refused = [tuple(x) for x in result["refused"]]
    server_429 = result["server_429"]
    calls = len(served) + len(refused) + len(server_429) + result["timeouts"] + result["others"]
    admitted, throttled = counts["admitted"], counts["refused"]
    latencies = [latency for _, latency in served]
    figures: dict[str, Any] = {
        "calls": calls,
        "served_share": len(served) / max(1, calls),
        "p50_ms": _quantile(latencies, 0.5) * 1e3,
        "p99_ms": _quantile(latencies, 0.99) * 1e3,
        "refused_by_limiter": len(refused),
        "server_429_raised": len(server_429),
        "timeouts": result["timeouts"],
        "other_errors": result["others"],
        "sent": result["sent"],
        "cancelled_in_flight": result["cancelled"],
        "cancelled_share": result["cancelled"] / max(1, result["sent"]),
        "median_left_when_cancelled_ms": statistics.median(result["left_when_cancelled"]) * 1e3
        if result["left_when_cancelled"]
        else None,
        "in_flight_p50_ms": _quantile(result["in_flight"], 0.5) * 1e3,
        "in_flight_p99_ms": _quantile(result["in_flight"], 0.99) * 1e3,
        "server_admitted": admitted,
        "quota_on_cancelled": max(0, admitted - result["answered"]) / max(1, admitted),
    }
    targets: list[tuple[str, float, str, float]] = []
    if cell.kind == "deadline":
        # What the server lets through while the callers are busy: the rate, plus the
        # bucket refilled by each quiet spell.
        windows = [
            (at + QUIET, min(at + QUIET + BUSY, seconds))
            for at in _frange(0.0, seconds, QUIET + BUSY)
            if at + QUIET < seconds
        ]
        busy = sum(b - a for a, b in windows)
        allowance = sum(LIMIT * (b - a) + min(LIMIT, LIMIT * QUIET) for a, b in windows)
        figures["goodput_busy_vs_limit"] = len(served) / busy / LIMIT
        figures["served_vs_allowance"] = len(served) / allowance
        targets += [
            (
                "goodput while busy / limit",
                figures["goodput_busy_vs_limit"],
                ">=",
                0.9,
            ),
            ("cancelled in flight / sent", figures["cancelled_share"], "<=", 0.03),
            ("quota spent on cancelled requests", figures["quota_on_cancelled"], "<=", 0.03),
            ("p99 of served calls (s)", figures["p99_ms"] / 1e3, "<=", DEADLINE),
            ("answered 429 / sent", throttled / max(1, admitted + throttled), "<=", 0.03),
            (
                "calls failing otherwise (timeouts, errors)",
                result["timeouts"] + result["others"],
                "<=",
                0,
            ),
        ]
    else:
        long = [at for at, wait in server_429 if wait is not None and wait > MAX_RETRY_AFTER]
        received = long[0] if long else None
        pause_end = None if received is None else received + LONG_WAIT
        # (started, ended) of every call: latencies are measured back from the end.
        spans = [(end - lat, end) for end, lat in served] + [
            (end - lat, end) for end, lat, _ in refused
        ]
        figures["slowest_call_s"] = max((b - a for a, b in spans), default=0.0)
        # How long the pause held any call: at most max_retry_after, then it fails with
        # the wait (calls booked for its end then queue with the others: not counted).
        waited = [
            min(b, pause_end) - max(a, received)
            for a, b in spans
            if received is not None and pause_end is not None and b > received and a < pause_end
        ]
        figures["longest_wait_in_pause_s"] = max(waited, default=0.0)
        off = [abs(at + wait - pause_end) for at, _, wait in refused] if pause_end else []
        figures["wait_error_max_s"] = max(off, default=0.0)
        figures["long_429_at_s"] = received
        after = [at for at, _ in served if pause_end is not None and at >= pause_end]
        span = seconds - pause_end if pause_end is not None else 0.0
        figures["goodput_after_pause_vs_limit"] = len(after) / span / LIMIT if span > 0 else 0.0
        targets += [
            ("the long Retry-After reached the client once", len(long), ">=", 1),
            (
                "longest a call was held by the pause (s)",
                figures["longest_wait_in_pause_s"],
                "<=",
                MAX_RETRY_AFTER + 0.25,
            ),
            (
                "wait on RateLimitWaitError vs the pause's end (s)",
                figures["wait_error_max_s"],
                "<=",
                0.5,
            ),
            ("goodput after the pause / limit", figures["goodput_after_pause_vs_limit"], ">=", 0.9),
            (
                "calls failing otherwise (timeouts, errors)",
                result["timeouts"] + result["others"],
                "<=",
                0,
            ),
        ]
    figures["targets"] = [
        {
            "target": name,
            "value": round(float(value), 3),
            "op": op,
            "threshold": threshold,
            "met": value >= threshold if op == ">=" else value <= threshold,
        }
        for name, value, op, threshold in targets
    ]
    failed = len(refused) + len(server_429) + result["timeouts"] + result["others"]
    return {
        "cell": cell.name,
        "limit": LIMIT,
        "goodput": len(served) / seconds,
        "vs_reachable": len(served) / seconds / LIMIT,
        "share_429": throttled / max(1, admitted + throttled),
        "failed": failed,
        "errors": sorted(
            name
            for name, n in (
                ("RateLimitWaitError", len(refused)),
                ("RateLimitError", len(server_429)),
                ("APITimeoutError", result["timeouts"]),
                ("other", result["others"]),
            )
            if n
        ),
        "spread": 0.0,
        "restart_at": None,
        "recovered_after": None,
        "webapp": figures,
    }


def describe(row: dict[str, Any]) -> str:
    """The cell's own figures and targets, as lines of Markdown."""
    f = row["webapp"]
    left = f["median_left_when_cancelled_ms"]
    lines = [
        f"**{row['cell']}**: {f['calls']:,} calls, {f['served_share']:.0%} served "
        f"(p50 {f['p50_ms']:.0f} ms, p99 {f['p99_ms']:.0f} ms); refused by the limiter "
        f"{f['refused_by_limiter']:,}, server 429 raised {f['server_429_raised']}, "
        f"timeouts {f['timeouts']}, other errors {f['other_errors']}; sent {f['sent']:,}, "
        f"in flight p50/p99 {f['in_flight_p50_ms']:.0f}/{f['in_flight_p99_ms']:.0f} ms, "
        f"cancelled in flight {f['cancelled_in_flight']} ({f['cancelled_share']:.1%}"
        + (f", median {left:.0f} ms left" if left is not None else "")
        + f"); server admitted {f['server_admitted']:,}, quota on cancelled "
        f"{f['quota_on_cancelled']:.1%}",
    ]
    if "served_vs_allowance" in f:
        lines[0] += (
            "; served / the server's allowance while busy (the limit, plus the bucket each "
            f"quiet spell refills) {f['served_vs_allowance']:.2f}"
        )
    if "slowest_call_s" in f:
        lines[0] += f"; slowest call {f['slowest_call_s']:.2f} s (overload queueing included)"
    lines += [
        "",
        "| target | value | goal | met |",
        "|---|---:|---:|:---:|",
    ]
    for t in f["targets"]:
        lines.append(
            f"| {t['target']} | {t['value']:.3g} | {t['op']} {t['threshold']} | "
            f"{'yes' if t['met'] else '**no**'} |"
        )
    return "\n".join(lines) + "\n"


def rows(seconds: float, only: list[str]) -> list[dict[str, Any]]:
    """Every web-app cell named in ``only`` (all when empty), run in turn; written to
    ``RESULTS`` only when every cell ran: the guides quote that file, and a partial run
    would drop the figures of the cells it skipped."""
    out = [run_cell(cell, seconds) for cell in cells() if not only or cell.name in only]
    if not out or only:
        return out
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "seconds_per_cell": seconds,
        "cells": {row["cell"]: row for row in out},  # by name, for the guides' figures
    }
    RESULTS.write_text(json.dumps(report, indent=1) + "\n")
    return out


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        serve(float(sys.argv[2]), float(sys.argv[3]))
        return 0
    if sys.argv[1:2] == ["--client"]:
        _client_main()
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.ratelimit_webapp")
    parser.add_argument("--quick", action="store_true", help="8 s per cell instead of 15")
    parser.add_argument("--only", nargs="+", default=[], metavar="CELL", help="only these cells")
    args = parser.parse_args()
    for row in rows(8.0 if args.quick else 15.0, args.only):
        print(describe(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
