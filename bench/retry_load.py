"""The load a client puts on a server that refuses or fails: ``python -m bench.retry_load``.

Two measurements against the fake on loopback (a process of its own, a fresh one per
case), each client in a fresh process of its own (``bench/_child.py``: the fake's API key
goes on stdin, never on a command line):

* **Rate limit.** The fake enforces ``LIMIT`` requests/s (a bucket of one second's worth)
  with ``Retry-After``; ``CALLS`` GETs by ``CONCURRENCY`` tasks (aiohttp backend,
  ``max_concurrency=CONCURRENCY``): the SDK with its default limiter, the SDK with
  ``rate_limit=None``, and a raw httpx loop that sends each request again after the
  ``Retry-After`` of its 429 (up to ``RAW_ATTEMPTS`` times), as a user would write it.
  Per client: goodput (calls served per second), goodput / limit, the share of requests
  answered 429, failed calls and requests sent (the last two counted by the server).
* **Retry storm.** The fake answers a ``STORM_SHARE`` of requests 503; ``CONCURRENCY``
  tasks call ``get()`` (``max_retries=2``) for ``STORM_SECONDS``: requests sent per
  call with the default ``retry_budget`` and with ``retry_budget=None``.

``TARGETS`` are checked against the run; ``bench/results/retry_load.json`` holds the
rows, the load average (1 minute, sampled per case) and each target met or missed.
Processes across one account are measured by ``python -m bench.ratelimit``'s matrix.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final, NamedTuple

import httpx

from bench._child import dispatch, read_spec, run_child, serve_fake
from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio

LIMIT = 200.0  # requests/s the fake allows in the rate-limit cases
CALLS = 4000
CONCURRENCY = 64
MAX_RETRIES = 2
RAW_ATTEMPTS = 10  # the raw loop gives up somewhere; the SDK waits out at most 10 429s too
STORM_SECONDS = 10.0
STORM_SHARE = 0.5
BACKEND: Final = "aiohttp"
CASE_TIMEOUT = 120.0
RESULTS = Path(__file__).resolve().parent / "results" / "retry_load.json"

# (name, the client, its options): the rate-limit comparison of the errors guide.
LIMITED: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("sdk-default", "sdk", {}),
    ("sdk-unlimited", "sdk", {"rate_limit": None}),
    ("raw-httpx", "raw", {}),
)
# (name, budget): the retry storm.
STORMS = (("budget", "default"), ("no-budget", None))


class Target(NamedTuple):
    label: str
    path: str  # where in the results, dotted
    op: str  # ">=" or "<="
    threshold: float
    spec: str = "g"  # the goal's format spec
    unit: str = ""  # written after the goal


TARGETS = {
    "goodput": Target(
        "SDK default limiter: goodput / limit",
        "limited.sdk-default.vs_limit",
        ">=",
        0.9,
        unit="\N{MULTIPLICATION SIGN}",
    ),
    "answered-429": Target(
        "SDK default limiter: answered 429", "limited.sdk-default.share_429", "<=", 0.03, ".0%"
    ),
    "failed": Target("SDK default limiter: failed calls", "limited.sdk-default.failed", "<=", 0),
    "storm": Target(
        "retry storm, default budget: requests per call", "storm.budget.per_call", "<=", 1.3
    ),
}
_OPS = {">=": "\N{GREATER-THAN OR EQUAL TO}", "<=": "\N{LESS-THAN OR EQUAL TO}"}


def serve(mode: str) -> None:
    """The fake in this process: ``limit`` (``LIMIT``/s with ``Retry-After``) or ``storm``
    (``STORM_SHARE`` of the requests answered 503). Prints its URL and credentials, then
    answers each ``stats`` line on stdin with its counts."""

    fake = FakeVoipStudio(seed=1, cdrs=10, monitors=1, voicemessages=1, chats=1, msdrs=1)
    bucket = fake.rate_limit(LIMIT, retry_after=True) if mode == "limit" else None
    fault = fake.fail("/cdrs/*", 503, probability=STORM_SHARE) if mode == "storm" else None
    seen = [0]

    def count(method: str, path: str) -> None:
        seen[0] += 1

    fake.on_request(count)

    def control() -> None:
        for line in sys.stdin:
            if line.strip() == "stats":
                counts = {
                    "sent": seen[0],
                    "answered_429": bucket.refused if bucket else 0,
                    "answered_503": fault.hits if fault else 0,
                }
                print(json.dumps(counts), flush=True)

    threading.Thread(target=control, daemon=True).start()
    serve_fake(fake)


async def raw_get(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """One GET as a user writes it with plain httpx: on a 429, sleep its ``Retry-After``
    and send again, up to ``RAW_ATTEMPTS`` requests.

    Args:
        client: The httpx client.
        url: The URL to GET.

    Returns:
        The successful response.

    Raises:
        httpx.HTTPStatusError: An error status other than 429, or a 429 on the last attempt.
    """
    for _ in range(RAW_ATTEMPTS - 1):
        response = await client.get(url)
        if response.status_code != 429:
            return response.raise_for_status()
        await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
    return (await client.get(url)).raise_for_status()


async def _workers(
    call: Callable[[], Awaitable[object]], *, calls: int | None, until: float | None
) -> dict[str, Any]:
    """``CONCURRENCY`` tasks running ``call``: ``calls`` in all, or each starting calls
    until the monotonic time ``until`` (those started then finish)."""
    left = calls
    ok = failed = 0
    errors: dict[str, int] = {}

    async def worker() -> None:
        nonlocal left, ok, failed
        while (left is None or left > 0) and (until is None or time.monotonic() < until):
            if left is not None:
                left -= 1
            try:
                await call()
                ok += 1
            except Exception as exc:
                failed += 1
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

    start = time.monotonic()
    async with asyncio.TaskGroup() as group:
        for _ in range(CONCURRENCY):
            group.create_task(worker())
    return {"ok": ok, "failed": failed, "errors": errors, "seconds": time.monotonic() - start}


async def _case(spec: dict[str, Any]) -> dict[str, Any]:
    """A case's calls, in the client's process."""
    calls = spec.get("calls")
    until = time.monotonic() + spec["seconds"] if spec.get("seconds") else None
    if spec["client"] == "raw":
        limits = httpx.Limits(max_connections=CONCURRENCY)
        auth = httpx.BasicAuth(str(spec["user_id"]), spec["api_key"])
        async with httpx.AsyncClient(auth=auth, limits=limits) as client:
            url = f"{spec['base_url']}/cdrs/1"
            return await _workers(lambda: raw_get(client, url), calls=calls, until=until)
    options: dict[str, Any] = {}
    if "rate_limit" in spec:
        options["rate_limit"] = None
    if spec.get("budget", "default") is None:
        options["retry_budget"] = None
    async with VoipStudio(
        spec["user_id"],
        spec["api_key"],
        base_url=spec["base_url"],
        http_backend=BACKEND,
        max_concurrency=CONCURRENCY,
        max_retries=MAX_RETRIES,
        **options,
    ) as vs:
        return await _workers(lambda: vs.cdrs.get(1), calls=calls, until=until)


def client() -> None:
    """A case's client process: its spec on stdin, its result as the last stdout line."""
    print(json.dumps(asyncio.run(_case(read_spec()))), flush=True)


