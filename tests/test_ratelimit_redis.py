"""The Redis-shared limiter against a real ``redis-server`` on a free loopback port, and
against a real Redis Cluster of three masters (started once for the module)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio
from _redis import RedisCluster, RedisServer

from voipstudio_async import ClientClosedError, RateLimit, VoipStudio
from voipstudio_async._constants import (
    RATE_SLOW_START_DOUBLING,
    REDIS_RETRY_AFTER,
    REDIS_STATE_TTL,
    REDIS_TIMEOUT,
)
from voipstudio_async._policies.ratelimit_core import FIELDS, LUA
from voipstudio_async._policies.ratelimit_redis import RedisLimiter
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def _cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    with RedisCluster(tmp_path_factory.mktemp("cluster")) as cluster:  # 2-5 s: once a module
        yield cluster


@pytest.fixture
def redis_cluster(_cluster: RedisCluster) -> Iterator[RedisCluster]:
    """The module's cluster, empty, every master up (a test may have stopped one)."""
    _cluster.flush()
    try:
        yield _cluster
    finally:
        stopped = [node for node in _cluster.nodes if not node.running]
        for node in stopped:
            node.start()
        if stopped:
            _cluster.wait_ok()


class Store:
    """Where the shared limit lives: one redis-server, or a Redis Cluster (redis-py's
    cluster client) of which the master serving the account's slot is the one lost, or
    with ``whole`` every node."""

    def __init__(self, target: RedisServer | RedisCluster, *, whole: bool = False) -> None:
        self.target = target
        self.cluster = isinstance(target, RedisCluster)
        self.whole = whole
        self._lost: list[RedisServer] = []

    def limit(self, **options: Any) -> RateLimit:
        return RateLimit(redis_url=self.target.url, redis_cluster=self.cluster, **options)

    def client(self) -> Any:
        if isinstance(self.target, RedisCluster):
            return redis.asyncio.RedisCluster.from_url(self.target.url)
        return redis.asyncio.Redis.from_url(self.target.url)

    def keys(self) -> list[bytes]:
        """Every key stored, on a cluster every master's (KEYS asks one node)."""
        found: list[bytes] = []
        nodes = self.target.nodes if isinstance(self.target, RedisCluster) else [self.target]
        for node in nodes:
            with redis.Redis(port=node.port) as client:
                found += client.keys("*")
        return found

    def node(self, key: str) -> RedisServer:
        """The server holding ``key``."""
        if isinstance(self.target, RedisCluster):
            return self.target.owner(key)
        return self.target

    def lose(self, key: str) -> None:
        """Stop the server holding ``key`` (``whole``: every node of the cluster)."""
        target = self.target
        self._lost = (
            list(target.nodes)
            if self.whole and isinstance(target, RedisCluster)
            else [self.node(key)]
        )
        for node in self._lost:
            node.stop()

    def restore(self) -> None:
        """Start them again, empty, as a restarted Redis without persistence (a cluster
        node keeps its slots: its ``nodes.conf`` survives)."""
        assert self._lost
        for node in self._lost:
            node.start()
        if isinstance(self.target, RedisCluster):
            self.target.wait_ok()  # 2 s: a restarted master meets the others again


@pytest.fixture(params=["server", "cluster"])
def store(request: pytest.FixtureRequest) -> Store:
    """``"server"``, ``"cluster"`` (its account's master is lost) or ``"whole cluster"``."""
    if request.param == "server":
        return Store(request.getfixturevalue("redis_server"))
    return Store(request.getfixturevalue("redis_cluster"), whole=request.param == "whole cluster")


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


_ADAPTIVE_WORKER = """
import asyncio, sys, time
from voipstudio_async import RateLimit, VoipStudio

async def main() -> None:
    url, base_url, user_id, api_key, start = sys.argv[1:6]
    limit = RateLimit(redis_url=url)
    async with VoipStudio(
        user_id, api_key, base_url=base_url, rate_limit=limit, max_concurrency=8
    ) as vs:
        await asyncio.sleep(float(start) - time.time())  # all start together
        await asyncio.gather(*(vs.cdrs.get(1) for _ in range(40)))

asyncio.run(main())
"""


