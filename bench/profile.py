"""Profile one SDK case with pyinstrument: ``python -m bench.profile get|walk|rawget``.

Starts the benchmark server (small sizes), runs the case pinned to CPU 0 under the
profiler and prints the call tree (``--html FILE`` writes the HTML view).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from bench import cases, run


def main(argv: list[str] | None = None) -> int:
    from pyinstrument import Profiler

    p = argparse.ArgumentParser(prog="python -m bench.profile")
    p.add_argument("case", choices=("get", "rawget", "walk", "rawwalk"))
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--page-size", type=int, default=1000)
    p.add_argument("--html", default=None)
    args = p.parse_args(argv)
    client_cpu, server_cpu = run._cpus()
    sizes = {**run.FULL, "cdrs": 20_000, "big": 1_000, "fanout": 1, "fanout_size": 1_000}
    with run.fake_server(sizes, server_cpu) as info:
        if client_cpu is not None:
            os.sched_setaffinity(0, {client_cpu})
        spec: dict[str, Any] = {**info, "loop": "uvloop"}
        if args.case in ("get", "rawget"):
            spec.update(
                case="get",
                variant="sdk" if args.case == "get" else "httpx_fast",
                concurrency=args.concurrency,
                requests=10_000,
                max_seconds=4.0,
                warmup=500,
            )
        else:
            spec.update(
                case="walk",
                variant="sdk" if args.case == "walk" else "httpx",
                page_size=args.page_size,
                items=20_000,
            )
            cases.run(spec)  # warm the server's page cache
        profiler = Profiler(interval=0.0005, async_mode="disabled")
        profiler.start()
        result = cases.run(spec)
        profiler.stop()
    print(result, file=sys.stderr)
    if args.html:
        with open(args.html, "w") as f:
            f.write(profiler.output_html())
    print(profiler.output_text(unicode=False, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(main())