def run_case(mode: str, case: dict[str, Any]) -> dict[str, Any]:
    """``case`` (client and options) against a fresh fake in ``mode``: the client's counts
    with the server's."""
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.retry_load", "--serve", mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdin is not None and server.stdout is not None
        base_url, user_id, api_key = json.loads(server.stdout.readline())
        spec = {"base_url": base_url, "user_id": user_id, "api_key": api_key, **case}
        result = run_child(
            ["bench.retry_load", "--client"], spec, what=f"{mode} case", timeout=CASE_TIMEOUT
        )
        server.stdin.write("stats\n")
        server.stdin.flush()
        result |= json.loads(server.stdout.readline())
    finally:
        server.terminate()
        server.wait()
    result["load"] = os.getloadavg()[0]
    return result


def limited_row(result: dict[str, Any]) -> dict[str, Any]:
    """A rate-limit case's row: its counts, goodput, goodput / ``LIMIT``, share answered 429."""
    goodput = result["ok"] / result["seconds"]
    return result | {
        "goodput": goodput,
        "vs_limit": goodput / LIMIT,
        "share_429": result["answered_429"] / max(1, result["sent"]),
    }


def storm_row(result: dict[str, Any]) -> dict[str, Any]:
    """A storm case's row: its counts, requests sent per call and per second (the callers
    start their next call as soon as one ends, so calls refused a retry come back sooner)."""
    calls = max(1, result["ok"] + result["failed"])
    return result | {
        "per_call": result["sent"] / calls,
        "sent_per_s": result["sent"] / result["seconds"],
    }


