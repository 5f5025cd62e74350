"""The fleet case of ``make bench``: accounts per hour with 1 and 2 Dask workers.

The fake serves ``ACCOUNTS`` accounts from its own process, answering every request after
``LATENCY`` seconds, so an account's archive (CDR export, recordings, voicemails) waits on
the network like a real API's. The same accounts are archived three times, each into a
fresh directory after one warm-up account:

1. one after another in this process (``run_account`` called directly, no Dask);
2. on a ``LocalCluster`` of 1 worker process (1 thread: one account at a time);
3. on a ``LocalCluster`` of 2 worker processes.

Reported: accounts per hour of each, the ratio 2 workers / 1 worker (target >= 1.6), and
Dask's overhead per account (1 worker against the plain loop); then the same with
``SLOW_LATENCY`` per request. Results go to
``bench/results/fleet.json`` and ``fleet.md``. ``python -m bench.fleet [--accounts N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from voipstudio_async.fleet import Account, ArchiveJob, RunSettings, load_accounts, run_account

ROOT = Path(__file__).resolve().parent.parent
ACCOUNTS = 24
LATENCY = 0.05
SLOW_LATENCY = 0.2
"""A second run with a slower API: how the ratio grows as the work waits more."""
RATIO_TARGET = 1.6


def _job(dest: Path) -> ArchiveJob:
    return ArchiveJob(str(dest / "{account}"), datetime(2026, 1, 1), datetime(2027, 1, 1))


def _in_process(accounts: list[Account], dest: Path) -> float:
    settings = RunSettings("bench")
    run_account(accounts[0], _job(dest / "warm"), settings)
    started = time.perf_counter()
    for account in accounts:
        result = run_account(account, _job(dest / "plain"), settings)
        assert result.ok, result.error
    return time.perf_counter() - started


def _on_cluster(accounts: list[Account], dest: Path, workers: int) -> float:
    from distributed import Client, LocalCluster

    from voipstudio_async.fleet import run_fleet

    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        # Each worker imports the SDK and archives one account before the clock starts.
        warm = run_fleet(client, accounts[:workers], _job(dest / f"warm{workers}"))
        assert warm.ok
        started = time.perf_counter()
        report = run_fleet(client, accounts, _job(dest / f"dask{workers}"))
        elapsed = time.perf_counter() - started
    assert report.ok, [r.error for r in report.results if not r.ok]
    return elapsed


def _per_hour(n: int, seconds: float) -> float:
    return n * 3600 / seconds


def measure(n: int, latency: float) -> dict[str, Any]:
    """Run the three cases against a fake of ``n`` accounts; return the numbers."""
    from voipstudio_async.testing import serve_in_subprocess

    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as scratch:
        folder = Path(scratch)
        accounts_file = folder / "accounts.toml"
        args = ["--accounts", str(n), "--latency", str(latency)]
        # The fake on a CPU of its own, as the other cases of make bench pin theirs.
        with serve_in_subprocess([*args, "--accounts-file", str(accounts_file)], cpu=0):
            accounts = load_accounts(accounts_file)
            plain = _in_process(accounts, folder)
            one = _on_cluster(accounts, folder, 1)
            two = _on_cluster(accounts, folder, 2)
    return {
        "accounts": n,
        "latency_s": latency,
        "cpus": os.cpu_count(),
        "plain_s": round(plain, 2),
        "one_worker_s": round(one, 2),
        "two_workers_s": round(two, 2),
        "plain_per_hour": round(_per_hour(n, plain)),
        "one_worker_per_hour": round(_per_hour(n, one)),
        "two_workers_per_hour": round(_per_hour(n, two)),
        "ratio": round(one / two, 2),
        "ratio_target": RATIO_TARGET,
        "dask_overhead_per_account_s": round((one - plain) / n, 3),
    }


def _markdown(r: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"Fleet archive, {r['accounts']} fake accounts, {r['latency_s'] * 1000:.0f} ms per "
            f"request, {r['cpus']} CPUs",
            "",
            "| run | seconds | accounts/hour |",
            "|---|---:|---:|",
            f"| one after another, one process | {r['plain_s']} | {r['plain_per_hour']:,} |",
            f"| Dask, 1 worker | {r['one_worker_s']} | {r['one_worker_per_hour']:,} |",
            f"| Dask, 2 workers | {r['two_workers_s']} | {r['two_workers_per_hour']:,} |",
            "",
            f"2 workers / 1 worker: {r['ratio']}x (target >= {r['ratio_target']}x); Dask "
            f"overhead per account: {r['dask_overhead_per_account_s'] * 1000:.0f} ms",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet")
    parser.add_argument("--accounts", type=int, default=ACCOUNTS)
    parser.add_argument("--latency", type=float, default=LATENCY)
    args = parser.parse_args()
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    runs = [measure(args.accounts, latency) for latency in (args.latency, SLOW_LATENCY)]
    out = ROOT / "bench" / "results"
    (out / "fleet.json").write_text(json.dumps(runs, indent=2) + "\n")
    text = "\n".join(_markdown(results) for results in runs)
    (out / "fleet.md").write_text(text)
    print(text)
    if runs[0]["ratio"] < RATIO_TARGET:
        print(f"MISSED: 2 workers gave {runs[0]['ratio']}x, target {RATIO_TARGET}x")


if __name__ == "__main__":
    main()