def test_four_processes_find_one_server_limit_through_redis(redis_server: RedisServer) -> None:
    fake = FakeVoipStudio(seed=9, cdrs=5, monitors=1, voicemessages=1, chats=1, msdrs=1)
    creds = fake.credentials
    with serve_in_thread(fake) as base_url:
        server = fake.rate_limit(20)
        assert server is not None
        start = str(time.time() + 8.0)  # after every process has imported the SDK
        args = [redis_server.url, base_url, str(creds.user_id), creds.api_key, start]
        workers = [
            subprocess.Popen([sys.executable, "-c", _ADAPTIVE_WORKER, *args]) for _ in range(4)
        ]
        assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0, 0]
    # 4 x 40 gathered gets (5x max_concurrency each), none failed; after the first wave
    # meets the server's bucket, the shared limiter paces all four processes as one.
    assert server.admitted == 160
    assert server.refused <= 0.25 * (server.admitted + server.refused), server.refused


@pytest.mark.parametrize("store", ["server", "cluster", "whole cluster"], indirect=True)
async def test_each_loss_of_redis_warns_once_and_each_return_is_logged(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeVoipStudio(seed=7, cdrs=5, monitors=1, voicemessages=1, chats=1, msdrs=1)
    creds = fake.credentials
    limit = store.limit()
    caplog.set_level(logging.INFO, logger="voipstudio_async")
    async with VoipStudio(
        creds.user_id,
        creds.api_key,
        base_url=fake.base_url,
        transport=fake.transport(),
        rate_limit=limit,
    ) as vs:
        limiter = vs._requester.limiter
        assert isinstance(limiter, RedisLimiter)

        async def calls() -> None:
            results = await asyncio.gather(*(vs.cdrs.get(1) for _ in range(20)))
            assert len(results) == 20  # no request failed

        for _outage in range(2):
            await calls()
            assert limiter.shared
            store.lose(limiter.key)
            lost_at = time.monotonic()
            await calls()
            assert not limiter.shared
            store.restore()
            await asyncio.sleep(max(0.0, lost_at + REDIS_RETRY_AFTER + 0.1 - time.monotonic()))
            await calls()
            assert limiter.shared
    records = [
        (r.levelname, r.getMessage()) for r in caplog.records if r.name == "voipstudio_async"
    ]
    lost = [m for level, m in records if level == "WARNING"]
    back = [m for level, m in records if level == "INFO" and "reachable again" in m]
    assert len(lost) == 2 and all("unreachable" in m for m in lost)
    assert len(back) == 2
    assert not any(str(store.node(limiter.key).port) in m for _, m in records)


async def test_a_thousand_gathered_decisions_queue_for_connections(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RedisLimiter(store.limit(), "acct:pool", sleep=Sleeps())
    try:
        with caplog.at_level(logging.WARNING, logger="voipstudio_async"):
            # More than redis-py's pool holds (REDIS_MAX_CONNECTIONS): before the queue,
            # this raised MaxConnectionsError and the limiter took Redis for unreachable.
            await asyncio.gather(*(limiter.acquire() for _ in range(1000)))
        assert limiter.shared and caplog.records == []
    finally:
        await limiter.aclose()


async def test_the_state_of_an_account_is_one_hash_of_fixed_fields(store: Store) -> None:
    limiter = RedisLimiter(store.limit(), "acct:state", sleep=Sleeps())
    client = store.client()
    try:
        for round_ in range(30):
            for _ in range(10):
                limiter.on_success()
                await limiter.acquire()
            if round_ % 10 == 9:
                await limiter.report_throttle(limiter.now(), 0.001)
            await asyncio.sleep(0.02)  # spread over many 100 ms buckets
        assert store.keys() == [limiter.key.encode()]
        fields = {name.decode() for name in await client.hkeys(limiter.key)}
        assert fields <= set(FIELDS)
        assert 0 < await client.ttl(limiter.key) <= REDIS_STATE_TTL
    finally:
        await client.aclose()
        await limiter.aclose()


async def test_a_redis_cluster_shares_one_limit(redis_cluster: RedisCluster) -> None:
    limit = RateLimit(
        requests_per_second=10, burst=1, redis_url=redis_cluster.url, redis_cluster=True
    )
    sleeps = Sleeps()
    accounts = [RedisLimiter(limit, f"acct:{n}", sleep=sleeps) for n in range(3)]
    twin = RedisLimiter(limit, "acct:0", sleep=sleeps)
    try:
        for limiter in (*accounts, twin):  # discover the cluster before timing anything
            await limiter._connection().client.ping()
        for limiter in (accounts[0], twin, accounts[0], twin):
            await limiter.acquire()
        # Four sends of one account at 10/s, across both limiters: booked 0.1 s apart.
        waits = sleeps.waits
        assert len(waits) == 3
        assert [b - a for a, b in itertools.pairwise(waits)] == [pytest.approx(0.1, abs=0.03)] * 2
        for limiter in accounts[1:]:  # other accounts (other slots) are not held up
            await limiter.acquire()
        assert len(sleeps.waits) == 3
        await accounts[0].report_throttle(accounts[0].now(), 0.5)
        assert accounts[0].shared and twin.shared
    finally:
        for limiter in (*accounts, twin):
            await limiter.aclose()


async def test_a_slot_moved_to_another_master_is_followed_with_its_state(
    redis_cluster: RedisCluster, caplog: pytest.LogCaptureFixture
) -> None:
    # The cluster client's own retries are off (the limiter's fallback is the one retry
    # policy), but a resharding (a managed cluster scaling) must not look like a lost
    # store: ASK while the slot migrates and MOVED after it are followed, to the
    # account's state moved along.
    limit = RateLimit(
        requests_per_second=10, burst=1, redis_url=redis_cluster.url, redis_cluster=True
    )
    sleeps = Sleeps()
    limiter = RedisLimiter(limit, "acct:moved", sleep=sleeps)
    try:
        with caplog.at_level(logging.INFO, logger="voipstudio_async"):
            await limiter.acquire()
            source = redis_cluster.owner(limiter.key)
            target = next(node for node in redis_cluster.nodes if node is not source)
            phases = []
            for phase in redis_cluster.migrate(limiter.key, target):
                await limiter.acquire()
                phases.append(phase)
                assert limiter.shared, phase
        assert phases == ["migrating", "keys moved", "assigned"]
        assert redis_cluster.owner(limiter.key) is target
        # Each decision booked after the one before, on the state that moved: 0.1 s apart.
        waits = sleeps.waits
        assert len(waits) == 3
        assert [b - a for a, b in itertools.pairwise(waits)] == [pytest.approx(0.1, abs=0.05)] * 2
        assert caplog.records == []
    finally:
        await limiter.aclose()


async def test_a_client_in_cluster_mode_paces_through_the_cluster(
    redis_cluster: RedisCluster, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeVoipStudio(seed=8, cdrs=5, monitors=1, voicemessages=1, chats=1, msdrs=1)
    creds = fake.credentials
    limit = RateLimit(redis_url=redis_cluster.url, redis_cluster=True)
    with caplog.at_level(logging.WARNING, logger="voipstudio_async"):
        async with VoipStudio(
            creds.user_id,
            creds.api_key,
            base_url=fake.base_url,
            transport=fake.transport(),
            rate_limit=limit,
        ) as vs:
            fake.fail("/cdrs/1", 429, times=1, retry_after=0.2)
            await asyncio.gather(*(vs.cdrs.get(1) for _ in range(50)))
            limiter = vs._requester.limiter
            assert isinstance(limiter, RedisLimiter) and limiter.shared
            assert limiter.throttles == 1
    assert caplog.records == []  # no CROSSSLOT, no fallback


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
    return limiter.key


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
    # The whole key is the hash tag: one cluster slot per account, a user's key included.
    assert _key(user_id=1, api_key="k1", key="team-a") == "{team-a}"
    assert _key(user_id=1, api_key="k1", key="a}b{c") == "{a)b(c}"
    assert all(key.startswith("{") and key.endswith("}") for key in keys)


@pytest.mark.parametrize("http_backend", ["httpx", "aiohttp"])
@pytest.mark.parametrize("store", ["redis", "local"])
async def test_closing_the_client_mid_decision_fails_the_call_cleanly(
    redis_server: RedisServer, http_backend: str, store: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The bench's intermittent "unreachable (ConnectionError)" with Redis up and failed
    # calls with RuntimeError: closing the client closed the limiter's connections under
    # calls still waiting for Redis's answer; they took the closed socket for a lost
    # store, warned, paced locally and sent through the closed HTTP client.
    fake = FakeVoipStudio(seed=11, cdrs=5, monitors=1, voicemessages=1, chats=1, msdrs=1)
    creds = fake.credentials
    admin = redis.asyncio.Redis.from_url(redis_server.url)
    n = 8 if store == "redis" else 3  # the local ones wait 0.5, 1 and 1.5 s
    caplog.set_level(logging.INFO, logger="voipstudio_async")
    try:
        with serve_in_thread(fake) as base_url:
            vs = VoipStudio(
                creds.user_id,
                creds.api_key,
                base_url=base_url,
                http_backend=http_backend,  # type: ignore[arg-type]
                rate_limit=RateLimit(redis_url=redis_server.url)
                if store == "redis"
                else RateLimit(requests_per_second=2, burst=1),  # the local one sleeps
            )
            await vs.cdrs.get(1)  # connected, script loaded
            sent = len(fake.requests)
            await admin.execute_command("CLIENT", "PAUSE", "1000", "ALL")
            calls = [asyncio.create_task(vs.cdrs.get(1)) for _ in range(n)]
            await asyncio.sleep(0.2)  # every call is waiting for its turn
            await vs.aclose()
            results = await asyncio.gather(*calls, return_exceptions=True)
            assert [type(r) for r in results] == [ClientClosedError] * n
            assert len(fake.requests) == sent  # nothing sent after the close
    finally:
        await admin.execute_command("CLIENT", "UNPAUSE")
        await admin.aclose()
    assert not [r for r in caplog.records if r.levelno >= logging.INFO], caplog.records


async def test_a_cancellation_the_store_turned_into_an_error_stays_a_cancellation(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    # redis-py can surface a cancellation as its own error (its read timeout expiring
    # with the cancellation, a socket closed under it): a cancelled call must not fall
    # back to the local limiter and go on to send.
    limiter = RedisLimiter(RateLimit(redis_url=redis_server.url), "acct:cancel", sleep=Sleeps())
    reached_local = False

    async def failing_call(*args: str) -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        raise redis.exceptions.ConnectionError("Connection closed by server.")

    async def local_acquire(*args: object, **kwargs: object) -> None:
        nonlocal reached_local
        reached_local = True

    limiter._call = failing_call  # type: ignore[method-assign]
    limiter.local.acquire = local_acquire  # type: ignore[method-assign]
    try:
        with (
            caplog.at_level(logging.WARNING, logger="voipstudio_async"),
            pytest.raises(asyncio.CancelledError),
        ):
            await asyncio.create_task(limiter.acquire())
        assert not reached_local and limiter.shared
        assert caplog.records == []
    finally:
        await limiter.aclose()


@pytest.mark.parametrize("installed", [True, False])
def test_redis_is_imported_with_the_client_not_by_its_first_request(installed: bool) -> None:
    # At load 8-10 the import (0.4-0.6 s alone) inside the first request held each
    # bench process's event loop ~2 s: no call of a Redis cell succeeded in that time.
    script = f"""
import sys
if not {installed}:
    sys.modules["redis"] = None  # as without the extra
from voipstudio_async import RateLimit, VoipStudio
try:
    VoipStudio(1, "k", rate_limit=RateLimit(redis_url="redis://127.0.0.1:1/0"))
except ImportError as exc:
    print("ImportError:", exc)
print("redis.asyncio" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    if installed:
        assert out == ["True"]
    else:
        assert out[0] == (
            "ImportError: RateLimit(redis_url=...) needs redis: "
            "pip install 'voipstudio-async[redis]'"
        )


async def _state(client: Any, key: str) -> dict[str, float]:
    return {k.decode(): float(v) for k, v in (await client.hgetall(key)).items()}


def _ring(state: dict[str, float]) -> float:
    return sum(v for k, v in state.items() if k.startswith("n"))


async def test_after_a_loss_redis_gets_the_last_second_of_successes_not_the_outage(
    store: Store,
) -> None:
    # All of an outage's successes were sent with the first decision after the return,
    # in one 100 ms bucket (a burst read as a rate); none at all (the next fix) left a
    # restarted Redis's first cut measuring only the answers since its return.
    limiter = RedisLimiter(store.limit(), "acct:back", sleep=Sleeps())
    client = store.client()
    try:
        await limiter.acquire()
        store.lose(limiter.key)
        lost_at = time.monotonic()
        await limiter.acquire()  # lost: the local limiter paces
        assert not limiter.shared
        for _ in range(500):
            limiter.on_success()  # answers early in the outage
        early = time.monotonic()
        store.restore()
        await asyncio.sleep(
            max(0.0, lost_at + 0.6 - time.monotonic(), early + 1.1 - time.monotonic())
        )
        for _ in range(300):
            limiter.on_success()  # answers in the second before Redis is tried again
        await asyncio.sleep(max(0.0, lost_at + REDIS_RETRY_AFTER + 0.15 - time.monotonic()))
        await limiter.acquire()
        assert limiter.shared
        assert _ring(await _state(client, limiter.key)) == 300
    finally:
        await client.aclose()
        await limiter.aclose()


@pytest.mark.parametrize(
    ("store", "second"),
    [("server", 40), ("server", 150), ("cluster", 150)],  # a cluster restart takes 2 s
    indirect=["store"],
)
async def test_a_process_back_after_a_restarted_redis_cut_adds_its_rate(
    store: Store, second: int
) -> None:
    # Processes come back to a restarted Redis up to REDIS_RETRY_AFTER apart. The first
    # one back met the first 429 and cut the empty state to its own last second; the
    # others' last seconds went to the ring, so the next cut over the short span since
    # then measured only part of the traffic: 4 processes at ~35/s of 200 for 2.5 s.
    first, later = (RedisLimiter(store.limit(), "acct:join", sleep=Sleeps()) for _ in range(2))
    client = store.client()
    rate = client.register_script(LUA)
    try:
        for limiter in (first, later):
            await limiter.acquire()
        store.lose(first.key)
        lost_at = time.monotonic()
        for limiter in (first, later):
            await limiter.acquire()  # lost: the local limiters pace
            assert not limiter.shared
        store.restore()
        await asyncio.sleep(max(0.0, lost_at + 0.4 - time.monotonic()))
        for _ in range(50):
            first.on_success()
        for _ in range(second):
            later.on_success()
        await asyncio.sleep(max(0.0, lost_at + REDIS_RETRY_AFTER + 0.1 - time.monotonic()))
        await first.acquire()  # back first: the empty state is unlimited, its 50 in the ring
        state = await _state(client, first.key)
        assert state.get("rate0", 0) == 0 and _ring(state) == 50
        await first.report_throttle(first.now(), 2.0)  # the first cut: half its 50/s
        cut = await _state(client, first.key)
        assert cut["slow"] == 1 and cut["rate0"] == pytest.approx(25) and cut["epoch"] == 1
        await later.acquire()  # back during the 2 s pause: its rate joins
        assert later.shared
        joined = await _state(client, first.key)
        # ratelimit_core.join after a cut made without it: the rate rises by its last
        # second (slow start: rate0, the 2 s pause being before any doubling), the
        # measurement span restarts (busy), and its successes stay out of the ring.
        assert joined["busy"] > cut["throttled_at"] and _ring(joined) == 50
        assert joined["rate0"] == pytest.approx(25 + second) and joined["epoch"] == 1
        got = float(await rate(keys=[first.key], args=["-1", "rate", str(REDIS_STATE_TTL), "0"]))
        assert got == pytest.approx(25 + second)
    finally:
        await client.aclose()
        for limiter in (first, later):
            await limiter.aclose()


@pytest.mark.parametrize("store", ["server", "cluster"], indirect=True)
async def test_a_restarted_redis_starts_paced_by_the_limiters_that_saw_429s(
    store: Store,
) -> None:
    # A restarted (empty) Redis started unlimited, so every process back sent a first
    # wave unpaced, and the sends its own limiter had booked overlapped the new shared
    # schedule: 25-50 429s within 1 s of the return in bench.ratelimit's restart cell.
    first, later = (RedisLimiter(store.limit(), "acct:paced", sleep=Sleeps()) for _ in range(2))
    client = store.client()
    try:
        for limiter in (first, later):
            await limiter.acquire()
            for _ in range(40):
                limiter.on_success()
            await limiter.report_throttle(limiter.now(), 0.01)  # its own limiter saw a 429
        store.lose(first.key)
        lost_at = time.monotonic()
        for limiter in (first, later):
            for _ in range(5):
                await limiter.acquire()  # lost: its own limiter books them at its rate
            assert not limiter.shared
        store.restore()
        await asyncio.sleep(max(0.0, lost_at + REDIS_RETRY_AFTER - 0.5 - time.monotonic()))
        for limiter, answered in ((first, 30), (later, 20)):
            for _ in range(answered):
                limiter.on_success()  # its last second before Redis is tried again
        await asyncio.sleep(max(0.0, lost_at + REDIS_RETRY_AFTER + 0.1 - time.monotonic()))
        await first.acquire()
        assert first.shared
        state = await _state(client, first.key)
        # Slow start from the rate the server accepted from it, not unlimited, and the
        # shared schedule after the sends its own limiter booked.
        assert state["slow"] == 1 and state["rate0"] == pytest.approx(30)
        booked = first.local.state["tat"] + (first.now() - first.local.now())
        assert state["tat"] >= booked - 0.05
        await later.acquire()
        joined = await _state(client, first.key)
        # The next back adds its 20/s to the rate at the moment it joined (``busy``): slow
        # start has grown the first one's 30 since, so the stored base rate0 rises by 20
        # over the doublings since ``grows``. (Reading the rate afterwards is not exact:
        # the send it books may find the schedule idle for a moment, which holds growth.)
        doublings = (joined["busy"] - state["grows"]) / RATE_SLOW_START_DOUBLING
        assert joined["rate0"] - state["rate0"] == pytest.approx(20 / 2**doublings)
    finally:
        await client.aclose()
        for limiter in (first, later):
            await limiter.aclose()


async def test_a_hung_store_is_given_up_without_redis_py_s_retries(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # redis-py's cluster client retries a command 10 times by default, with backoff and a
    # topology refresh each: a hung master (a host behind a partition) held every
    # decision, so every call of the account, 27 s, against one REDIS_TIMEOUT (2 s) on a
    # single server; a stopped master held each of them 2-3 s, against none. The
    # cluster keeps one immediate retry (so up to two timeouts) for the connections a
    # restart closed: without it the "whole cluster" case of the warns-once test
    # above logged a second loss right after the return.
    limiter = RedisLimiter(store.limit(), "acct:hung", sleep=Sleeps())
    caplog.set_level(logging.INFO, logger="voipstudio_async")
    try:
        await limiter.acquire()
        with store.node(limiter.key).hung():
            started = time.monotonic()
            await limiter.acquire()  # lost after one timeout: the local limiter paces
            took = time.monotonic() - started
            assert not limiter.shared
        timeouts = 2 if store.cluster else 1
        assert 0.9 * timeouts * REDIS_TIMEOUT < took < (timeouts + 0.5) * REDIS_TIMEOUT
        await asyncio.sleep(REDIS_RETRY_AFTER)
        await limiter.acquire()
        assert limiter.shared
        await limiter.report_throttle(limiter.now(), 0.5)  # the replies are this call's
        assert limiter.throttles == 1
    finally:
        await limiter.aclose()
    levels = [r.levelname for r in caplog.records if r.name == "voipstudio_async"]
    assert levels == ["WARNING", "INFO"]
