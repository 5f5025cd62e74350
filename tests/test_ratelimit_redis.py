"""The Redis-shared limiter against a real ``redis-server`` on a free loopback port."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from voipstudio_async import RateLimit, VoipStudio
from voipstudio_async._ratelimit_redis import RedisLimiter
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread


class RedisServer:
    """``redis-server`` on 127.0.0.1, no persistence, stopped by ``stop()``."""

    def __init__(self, tmp: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is missing: `make setup` installs it (setup-services)")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(tmp)),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.wait(10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    try:
        yield server
    finally:
        server.stop()


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.waits.append(delay)


async def test_a_throttle_seen_by_one_client_pauses_the_other(redis_server: RedisServer) -> None:
    limit = RateLimit(redis_url=redis_server.url)
    first, second = Sleeps(), Sleeps()
    a = RedisLimiter(limit, "acct:1", sleep=first)
    b = RedisLimiter(limit, "acct:1", sleep=second)
    other = RedisLimiter(limit, "acct:2", sleep=Sleeps())
    try:
        await a.acquire()
        sent = a.now()
        a.on_success()
        await a.report_throttle(sent, 0.4)
        await b.acquire()  # b never saw a 429 itself
        assert len(second.waits) == 1 and 0.2 < second.waits[0] <= 0.4
        await other.acquire()  # another account is not paused
        assert other.local.throttles == 0
    finally:
        for limiter in (a, b, other):
            await limiter.aclose()


async def test_a_static_cap_is_one_budget_for_every_client(redis_server: RedisServer) -> None:
    limit = RateLimit(requests_per_second=10, burst=1, redis_url=redis_server.url)
    sleeps = Sleeps()
    a = RedisLimiter(limit, "acct:cap", sleep=sleeps)
    b = RedisLimiter(limit, "acct:cap", sleep=sleeps)
    try:
        for limiter in (a, b, a, b, a, b):
            await limiter.acquire()
        # Six sends at 10/s: the five after the first are booked 0.1 s apart, across both.
        assert len(sleeps.waits) == 5
        assert sorted(round(w, 1) for w in sleeps.waits) == [0.1, 0.2, 0.3, 0.4, 0.5]
    finally:
        await a.aclose()
        await b.aclose()


_WORKER = """
import asyncio, sys, time
from voipstudio_async import RateLimit, VoipStudio

async def main() -> None:
    url, base_url, user_id, api_key, start = sys.argv[1:6]
    limit = RateLimit(requests_per_second=20, burst=1, redis_url=url)
    async with VoipStudio(user_id, api_key, base_url=base_url, rate_limit=limit) as vs:
        await asyncio.sleep(float(start) - time.time())  # both start together
        await asyncio.gather(*(vs.cdrs.get(1) for _ in range(20)))
    print(time.time() - float(start))

asyncio.run(main())
"""


def test_two_processes_share_one_limit(redis_server: RedisServer) -> None:
    fake = FakeVoipStudio(seed=6, cdrs=5, monitors=1, voicemessages=1, chats=1, msdrs=1)
    creds = fake.credentials
    with serve_in_thread(fake) as base_url:
        start = str(time.time() + 5.0)  # after both processes have imported the SDK
        args = [redis_server.url, base_url, str(creds.user_id), creds.api_key, start]
        workers = [
            subprocess.Popen([sys.executable, "-c", _WORKER, *args], stdout=subprocess.PIPE)
            for _ in range(2)
        ]
        outputs = [worker.communicate(timeout=60)[0] for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0]
    gets = [r for r in fake.requests if r.path == "/cdrs/1"]
    assert len(gets) == 40 and all(r.status == 200 for r in gets)
    # 40 requests at 20/s for the pair: the last ends about 2 s after the start. Each
    # process alone at 20/s would be done in 1 s.
    assert max(float(output) for output in outputs) >= 1.8


async def test_redis_stopped_mid_run_falls_back_with_one_warning(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeVoipStudio(seed=7, cdrs=5, monitors=1, voicemessages=1, chats=1, msdrs=1)
    creds = fake.credentials
    limit = RateLimit(redis_url=redis_server.url)
    async with VoipStudio(
        creds.user_id,
        creds.api_key,
        base_url=fake.base_url,
        transport=fake.transport(),
        rate_limit=limit,
    ) as vs:
        limiter = vs._requester.limiter
        assert isinstance(limiter, RedisLimiter)
        for _ in range(5):
            await vs.cdrs.get(1)
        assert limiter.shared
        redis_server.stop()
        with caplog.at_level(logging.WARNING, logger="voipstudio_async"):
            results = await asyncio.gather(*(vs.cdrs.get(1) for _ in range(20)))
        assert len(results) == 20  # no request failed
        assert not limiter.shared
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    assert str(redis_server.port) not in warnings[0].getMessage()


def test_the_redis_url_stays_out_of_the_repr() -> None:
    limit = RateLimit(redis_url="redis://:hunter2@127.0.0.1:1/0")
    assert "hunter2" not in repr(limit)


@pytest.mark.parametrize("url", ["http://x", "", "127.0.0.1:6379"])
def test_bad_redis_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="redis_url"):
        RateLimit(redis_url=url)


def _key(**kwargs: object) -> str:
    limit = RateLimit(redis_url="redis://127.0.0.1:1/0", key=kwargs.pop("key", None))  # type: ignore[arg-type]
    limiter = VoipStudio(rate_limit=limit, **kwargs)._requester.limiter  # type: ignore[arg-type]
    assert isinstance(limiter, RedisLimiter)
    return limiter._keys[0]


def test_each_account_gets_its_own_key_without_its_secret() -> None:
    keys = [
        _key(user_id=1, api_key="k1"),
        _key(user_id=2, api_key="k1"),
        _key(token="tok-secret-1"),
        _key(token="tok-secret-2"),
        _key(email="a@b.c", password="pw-secret"),
    ]
    assert len(set(keys)) == len(keys)
    assert _key(user_id=1, api_key="other") == keys[0]  # the account, not the key
    assert not any("secret" in key for key in keys)
    assert _key(user_id=1, api_key="k1", key="team-a") == "team-a"
