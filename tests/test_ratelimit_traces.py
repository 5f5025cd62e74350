"""One algorithm: every trace of ``ratelimit_traces.yaml`` through the Python state
machine and through its Lua, on a real redis-server and on a real Redis Cluster of three
masters (redis-py's cluster client), both checked against the trace and against each
other (same final state)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio
import yaml
from _redis import RedisCluster, RedisServer

from voipstudio_async._auth import BasicAuth
from voipstudio_async._client import _account_key
from voipstudio_async._constants import DEFAULT_BASE_URL, REDIS_STATE_TTL
from voipstudio_async._policies import ratelimit_core as core
from voipstudio_async._policies.ratelimit_redis import redis_key

TRACES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "ratelimit_traces.yaml").read_text()
)


class PythonMachine:
    def __init__(self, trace: dict[str, Any]) -> None:
        self.state: core.State = {}
        self.cap, self.burst = float(trace["cap"]), int(trace["burst"])

    async def run(self, event: dict[str, Any]) -> dict[str, Any]:
        op, at = event["op"], float(event["at"])
        if op == "reserve":
            ok, wait = core.reserve(self.state, at, self.cap, self.burst, float(event["left"]))
            return {"ok": ok, "wait": wait}
        if op == "succeed":
            core.succeed(self.state, at, int(event["count"]))
            return {}
        if op == "join":
            limited, booked = bool(event.get("limited", False)), float(event.get("booked", 0))
            core.join(self.state, at, event["count"], float(event["left_at"]), limited, booked)
            return {}
        if op == "throttle":
            sent_at, pause = float(event["sent_at"]), float(event["pause"])
            return {"cut": core.throttle(self.state, at, sent_at, pause, self.cap)}
        return {"rate": core.rate_at(self.state, at, self.cap)}

    async def final_state(self) -> dict[str, float]:
        return dict(self.state)


class LuaMachine:
    def __init__(self, trace: dict[str, Any], client: Any, key: str) -> None:
        self.cap, self.burst = repr(float(trace["cap"])), str(int(trace["burst"]))
        self.script = client.register_script(core.LUA)
        self.client, self.key = client, key

    async def _call(self, *args: str) -> Any:
        return await self.script(keys=[self.key], args=list(args))

    async def run(self, event: dict[str, Any]) -> dict[str, Any]:
        op, at = event["op"], repr(float(event["at"]))
        ttl = str(REDIS_STATE_TTL)
        if op == "reserve":
            ok, wait, _, _ = await self._call(
                at, "acquire", ttl, self.cap, self.burst, "0", repr(float(event["left"])), "-1"
            )
            return {"ok": bool(int(ok)), "wait": float(wait)}
        if op == "succeed":
            await self._call(at, "succeed", ttl, str(int(event["count"])))
            return {}
        if op == "join":
            count, left_at = str(int(event["count"])), repr(float(event["left_at"]))
            limited = str(int(bool(event.get("limited", False))))
            booked = repr(float(event.get("booked", 0)))
            await self._call(at, "join", ttl, count, left_at, limited, booked)
            return {}
        if op == "throttle":
            sent_at, pause = repr(float(event["sent_at"])), repr(float(event["pause"]))
            return {
                "cut": bool(
                    int(await self._call(at, "throttle", ttl, self.cap, sent_at, pause, "0"))
                )
            }
        rate = float(await self._call(at, "rate", ttl, self.cap))
        return {"rate": None if rate < 0 else rate}

    async def final_state(self) -> dict[str, float]:
        raw = await self.client.hgetall(self.key)
        return {name.decode(): float(value) for name, value in raw.items()}


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    with RedisCluster(tmp_path_factory.mktemp("cluster")) as cluster:  # 2-5 s: once a module
        yield cluster


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Any]:
    connection = redis.asyncio.Redis.from_url(redis_url)
    try:
        yield connection
    finally:
        await connection.aclose()


@pytest.fixture
async def cluster_client(redis_cluster: RedisCluster) -> AsyncIterator[Any]:
    connection = redis.asyncio.RedisCluster.from_url(redis_cluster.url)
    try:
        yield connection
    finally:
        await connection.aclose()


@pytest.fixture(scope="module")
def cluster_keys(redis_cluster: RedisCluster) -> dict[str, str]:
    """Each trace's hash, named as the SDK names an account's (``{<account key>}``), trace
    ``i`` on master ``i % 3``, so the traces run on every master of the cluster."""
    keys: dict[str, str] = {}
    for index, trace in enumerate(TRACES):
        master = redis_cluster.nodes[index % 3]
        for user_id in itertools.count(1000 * index + 1):
            key = redis_key(_account_key(DEFAULT_BASE_URL, BasicAuth(user_id, "k"), "k"))
            if redis_cluster.owner(key) is master:
                keys[trace["name"]] = key
                break
    return keys


def _expect(got: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    for name, value in expected.items():
        if isinstance(value, bool) or value is None:
            assert got[name] == value, (where, name, got)
        else:
            assert got[name] == pytest.approx(value, abs=1e-6), (where, name, got)


@pytest.fixture(params=["server", "cluster"])
def store(request: pytest.FixtureRequest) -> tuple[str, Any]:
    """The Lua's store: ``(kind, client)``, a single redis-server or the cluster."""
    kind: str = request.param
    return kind, request.getfixturevalue("client" if kind == "server" else "cluster_client")