def _at(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for key in path.split("."):
        value = value[key]
    return value


def check(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each of ``TARGETS`` against ``data`` (the run's ``limited`` and ``storm`` rows).

    Args:
        data: The results, with ``limited`` and ``storm`` by case name.

    Returns:
        By target key: its label, value, op, threshold, goal as the guide writes it
        (``≥ 0.9`` and a times sign, ``≤ 3%``) and whether it was met.
    """
    out = {}
    for key, target in TARGETS.items():
        value = _at(data, target.path)
        out[key] = {
            "target": target.label,
            "value": value,
            "op": target.op,
            "threshold": target.threshold,
            "goal": f"{_OPS[target.op]} {target.threshold:{target.spec}}{target.unit}",
            "met": value >= target.threshold if target.op == ">=" else value <= target.threshold,
        }
    return out


def verdict(targets: dict[str, dict[str, Any]]) -> str:
    """``met``, or ``missed:`` and the labels of the targets missed.

    Args:
        targets: From ``check``.

    Returns:
        The run's verdict in words.
    """
    missed = [entry["target"] for entry in targets.values() if not entry["met"]]
    return "met" if not missed else "missed: " + "; ".join(missed)


def main() -> int:
    if dispatch(serve, client, __doc__):
        return 0
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    loads = [os.getloadavg()[0]]
    limited = {}
    for name, kind, options in LIMITED:
        limited[name] = limited_row(run_case("limit", {"client": kind, "calls": CALLS, **options}))
        loads.append(limited[name]["load"])
        row = limited[name]
        print(
            f"{name}: goodput {row['goodput']:.0f}/s ({row['vs_limit']:.2f} x limit), "
            f"429 {row['share_429']:.1%}, failed {row['failed']}, sent {row['sent']:,}",
            flush=True,
        )
    storm = {}
    for name, budget in STORMS:
        case = {"client": "sdk", "seconds": STORM_SECONDS, "budget": budget}
        storm[name] = storm_row(run_case("storm", case))
        loads.append(storm[name]["load"])
        row = storm[name]
        print(
            f"storm, {name}: {row['per_call']:.2f} requests per call, {row['sent_per_s']:.0f}/s",
            flush=True,
        )
    data: dict[str, Any] = {
        "when": when,
        "load": {"min": min(loads), "max": max(loads)},
        "setup": {
            "limit": LIMIT,
            "calls": CALLS,
            "concurrency": CONCURRENCY,
            "backend": BACKEND,
            "max_retries": MAX_RETRIES,
            "raw_attempts": RAW_ATTEMPTS,
            "storm_seconds": STORM_SECONDS,
            "storm_share": STORM_SHARE,
        },
        "limited": limited,
        "storm": storm,
    }
    data["targets"] = check(data)
    data["verdict"] = verdict(data["targets"])
    for entry in data["targets"].values():
        print(f"{entry['target']}: {entry['value']:.3g} {'met' if entry['met'] else 'MISSED'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
