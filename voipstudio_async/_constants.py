"""Every default of the SDK, in one place (the modules that use them import from here)."""

from datetime import timedelta
from typing import Final

import httpx

# The client (`VoipStudio` and `from_env`).
DEFAULT_BASE_URL: Final = "https://l7api.com/v1.1/voipstudio"
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_RETRIES: Final = 2
DEFAULT_MAX_RETRY_AFTER: Final = 60.0
DEFAULT_MAX_CONCURRENCY: Final = 32
DEFAULT_HTTP_BACKEND: Final = "httpx"
DEFAULT_DEADLINE: Final[float | None] = None
"""No deadline: each call is bounded by its attempts' timeouts and retries alone."""

# Argument checks (`_checks`).
MAX_ID: Final = 2**63 - 1
"""The largest id the API stores (a signed 64-bit integer); a larger one cannot exist."""

# Retries (`_policies/retry`).
RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
# A Retry-After beyond this is a broken header rather than a real instruction.
ABSURD_RETRY_AFTER: Final = 86_400.0

# Responses and errors (`_request/decode`, `_errors`).
MAX_TEXT_BODY: Final = 4096
"""Bytes of a non-JSON error body (an HTML page can be megabytes) an exception keeps."""
MAX_PARSERS: Final = 256
"""Parsers (generated ``from_dict`` methods: a few dozen) whose fast builder is cached."""

# The Requester.
# How much of an error body a stream reads before raising (the rest is discarded).
MAX_ERROR_BODY: Final = 64 * 1024
# httpx refuses a URL, or any one of its components, longer than this (InvalidURL).
MAX_URL_LENGTH: Final = 65_536

# Lists and walks (`resources/_base`).
DEFAULT_LIST_LIMIT: Final = 100
"""``list()``'s page size when none is given."""
DEFAULT_PAGE_SIZE: Final = 1000
"""``iterate()``'s page size: fewer round trips, still far below the API's 5000."""
MAX_PAGE_SIZE: Final = 5000
"""The API's largest ``limit``."""
PREFETCH_PAGES: Final = 2
"""Pages requested ahead of the caller in a page-number walk (when ``total`` is known)."""
YIELD_EVERY: Final = 500
"""Items built (or handed out by a walk) between two yields to the event loop, so a
5,000-item page does not stall other tasks for the whole build (~1 ms per slice)."""

# Bulk engines and `download_many`.
DEFAULT_BULK_CHUNK_ITEMS: Final = 100
"""Items per bulk request: keeps PATCH bodies small and `/monitors/1,2,...` paths short."""
DEFAULT_BULK_CONCURRENCY: Final = 4
"""Chunks (or downloads) in flight at once; the client's own gate still applies."""
MAX_LISTED_PROBLEMS: Final = 10
"""Problems a bulk argument error lists by name; the rest are counted."""

# Downloads.
DEFAULT_DOWNLOAD_CHUNK_BYTES: Final = 256 * 1024
"""Bytes per read/write: large enough for throughput, small enough for flat memory."""
PART_TOKEN_BYTES: Final = 6
"""Random bytes in a ``.part`` file's name (``.<name>.<hex>.part``, 12 hex digits)."""
PART_FILE_MODE: Final = 0o666
"""A ``.part`` file's mode before the umask, as ``open()`` uses (``os.open``'s is 0o777)."""

# The aiohttp backend (`_transports/aiohttp_pool`).
# Bodies up to this size (with a Content-Length) are read in one call inside the
# transport; bigger ones are streamed. Bounded, so memory stays flat for downloads.
EAGER_BODY_LIMIT: Final = 64 * 1024
# aiohttp's per-connection read buffer: bigger buffers mean fewer, larger chunks.
READ_BUFSIZE: Final = 256 * 1024

