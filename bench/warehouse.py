"""The warehouse case of ``make bench``: ``voipstudio sync`` into DuckDB.

1. The first sync of every CDR (100,000) into a new DuckDB file, against the SDK's bare
   ``vs.cdrs.iterate_consistent()`` walk over the same rows: rows/s and their ratio
   (target >= 0.25).
2. 1,000 CDRs are added and the sync runs again with ``lookback=0``: the CDR list
   requests it sent (target <= 2) and its wall time.

The fake runs in its own process (``python -m bench.warehouse serve``, pinned to the
server CPU), which can add rows and count the requests it served; every measured step
runs in a fresh client process (``python -m bench.warehouse case '<json>'``) pinned to
the client CPU. Both sides use the client ``voipstudio sync`` builds
(``VoipStudio.from_env``) on asyncio, where dlt runs its resources. Run by
``bench.run`` (``--only warehouse`` for this case alone).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from bench._child import read_spec, run_child
from voipstudio_async import VoipStudio

ROOT = Path(__file__).resolve().parent.parent
PAGE_SIZE = 5_000
"""The page size ``history_source`` walks with (the API's maximum)."""

RATIO_TARGET = 0.25
REQUESTS_TARGET = 2


# -- the fake, in its own process ----------------------------------------------------------------


def serve(cdrs: int) -> None:
    """Serve a fake on loopback; answer ``insert N`` and ``log`` lines on stdin until EOF."""
    from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

    fake = FakeVoipStudio(seed=0, cdrs=cdrs, monitors=0, voicemessages=0, msdrs=0, chats=0)
    with serve_in_thread(fake) as base_url:
        creds = fake.credentials
        print(json.dumps([base_url, creds.user_id, creds.api_key]), flush=True)
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "insert":
                answer: Any = len(fake.insert("cdrs", int(arg)))
            elif command == "log":
                answer = [[r.method, r.path] for r in fake.requests]
                fake.reset_log()
            else:
                answer = f"unknown command {command!r}"
            print(json.dumps(answer), flush=True)


class _Server:
    """The ``serve`` process, spoken to over its stdin and stdout."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._proc = proc
        assert proc.stdout is not None and proc.stdin is not None
        self._out: IO[str] = proc.stdout
        self._in: IO[str] = proc.stdin
        base_url, user_id, api_key = json.loads(self._out.readline())
        self.env = {
            "VOIPSTUDIO_BASE_URL": base_url,
            "VOIPSTUDIO_USER_ID": str(user_id),
            "VOIPSTUDIO_API_KEY": api_key,
        }

    def ask(self, line: str) -> Any:
        self._in.write(line + "\n")
        self._in.flush()
        return json.loads(self._out.readline())


@contextlib.contextmanager
def _server(cdrs: int, cpu: int | None) -> Iterator[_Server]:
    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.warehouse", "serve", str(cdrs)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=pin if cpu is not None and hasattr(os, "sched_setaffinity") else None,
    )
    try:
        yield _Server(proc)
    finally:
        proc.terminate()
        proc.wait(30)


# -- the measured steps, each in a fresh process -------------------------------------------------


async def _walk(env: dict[str, str]) -> int:
    count = 0
    async with VoipStudio.from_env(env) as vs:
        async for _cdr in vs.cdrs.iterate_consistent(page_size=PAGE_SIZE):
            count += 1
    return count


def case(spec: dict[str, Any]) -> dict[str, Any]:
    """``walk``: the bare SDK walk; ``sync``: ``sync()`` of the CDRs into ``spec["db"]``."""
    env: dict[str, str] = spec["env"]
    if spec["step"] == "walk":
        started = time.perf_counter()
        rows = asyncio.run(_walk(env))
        seconds = time.perf_counter() - started
        return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}
    from voipstudio_async.warehouse import parse_destination, sync

    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    started = time.perf_counter()
    report = sync(
        parse_destination(f"duckdb:///{spec['db']}"),
        client_factory=lambda: VoipStudio.from_env(env),
        resources=("cdrs",),
        lookback=timedelta(seconds=spec["lookback_s"]),
        pipelines_dir=spec["pipelines_dir"],
    )
    seconds = time.perf_counter() - started
    rows = report.tables["cdrs"].new + report.tables["cdrs"].updated
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


def _run_case(spec: dict[str, Any], cpu: int | None) -> dict[str, Any]:
    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    pinned = cpu is not None and hasattr(os, "sched_setaffinity")
    args = ["bench.warehouse", "case"]
    what = f"warehouse {spec['step']}"
    return run_child(args, spec, what=what, timeout=1800, preexec_fn=pin if pinned else None)


def _cdr_lists(log: list[list[str]]) -> int:
    return sum(1 for method, path in log if (method, path) == ("GET", "/cdrs"))


def measure(cdrs: int, new: int, client_cpu: int | None, server_cpu: int | None) -> dict[str, Any]:
    """Every step once, on one fake: the walk, the first sync, ``new`` rows, the re-run."""
    with _server(cdrs, server_cpu) as server, tempfile.TemporaryDirectory() as tmp:
        base = {"env": server.env, "db": f"{tmp}/history.duckdb", "pipelines_dir": f"{tmp}/dlt"}
        _run_case({**base, "step": "walk"}, client_cpu)  # the server builds its pages once
        server.ask("log")
        walk = _run_case({**base, "step": "walk"}, client_cpu)
        walk["cdr_lists"] = _cdr_lists(server.ask("log"))
        week = timedelta(days=7).total_seconds()  # the first sync as `voipstudio sync` runs it
        first = _run_case({**base, "step": "sync", "lookback_s": week}, client_cpu)
        first["cdr_lists"] = _cdr_lists(server.ask("log"))
        server.ask(f"insert {new}")
        rerun = _run_case({**base, "step": "sync", "lookback_s": 0}, client_cpu)
        rerun["cdr_lists"] = _cdr_lists(server.ask("log"))
        size = Path(base["db"]).stat().st_size
    for name, result in (("walk", walk), ("first sync", first), ("re-run", rerun)):
        expected = cdrs if name != "re-run" else new
        if result["rows"] != expected:
            raise RuntimeError(f"{name}: {result['rows']} rows, expected {expected}")
    return {
        "cdrs": cdrs,
        "new": new,
        "walk": walk,
        "first": first,
        "rerun": rerun,
        "db_mb": round(size / 1e6, 1),
    }


def checks(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, in ``bench.run``'s form."""
    ratio = results["first"]["rows_per_s"] / results["walk"]["rows_per_s"]
    requests = results["rerun"]["cdr_lists"]
    return [
        {
            "target": "warehouse: first sync into DuckDB / bare iterate_consistent() walk",
            "value": round(ratio, 3),
            "op": ">=",
            "threshold": RATIO_TARGET,
            "met": ratio >= RATIO_TARGET,
        },
        {
            "target": f"warehouse: CDR list requests of a re-run with {results['new']:,} new",
            "value": requests,
            "op": "<=",
            "threshold": REQUESTS_TARGET,
            "met": requests <= REQUESTS_TARGET,
        },
    ]


def render(results: dict[str, Any]) -> list[str]:
    walk, first, rerun = results["walk"], results["first"], results["rerun"]
    return [
        f"**5. Warehouse** (`voipstudio sync` engine into DuckDB, {results['cdrs']:,} CDRs; "
        f"DuckDB file {results['db_mb']} MB)",
        "",
        "| step | rows | seconds | rows/s | CDR list requests |",
        "|---|---:|---:|---:|---:|",
        f"| bare `iterate_consistent()` walk | {walk['rows']:,} | {walk['seconds']:.1f} | "
        f"{walk['rows_per_s']:,.0f} | {walk['cdr_lists']} |",
        f"| first sync | {first['rows']:,} | {first['seconds']:.1f} | "
        f"{first['rows_per_s']:,.0f} | {first['cdr_lists']} |",
        f"| re-run, {results['new']:,} new, `--lookback 0` | {rerun['rows']:,} | "
        f"{rerun['seconds']:.1f} | {rerun['rows_per_s']:,.0f} | {rerun['cdr_lists']} |",
        "",
    ]


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:
        serve(int(argv[1]))
        return 0
    if argv[:1] == ["case"]:
        print(json.dumps(case(read_spec())), flush=True)
        return 0
    raise SystemExit("usage: python -m bench.warehouse serve CDRS | case (the spec on stdin)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
