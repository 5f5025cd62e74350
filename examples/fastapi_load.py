"""examples/fastapi_app.py sized for load: the aiohttp backend, a deadline per
call, few and short retries, a pool sized for the workers' concurrency, and one
rate limit shared by every uvicorn worker through Redis.

    pip install 'voipstudio-async[fast,redis]' fastapi uvicorn
    export VOIPSTUDIO_USER_ID=... VOIPSTUDIO_API_KEY=...
    export REDIS_URL=redis://127.0.0.1:6379/0
    uvicorn examples.fastapi_load:app --workers 4

Without ``REDIS_URL`` each worker keeps its own limit (then divide the rate by
the number of workers).
"""

from __future__ import annotations

import os

from examples.fastapi_app import create_app
from voipstudio_async import RateLimit, VoipStudio

# The account's share for this application, in requests per second, for all
# workers together: below the rate at which VoIPstudio starts answering 429.
ACCOUNT_RATE = 95.0


def make_client() -> VoipStudio:
    """The one client of a worker process, built when the application starts."""
    return VoipStudio.from_env(
        # aiohttp (the `fast` extra) serves several times the requests of
        # httpx's default pool under concurrency, at a fraction of the tail
        # latency.
        http_backend="aiohttp",
        # Connections per worker: the requests one worker has in flight at once.
        max_concurrency=64,
        # A handler answers within about 2 s: a call that cannot end by then
        # raises APITimeoutError (504); RateLimitWaitError (503) if its turn
        # comes later.
        deadline=2.0,
        # One quick retry of a failed read, no long Retry-After wait.
        max_retries=1,
        max_retry_after=2.0,
        # One limit for the account across workers (and hosts) on this Redis.
        rate_limit=RateLimit(
            requests_per_second=ACCOUNT_RATE,
            redis_url=os.environ.get("REDIS_URL"),
        ),
    )


app = create_app(make_client)
