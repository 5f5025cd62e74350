"""The benchmark runner: ``python -m bench [--quick] [--repeats N] [--only CASE ...]``.

1. Starts the fake server (``python -m voipstudio_async.testing``) on 127.0.0.1 in its
   own process, on a free port, pinned to the last CPU; it is stopped on exit.
2. Runs every (case, variant) in a fresh client process (``bench.cases``) pinned to
   CPU 0, ``--repeats`` times, variants interleaved so drift hits all of them alike.
3. Prints a Markdown table (median and spread = (max - min) / median) and writes
   ``bench/results/latest.md`` and ``latest.json`` with the SDK/baseline ratios and
   the targets they are checked against.

The warehouse case (``bench.warehouse``: ``voipstudio sync`` into DuckDB) runs once,
after the others, on a fake of its own that can add rows between its steps.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import warehouse
from bench._child import run_child
from voipstudio_async.testing._server import serve_in_subprocess

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

GET_VARIANTS = ("sdk", "httpx_fastclient", "httpx_fast", "httpx_aiohttp", "httpx", "aiohttp")
VARIANT_NAMES = {
    "sdk": "SDK `vs.cdrs.get()` (fast transport)",
    "httpx_fastclient": "raw `FastAsyncClient` + fast transport (the SDK's stack, no SDK)",
    "httpx_fast": "raw `httpx.AsyncClient` on the SDK's fast transport",
    "httpx_aiohttp": "raw httpx on `httpx_aiohttp.AiohttpTransport`",
    "httpx": "raw httpx, default transport",
    "aiohttp": "raw aiohttp",
}

FULL = {
    "cdrs": 100_000,
    "big": 200_000_000,
    "fanout": 1_000,
    "fanout_size": 200_000,
    "get_requests": 20_000,
    "get_seconds": 3.0,
    "get_warmup": 300,
    "concurrency": (1, 64, 256),
    "walk_items": 100_000,
    "walk_page": 1_000,
    "walk_big_page": 5_000,
    "fanout_concurrency": 32,
    "warehouse_cdrs": 100_000,
    "warehouse_new": 1_000,
    "repeats": 3,
    "download_repeats": 5,  # the 200 MB download is the noisiest case
}
QUICK = {
    **FULL,
    "cdrs": 2_000,
    "big": 5_000_000,
    "fanout": 20,
    "fanout_size": 20_000,
    "get_requests": 200,
    "get_seconds": 0.3,
    "get_warmup": 20,
    "concurrency": (1, 8),
    "walk_items": 2_000,
    "walk_page": 500,
    "walk_big_page": 1_000,
    "warehouse_cdrs": 2_000,
    "warehouse_new": 100,
    "repeats": 1,
    "download_repeats": 1,
}


def _cpus() -> tuple[int | None, int | None]:
    """(client CPU, server CPU): different cores when the OS lets us pin."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return cpus[0], cpus[-1]


@contextlib.contextmanager
def fake_server(sizes: dict[str, Any], cpu: int | None) -> Iterator[dict[str, Any]]:
    """Serve the fake (``python -m voipstudio_async.testing``) until the block exits."""
    recordings = [sizes["big"]] + [sizes["fanout_size"]] * sizes["fanout"]
    args = ["--cdrs", str(sizes["cdrs"]), "--monitors", "10", "--msdrs", "10", "--chats", "1"]
    args += ["--voicemessages", "1"]
    for size in recordings:
        args += ["--big-monitor", str(size)]
    with serve_in_subprocess(args, timeout=120, cpu=cpu) as env:
        added = [int(i) for i in env["BIG_MONITOR_IDS"].split(",")]
        yield {
            "base_url": env["VOIPSTUDIO_BASE_URL"],
            "user_id": int(env["VOIPSTUDIO_USER_ID"]),
            "api_key": env["VOIPSTUDIO_API_KEY"],
            "cdr_ids": list(range(1, min(1000, sizes["cdrs"]) + 1)),  # the fake numbers from 1
            "cdr_count": sizes["cdrs"],
            "big_id": added[0],
            "big_size": sizes["big"],
            "small_ids": added[1:],
            "small_size": sizes["fanout_size"],
        }


