"""The recipes' programs run as written (docs/guides/recipes.md): ``examples/workers.py``
in worker processes sharing one rate limit through a real Redis, against a fake served on
loopback, and ``examples/fastapi_load.py`` builds the client the recipe describes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from _redis import RedisServer

from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = RedisServer(tmp_path)
    try:
        yield server.url
    finally:
        server.stop()


def test_worker_processes_count_each_day_through_one_shared_limit(
    redis_url: str, tmp_path: Path
) -> None:
    fake = FakeVoipStudio(seed=5, cdrs=3_000, monitors=1, voicemessages=1)
    creds = fake.credentials
    expected = Counter(str(r["calldate"])[:10] for r in fake.records("cdrs"))
    with serve_in_thread(fake) as base_url:
        done = subprocess.run(
            [sys.executable, "examples/workers.py", "2026-08-01", "2026-08-08", "--workers", "3"],
            cwd=ROOT,
            env={
                **os.environ,
                "VOIPSTUDIO_BASE_URL": base_url,
                "VOIPSTUDIO_USER_ID": str(creds.user_id),
                "VOIPSTUDIO_API_KEY": creds.api_key,
                "REDIS_URL": redis_url,
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr  # Redis answered: the limit was shared, not local
    counted = {line.split()[0]: int(line.split()[1]) for line in done.stdout.splitlines()}
    assert counted == {f"2026-08-0{d}": expected[f"2026-08-0{d}"] for d in range(1, 8)}
    assert sum(counted.values()) > 0
    # The processes kept the account's limit in this Redis.
    assert redis.Redis.from_url(redis_url).keys() != []


def test_the_fastapi_load_example_builds_the_client_it_describes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("VOIPSTUDIO_USER_ID", "1")
    monkeypatch.setenv("VOIPSTUDIO_API_KEY", "k")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    from examples import fastapi_load

    client = fastapi_load.make_client()
    options = client._options
    assert (options.http_backend, options.max_concurrency) == ("aiohttp", 64)
    assert (options.deadline, options.max_retries, options.max_retry_after) == (2.0, 1, 2.0)
    assert options.rate_limit.requests_per_second == fastapi_load.ACCOUNT_RATE
    assert options.rate_limit.redis_url == "redis://127.0.0.1:1/0"
