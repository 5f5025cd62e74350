"""Fixtures for the fleet tests: a real ``dask scheduler`` and two ``dask worker`` processes
on loopback, 20 fake accounts served from this process, moto S3 and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _moto import aws_environ, free_port, moto_server
from _postgres import PG_PASSWORD, postgres_server

from voipstudio_async.fleet import Account, load_accounts
from voipstudio_async.testing import FakeAccounts, LoopbackServer

BIN = Path(sys.executable).parent
N_ACCOUNTS = 20


@dataclass
class Cluster:
    """A scheduler and its workers, each a process of its own writing a log file."""

    address: str
    logs: Path
    env: dict[str, str]
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: int = 0

    def start_worker(self, name: str) -> None:
        self.started += 1
        log = open(self.logs / f"worker-{name}-{self.started}.log", "wb")  # noqa: SIM115
        self.workers[name] = subprocess.Popen(
            [
                BIN / "dask",
                "worker",
                self.address,
                "--name",
                name,
                "--host",
                "127.0.0.1",
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        log.close()

    def kill(self, name: str) -> None:
        """SIGKILL a worker: no goodbye to the scheduler, its task simply vanishes."""
        self.workers[name].send_signal(signal.SIGKILL)
        self.workers[name].wait(10)

    def ensure_workers(self, names: tuple[str, ...] = ("w1", "w2")) -> None:
        for name in names:
            proc = self.workers.get(name)
            if proc is None or proc.poll() is not None:
                self.start_worker(name)

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))

    def stop(self) -> None:
        for proc in self.workers.values():
            proc.terminate()
        for proc in self.workers.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str, postgres_url: str
) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("dask-logs")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VOIPSTUDIO_"))}
    env.update(aws_environ(moto_endpoint))
    # The database password lives on the workers, as the guide says: never in a task.
    env["PGPASSWORD"] = PG_PASSWORD
    env["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    # Every task's logs at INFO and above reach the files the secrets test reads.
    env["DASK_LOGGING__DISTRIBUTED"] = "info"
    port = free_port()
    log = open(logs / "scheduler.log", "wb")  # noqa: SIM115
    scheduler = subprocess.Popen(
        [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    log.close()
    found = Cluster(f"tcp://127.0.0.1:{port}", logs, env)
    try:
        found.ensure_workers()
        yield found
    finally:
        found.stop()
        scheduler.terminate()
        scheduler.wait(15)


@pytest.fixture
def client(cluster: Cluster) -> Iterator[Any]:
    """A client of the cluster with both workers up (a test may have killed one)."""
    from distributed import Client

    cluster.ensure_workers()
    with Client(cluster.address, timeout=60) as connected:
        connected.wait_for_workers(2, timeout=60)
        yield connected


@dataclass
class Served:
    fake: FakeAccounts
    base_url: str
    accounts_file: Path

    def accounts(self) -> list[Account]:
        return load_accounts(self.accounts_file)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """20 fake accounts on loopback and their accounts file (secrets in files)."""
    fake = FakeAccounts(N_ACCOUNTS, seed=5)
    with LoopbackServer(fake) as base_url:
        path = fake.write_accounts_file(tmp_path / "accounts.toml", base_url)
        yield Served(fake, base_url, path)


def wait_until(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)