def run_case(spec: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    """One case in a fresh, pinned client process."""
    return run_child(
        ["bench.cases"], spec, what=f"case {spec['case']}/{spec['variant']}", timeout=timeout
    )


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every numeric field, plus the spread of each."""
    out: dict[str, Any] = {"runs": runs}
    for key in runs[0]:
        values = [r[key] for r in runs if isinstance(r.get(key), int | float)]
        if len(values) == len(runs):
            median = statistics.median(values)
            out[key] = median
            out[key + "_spread"] = (max(values) - min(values)) / median if median else 0.0
    return out


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(
    info: dict[str, Any], sizes: dict[str, Any], cases: set[str], loop: str, cpu: int | None
) -> dict[str, Any]:
    base = {
        "base_url": info["base_url"],
        "user_id": info["user_id"],
        "api_key": info["api_key"],
        "loop": loop,
        "cpu": cpu,
    }
    plan: list[tuple[str, dict[str, Any]]] = []
    if "get" in cases:
        for c in sizes["concurrency"]:
            for variant in GET_VARIANTS:
                plan.append(
                    (
                        f"get/{variant}/c={c}",
                        {
                            **base,
                            "case": "get",
                            "variant": variant,
                            "concurrency": c,
                            "cdr_ids": info["cdr_ids"],
                            "requests": sizes["get_requests"],
                            "max_seconds": sizes["get_seconds"],
                            "warmup": sizes["get_warmup"],
                        },
                    )
                )
    if "walk" in cases:
        for variant, page, tuned in (
            ("sdk", sizes["walk_page"], False),
            ("httpx", sizes["walk_page"], False),
            ("sdk", sizes["walk_big_page"], False),
            ("httpx", sizes["walk_big_page"], False),
            ("sdk", sizes["walk_page"], True),
            ("httpx", sizes["walk_page"], True),
        ):
            plan.append(
                (
                    f"walk/{variant}/page={page}" + ("/gc-tuned" if tuned else ""),
                    {
                        **base,
                        "case": "walk",
                        "variant": variant,
                        "page_size": page,
                        "items": min(sizes["walk_items"], info["cdr_count"]),
                        "gc_tuned": tuned,
                    },
                )
            )
    if "download" in cases:
        for variant in ("sdk", "httpx"):
            plan.append(
                (
                    f"download/{variant}",
                    {
                        **base,
                        "case": "download",
                        "variant": variant,
                        "big_id": info["big_id"],
                        "big_size": info["big_size"],
                    },
                )
            )
    if "fanout" in cases:
        for variant in ("sdk", "httpx"):
            plan.append(
                (
                    f"fanout/{variant}",
                    {
                        **base,
                        "case": "fanout",
                        "variant": variant,
                        "small_ids": info["small_ids"],
                        "small_size": info["small_size"],
                        "files": sizes["fanout"],
                        "concurrency": sizes["fanout_concurrency"],
                    },
                )
            )
    if "walk" in cases:
        # Let the server build and cache its pages once, outside every measurement.
        warm = dict(plan[[k for k, _ in plan].index(f"walk/httpx/page={sizes['walk_page']}")][1])
        for page in (sizes["walk_page"], sizes["walk_big_page"]):
            run_case({**warm, "page_size": page})
    runs: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in plan}

    def repeats(key: str) -> int:
        if key.startswith("download/"):
            return max(int(sizes["repeats"]), int(sizes["download_repeats"]))
        return int(sizes["repeats"])

    rounds = max(repeats(key) for key, _ in plan) if plan else 0
    for repeat in range(rounds):
        for key, spec in plan:
            if repeat >= repeats(key):
                continue
            started = time.perf_counter()
            runs[key].append(run_case(spec))
            took = time.perf_counter() - started
            _progress(f"[{repeat + 1}/{repeats(key)}] {key}: {took:.1f}s")
    return {key: summarise(value) for key, value in runs.items()}


def _ratio(results: dict[str, Any], a: str, b: str, field: str) -> float | None:
    if a in results and b in results and results[b].get(field):
        return float(results[a][field] / results[b][field])
    return None


def ratios(results: dict[str, Any], sizes: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target as (name, value, threshold, met)."""
    checks: list[dict[str, Any]] = []

    def check(name: str, value: float | None, op: str, threshold: float) -> None:
        if value is None:
            return
        met = value >= threshold if op == ">=" else value <= threshold
        checks.append(
            {"target": name, "value": round(value, 3), "op": op, "threshold": threshold, "met": met}
        )

    concurrencies = sizes["concurrency"]
    mid = 64 if 64 in concurrencies else concurrencies[-1]
    high = 256 if 256 in concurrencies else concurrencies[-1]
    for baseline, label, threshold in (
        ("httpx_fast", "raw httpx on the same (fast) transport", 0.9),
        ("httpx_fastclient", "the SDK's own client stack used raw (SDK overhead)", 0.9),
        ("httpx_aiohttp", "raw httpx on httpx_aiohttp.AiohttpTransport", 0.9),
        ("httpx", "raw httpx default", 5.0),
    ):
        check(
            f"GET c={mid}: SDK / {label}",
            _ratio(results, f"get/sdk/c={mid}", f"get/{baseline}/c={mid}", "rps"),
            ">=",
            threshold,
        )
    check(
        f"GET c={mid}: SDK req/s / raw aiohttp req/s",
        _ratio(results, f"get/sdk/c={mid}", f"get/aiohttp/c={mid}", "rps"),
        ">=",
        0.5,
    )
    check(
        f"GET c={mid}: SDK CPU per request / raw aiohttp's",
        _ratio(results, f"get/sdk/c={mid}", f"get/aiohttp/c={mid}", "cpu_ms_per_request"),
        "<=",
        2.0,
    )
    check(
        f"GET: SDK c={high} / SDK c={mid}",
        _ratio(results, f"get/sdk/c={high}", f"get/sdk/c={mid}", "rps"),
        ">=",
        0.8,
    )
    key = f"get/sdk/c={high}"
    if key in results:
        check(f"GET c={high}: SDK p99 (s)", results[key]["p99_ms"] / 1e3, "<=", 0.5)
    for page, goal in ((sizes["walk_page"], 1.5), (sizes["walk_big_page"], 1.0)):
        check(
            f"walk ({page}/page): SDK / naive raw-httpx loop",
            _ratio(results, f"walk/sdk/page={page}", f"walk/httpx/page={page}", "items_per_s"),
            ">=",
            goal,
        )
        check(
            f"walk ({page}/page): SDK worst loop stall / naive loop's",
            _ratio(results, f"walk/sdk/page={page}", f"walk/httpx/page={page}", "stall_max_ms"),
            "<=",
            1.0,
        )
    page = sizes["walk_page"]
    check(
        f"walk ({page}/page), both sides GC tuned: SDK / naive loop (informative)",
        _ratio(
            results,
            f"walk/sdk/page={page}/gc-tuned",
            f"walk/httpx/page={page}/gc-tuned",
            "items_per_s",
        ),
        ">=",
        1.5,
    )
    check(
        "download: SDK / raw httpx stream()",
        _ratio(results, "download/sdk", "download/httpx", "mb_per_s"),
        ">=",
        0.95,
    )
    if "download/sdk" in results:
        check("download: SDK RSS growth (MB)", results["download/sdk"]["rss_growth_mb"], "<=", 16.0)
    check(
        "fan-out: SDK download_many / raw gather",
        _ratio(results, "fanout/sdk", "fanout/httpx", "files_per_s"),
        ">=",
        0.9,
    )
    return checks


def _fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _cell(result: dict[str, Any], field: str, digits: int = 0) -> str:
    spread = result.get(field + "_spread", 0.0)
    text = _fmt(result[field], digits)
    return f"{text} (±{spread * 50:.0f}%)" if spread >= 0.1 else text


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        kb = int(f.readline().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    versions = {}
    for name in ("httpx", "httpcore", "aiohttp", "httpx-aiohttp", "orjson", "uvloop", "uvicorn"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[name] = version(name)
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
    }


def render(report: dict[str, Any]) -> str:
    results, sizes, env = report["results"], report["sizes"], report["machine"]
    lines = [
        f"Run {report['when']} on {env['cpu']} ({env['cpus']} CPUs, {env['memory']}), "
        f"{env['os']}, Python {env['python']}, loop {report['loop']}; "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items())
        + f". Client pinned to CPU {report['client_cpu']}, server to CPU {report['server_cpu']}; "
        f"median of {sizes['repeats']} runs, (±x%) = half the max-min spread when ≥ 5%.",
        "",
    ]
    conc = sizes["concurrency"]
    if any(k.startswith("get/") for k in results):
        lines += [
            "**1. Small GET** (`/cdrs/{id}`, JSON decoded): requests/s, p50/p99 ms, "
            "client CPU ms per request",
            "",
            "| client | "
            + " | ".join(f"c={c} req/s | p50/p99 ms | CPU ms/req" for c in conc)
            + " |",
            "|---|" + "---:|---:|---:|" * len(conc),
        ]
        for variant in GET_VARIANTS:
            cells = []
            for c in conc:
                r = results.get(f"get/{variant}/c={c}")
                if r is None:
                    cells += ["", "", ""]
                    continue
                cells += [
                    _cell(r, "rps"),
                    f"{r['p50_ms']:.2f} / {r['p99_ms']:.1f}",
                    f"{r['cpu_ms_per_request']:.3f}",
                ]
            lines.append(f"| {VARIANT_NAMES[variant]} | " + " | ".join(cells) + " |")
        lines.append("")
    walks = [k for k in results if k.startswith("walk/")]
    if walks:
        lines += [
            f"**2. Walk** ({sizes['walk_items']:,} CDRs): items/s and the worst event-loop stall "
            "(lateness of a 1 ms ticker task)",
            "",
            "| client | page size | items/s | worst stall ms | p99 stall ms |",
            "|---|---:|---:|---:|---:|",
        ]
        for key in walks:
            _, variant, page, *tuned = key.split("/")
            name = (
                "SDK `vs.cdrs.iterate()`"
                if variant == "sdk"
                else "naive raw-httpx page loop + json.loads"
            )
            if tuned:
                name += ", GC tuned (`gc.freeze()`, `gc.set_threshold(10_000, 10, 10)`)"
            r = results[key]
            lines.append(
                f"| {name} | {page.split('=')[1]} | {_cell(r, 'items_per_s')} | "
                f"{r['stall_max_ms']:.1f} | {r['stall_p99_ms']:.1f} |"
            )
        lines.append("")
    if "download/sdk" in results:
        lines += [
            f"**3. Download** (one {sizes['big'] / 1e6:,.0f} MB recording to a file, "
            f"fresh process each, median of "
            f"{max(sizes['repeats'], sizes.get('download_repeats', 0))} runs)",
            "",
            "| client | MB/s | peak RSS growth MB |",
            "|---|---:|---:|",
        ]
        for variant, name in (
            ("sdk", "SDK download (atomic file, sha256)"),
            ("httpx", "raw httpx `stream()` + `aiter_raw()`"),
        ):
            r = results[f"download/{variant}"]
            lines.append(f"| {name} | {_cell(r, 'mb_per_s')} | {r['rss_growth_mb']:.1f} |")
        lines.append("")
    if "fanout/sdk" in results:
        lines += [
            f"**4. Fan-out** ({sizes['fanout']:,} recordings of "
            f"{sizes['fanout_size'] / 1e3:,.0f} KB, concurrency {sizes['fanout_concurrency']})",
            "",
            "| client | files/s |",
            "|---|---:|",
        ]
        for variant, name in (
            ("sdk", "SDK `download_many()`"),
            ("httpx", "raw httpx + `asyncio.gather` + semaphore"),
        ):
            lines.append(f"| {name} | {_cell(results[f'fanout/{variant}'], 'files_per_s')} |")
        lines.append("")
    if "warehouse" in results:
        lines += warehouse.render(results["warehouse"])
    if report["targets"]:
        lines += [
            "**Targets** (ratios from this run)",
            "",
            "| target | value | goal | met |",
            "|---|---:|---:|:---:|",
        ]
        for t in report["targets"]:
            lines.append(
                f"| {t['target']} | {t['value']:.2f} | {t['op']} {t['threshold']} | "
                f"{'yes' if t['met'] else '**no**'} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (a smoke run)")
    p.add_argument("--repeats", type=int, default=None, help="runs per case (default 3)")
    p.add_argument(
        "--only",
        nargs="+",
        choices=("get", "walk", "download", "fanout", "warehouse"),
        default=("get", "walk", "download", "fanout", "warehouse"),
    )
    p.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    p.add_argument("--out", type=Path, default=RESULTS, help="directory for latest.md/.json")
    args = p.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    if args.repeats is not None:
        sizes["repeats"] = max(1, args.repeats)
    client_cpu, server_cpu = _cpus()
    started = time.perf_counter()
    results: dict[str, Any] = {}
    if set(args.only) - {"warehouse"}:
        with fake_server(sizes, server_cpu) as info:
            results = measure(info, sizes, set(args.only), args.loop, client_cpu)
    if "warehouse" in args.only:
        _progress("warehouse: walk, first sync, re-run (once each)")
        results["warehouse"] = warehouse.measure(
            sizes["warehouse_cdrs"], sizes["warehouse_new"], client_cpu, server_cpu
        )
    report = {
        "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick,
        "loop": args.loop,
        "client_cpu": client_cpu,
        "server_cpu": server_cpu,
        "machine": machine(),
        "sizes": {k: list(v) if isinstance(v, tuple) else v for k, v in sizes.items()},
        "results": results,
        "targets": ratios(results, sizes)
        + (warehouse.checks(results["warehouse"]) if "warehouse" in results else []),
        "seconds": round(time.perf_counter() - started, 1),
    }
    table = render(report)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.md").write_text(table + "\n")
    (args.out / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    _progress(f"wrote {args.out / 'latest.md'} and latest.json in {report['seconds']}s")
    return 0
