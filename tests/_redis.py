"""Real ``redis-server`` processes on loopback for the rate-limit tests: one server, or
a Redis Cluster of three masters (``redis-cli --cluster create``)."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port(cluster: bool = False) -> int:
    """A free port; for a cluster node also its bus port (port + 10000) below 65536."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if not cluster:
            return port
        if port < 55000 and _bindable(port + 10000):
            return port
        port = random.randrange(20000, 30000)
        if _bindable(port) and _bindable(port + 10000):
            return port


def _binary(name: str) -> str:
    binary = shutil.which(name)
    if binary is None:
        pytest.fail(f"{name} is missing: `make setup` installs it (setup-services)")
    return binary


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _admin(node: RedisServer, *args: str) -> Any:
    with redis.Redis(port=node.port) as client:
        return client.execute_command(*args)


class RedisServer:
    """``redis-server`` on 127.0.0.1, no persistence; ``stop()`` and ``start()`` again
    on the same port (a restart loses the state, as a real one without persistence)."""

    def __init__(self, tmp: Path, *, port: int | None = None, cluster: bool = False) -> None:
        self.port = port or _free_port(cluster)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._args = [
            *(_binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(tmp)),
        ]
        if cluster:
            self._args += [
                *("--cluster-enabled", "yes"),
                *("--cluster-config-file", str(tmp / f"nodes-{self.port}.conf")),
            ]
        self._proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self._proc = subprocess.Popen(self._args, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _ping(self.port):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    @property
    def running(self) -> bool:
        return self._proc is not None

    @contextlib.contextmanager
    def hung(self) -> Iterator[None]:
        """The server suspended (SIGSTOP), its port still open: commands get no answer, as
        from a host behind a network partition, until the block ends."""
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self._proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)
            self._proc = None


class RedisCluster:
    """Three masters (no replicas) on loopback, joined by ``redis-cli --cluster create``."""

    def __init__(self, tmp: Path) -> None:
        self.nodes: list[RedisServer] = []
        try:
            for index in range(3):
                directory = tmp / f"node{index}"
                directory.mkdir()
                self.nodes.append(RedisServer(directory, cluster=True))
            addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
            subprocess.run(
                [_binary("redis-cli"), "--cluster", "create", *addresses, "--cluster-yes"],
                check=True,
                stdout=subprocess.DEVNULL,
                timeout=60,
            )
            self.wait_ok()
        except BaseException:
            self.stop()
            raise
        self.url = self.nodes[0].url.removesuffix("/0")

    def _command(self, *args: str) -> Any:
        """A command on the first node that is up (any node answers for the cluster)."""
        for node in self.nodes:
            if node.running:
                return _admin(node, *args)
        raise RuntimeError("every node of the cluster is stopped")

    def owner(self, key: str) -> RedisServer:
        """The master serving ``key``: its slot by ``CLUSTER KEYSLOT``, found in the slot
        ranges of ``CLUSTER SLOTS``."""
        slot = self._command("CLUSTER", "KEYSLOT", key)
        for start, end, (_host, port, *_), *_replicas in self._command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return next(node for node in self.nodes if node.port == port)
        raise AssertionError(f"no master serves slot {slot}")

    def migrate(self, key: str, target: RedisServer) -> Iterator[str]:
        """Move ``key``'s slot and its keys to master ``target`` in the steps a resharding
        takes (``redis-cli --cluster reshard``), pausing after each: ``"migrating"`` (the
        keys still on the source, which serves them), ``"keys moved"`` (the source
        answers ASK) and ``"assigned"`` (every node answers MOVED)."""
        source = self.owner(key)
        slot = self._command("CLUSTER", "KEYSLOT", key)
        ids = {node.port: _admin(node, "CLUSTER", "MYID").decode() for node in self.nodes}
        _admin(target, "CLUSTER", "SETSLOT", str(slot), "IMPORTING", ids[source.port])
        _admin(source, "CLUSTER", "SETSLOT", str(slot), "MIGRATING", ids[target.port])
        yield "migrating"
        _admin(source, "MIGRATE", "127.0.0.1", str(target.port), key, "0", "5000")
        yield "keys moved"
        for node in (target, source, *self.nodes):
            _admin(node, "CLUSTER", "SETSLOT", str(slot), "NODE", ids[target.port])
        yield "assigned"

    def flush(self) -> None:
        """Empty every master (the cluster is shared by a module's tests)."""
        for node in self.nodes:
            _admin(node, "FLUSHALL")

    def wait_ok(self) -> None:
        """Until every node reports ``cluster_state:ok`` (after a create or a restart)."""
        deadline = time.monotonic() + 20
        for node in self.nodes:
            while True:
                info = subprocess.run(
                    [_binary("redis-cli"), "-p", str(node.port), "cluster", "info"],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout
                if "cluster_state:ok" in info:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the Redis Cluster did not come up")
                time.sleep(0.1)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> RedisCluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
