"""N worker processes sharing one account: each walks some days of CDRs, and
every process takes its turns from one rate limit kept in Redis, so together
they never send faster than the account allows.

    pip install 'voipstudio-async[redis]'
    export VOIPSTUDIO_USER_ID=... VOIPSTUDIO_API_KEY=...
    export REDIS_URL=redis://127.0.0.1:6379/0
    python examples/workers.py 2026-08-01 2026-09-01 --workers 4
"""

from __future__ import annotations

import argparse
import asyncio
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta

from voipstudio_async import RateLimit, VoipStudio

# The account's rate, shared by all processes (and all hosts using this Redis).
ACCOUNT_RATE = 40.0


async def count_calls(day: date) -> tuple[date, int, int]:
    """The number of CDRs of one day, and how many were answered."""
    redis_url = os.environ.get("REDIS_URL")
    limit = RateLimit(requests_per_second=ACCOUNT_RATE, redis_url=redis_url)
    # A client per process (a client and its connections belong to one loop).
    async with VoipStudio.from_env(rate_limit=limit, max_concurrency=4) as vs:
        calls = answered = 0
        next_day = day + timedelta(days=1)
        period = [("calldate", "gte", day), ("calldate", "lt", next_day)]
        async for cdr in vs.cdrs.iterate_consistent(filter=period):
            calls += 1
            answered += cdr.disposition == "ANSWERED"
        return day, calls, answered


def work(day: date) -> tuple[date, int, int]:
    """What each process runs: one event loop per task."""
    return asyncio.run(count_calls(day))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("since", type=date.fromisoformat)
    parser.add_argument("until", type=date.fromisoformat, help="exclusive")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    span = (args.until - args.since).days
    days = [args.since + timedelta(days=n) for n in range(span)]
    with ProcessPoolExecutor(args.workers) as pool:
        for day, calls, answered in pool.map(work, days):
            print(f"{day}  {calls:6d} calls  {answered:6d} answered")


if __name__ == "__main__":
    main()
