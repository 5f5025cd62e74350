"""Fixtures for the S3 destination tests: moto's standalone S3 server on loopback, a fresh
bucket per test, dummy AWS credentials in the environment, and the fake VoIPstudio."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from s3_helpers import AWS_SECRET

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a moto S3 server started for this session."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(30)


def aws_environ(endpoint: str) -> dict[str, str]:
    """Dummy credentials and the loopback endpoint; no config file, no instance metadata."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


@pytest.fixture(autouse=True)
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The AWS environment every S3 test runs in (botocore reads ``os.environ``)."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    env = aws_environ(moto_endpoint)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def s3(moto_endpoint: str, aws_env: dict[str, str]) -> Any:
    """A plain boto3 client on the server, to look at (and tamper with) buckets."""
    import boto3

    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def bucket(s3: Any) -> str:
    """A new, empty bucket."""
    name = f"archive-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=0, cdrs=3000, monitors=30, voicemessages=15, msdrs=2, chats=1)


@pytest.fixture
async def client(fake: FakeVoipStudio) -> AsyncIterator[VoipStudio]:
    """A client on the fake in process whose retry waits are never slept."""
    creds = fake.credentials

    async def no_sleep(delay: float) -> None:
        pass

    async with VoipStudio(
        user_id=creds.user_id,
        api_key=creds.api_key,
        base_url=fake.base_url,
        transport=fake.transport(),
        max_retries=5,
    ) as vs:
        vs._requester._sleep = no_sleep
        yield vs