@pytest.mark.parametrize("trace", TRACES, ids=[trace["name"] for trace in TRACES])
async def test_both_implementations_follow_the_trace(
    trace: dict[str, Any], store: tuple[str, Any], request: pytest.FixtureRequest
) -> None:
    kind, client = store
    if kind == "server":
        key = "{trace:" + trace["name"] + "}"
    else:
        key = request.getfixturevalue("cluster_keys")[trace["name"]]
    await client.delete(key)
    machines = [PythonMachine(trace), LuaMachine(trace, client, key)]
    for index, event in enumerate(trace["events"]):
        for machine in machines:
            got = await machine.run(event)
            _expect(got, event.get("expect", {}), f"{type(machine).__name__} event {index}")
    python, lua = [await machine.final_state() for machine in machines]
    assert set(python) == set(lua) and set(lua) <= set(core.FIELDS)
    for name, value in python.items():
        assert lua[name] == pytest.approx(value, abs=1e-9), name
    if kind == "cluster":
        # The state is on the master cluster_keys chose: asked directly, not redirected.
        cluster: RedisCluster = request.getfixturevalue("redis_cluster")
        master = cluster.nodes[TRACES.index(trace) % 3]
        direct = redis.asyncio.Redis(port=master.port)
        try:
            assert await direct.exists(key) == 1
        finally:
            await direct.aclose()


def test_the_cluster_traces_run_on_every_master(
    redis_cluster: RedisCluster, cluster_keys: dict[str, str]
) -> None:
    owners = {redis_cluster.owner(key).port for key in cluster_keys.values()}
    assert owners == {node.port for node in redis_cluster.nodes}
    assert len(cluster_keys) == len(TRACES) >= 3


async def test_a_long_run_keeps_a_fixed_set_of_fields(store: tuple[str, Any]) -> None:
    _, client = store
    key = "{trace:long}"
    await client.delete(key)
    lua = LuaMachine({"cap": 0, "burst": 1}, client, key)
    now = 1000.0
    for step in range(600):  # a minute of successes and a 429 every 5 s
        now += 0.1
        await lua.run({"op": "succeed", "at": now, "count": 20})
        await lua.run({"op": "reserve", "at": now, "left": -1})
        if step % 50 == 49:
            await lua.run({"op": "throttle", "at": now, "sent_at": now, "pause": 0.01})
    fields = await lua.final_state()
    assert set(fields) <= set(core.FIELDS) and len(core.FIELDS) == 30
    assert await client.ttl(key) > 0
    await asyncio.sleep(0)