# Rate limiting (`_policies/ratelimit`): CUBIC after throttling, as TCP and botocore's adaptive.
RATE_CUBIC_BETA: Final = 0.9
"""The send rate after a throttle, as a share of the rate the server was accepting."""
RATE_CUBIC_SCALE: Final = 0.4
"""CUBIC's C (botocore's value): how fast the rate grows back around the last ceiling."""
RATE_FIRST_CUT: Final = 0.5
"""Slow start's first rate, as a share of the successes of the second before the first
429: that second may hold the server's initial burst (a bucket of one second's worth
doubles what a second measures), and slow start doubles back in 0.5 s."""
RATE_MIN: Final = 0.5
"""Requests/s the adaptive rate never goes below."""
RATE_WINDOW: Final = 1.0
"""Seconds of successes counted to measure the rate the server accepts."""
RATE_MIN_WINDOW: Final = 0.1
"""The shortest span an accepted rate is measured over (right after the first success)."""
RATE_SLOW_START_DOUBLING: Final = 0.5
"""After the first throttle the rate doubles every this many seconds until the next."""
RATE_PROBE_AFTER: Final = 0.5
"""Seconds CUBIC probes past its ceiling (where a 429 comes at once when the limit is
still there) before the limit is taken to have gone up and the rate doubles."""
RATE_PROBE_DOUBLING: Final = 0.5
"""Seconds per doubling of the rate from ``RATE_PROBE_AFTER`` past the ceiling until the
next 429 (a raised limit is found in about a second, not CUBIC's cubic climb)."""
RATE_SLOW_START_MAX_DOUBLINGS: Final = 30
"""Doublings slow start counts at most (2**30 is past any server's limit; the cap keeps
the power finite in Python and Lua alike)."""
RATE_RING: Final = 10
"""Success buckets per ``RATE_WINDOW`` in the limiter's state (fixed fields ``b<i>``,
``n<i>``: the state's size does not grow with the run)."""
MAX_THROTTLED_RETRIES: Final = 10
"""429s one call waits out through the shared limiter (not counted in ``max_retries``)."""
RATE_DEADLINE_SEND_SHARE: Final = 0.5
"""The most of a call's remaining time its rate-limit wait may take: a send booked later
leaves too little for the request itself, so the call fails at once instead."""

# Retry budget (`_policies/budget`): retries of failures as a share of recent calls (Envoy's 20%).
DEFAULT_BUDGET_RATIO: Final = 0.2
DEFAULT_BUDGET_WINDOW: Final = 10.0
DEFAULT_BUDGET_FLOOR: Final = 10
"""Retries a window always allows, so a quiet client can still retry."""

# The Redis-shared limiter (`_policies/ratelimit_redis`).
REDIS_TIMEOUT: Final = 2.0
"""Seconds a Redis connect or call may take before the local limiter stands in."""
REDIS_RETRY_AFTER: Final = 1.0
"""Seconds the local limiter stands in before Redis is tried again (so the shared limit
is back within about a second of Redis)."""
REDIS_MAX_CONNECTIONS: Final = 16
"""Redis connections per shared limiter; more concurrent decisions queue for one."""
REDIS_STATE_TTL: Final = 3600
"""Seconds an account's shared state outlives its last update."""

# Warehouse syncs (`warehouse`).
DEFAULT_LOOKBACK: Final = timedelta(days=7)
"""How far back from the newest loaded row a sync re-reads rows to catch changes."""

# Fleets (`fleet`): many accounts on Dask.
FLEET_ACCOUNT_RETRIES: Final = 2
"""Attempts of an account after its first, for failures another attempt may fix."""
FLEET_MAX_RETRIES: Final = 5
"""Each fleet client's retries of a request (as the CLI's: a night's run rides out a bad
minute)."""
FLEET_WAIT_POLL: Final = 0.25
"""Seconds between two looks at the stop flag while ``run_fleet`` waits for accounts."""
FLEET_STOP_POLL: Final = 0.5
"""Seconds between two asks of the scheduler, by a running account, whether the fleet
was stopped."""
FLEET_PROGRESS_EVERY: Final = 1.0
"""Least seconds between two progress events of one account."""

# Object storage (`storage`): S3 through botocore.
S3_PART_SIZE: Final = 8 * 1024 * 1024
"""Bytes per part of a multipart upload (S3's minimum is 5 MiB), and the largest single PUT."""
S3_MAX_ATTEMPTS: Final = 5
"""Attempts of one S3 call, the first included: botocore's ``standard`` retries of
throttling and transient S3 errors, apart from the API's retries and retry budget."""
S3_MIN_CONNECTIONS: Final = 10
"""Connections an S3 client may keep open at least (botocore's default pool)."""
S3_READ_CHUNK_BYTES: Final = 1024 * 1024
"""Bytes per read of an object's body (a manifest, a verifying re-read)."""
S3_MAX_KEY_BYTES: Final = 1024
"""S3's longest key, in UTF-8 bytes."""
S3_NAME_ROOM_BYTES: Final = 100
"""Bytes of ``S3_MAX_KEY_BYTES`` a destination prefix leaves for the names written below it."""
S3_MANIFEST_SAVE_EVERY: Final = 2.0
"""Seconds between saves of an S3 ``manifest.jsonl`` at least (a slow save spaces them out)."""
S3_MANIFEST_SAVE_SHARE: Final = 5
"""Saves of an S3 manifest take at most 1/this of the run, however large it grows."""
