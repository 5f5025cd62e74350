"""Fixtures for the S3 destination tests: moto's standalone S3 server on loopback, a fresh
bucket per test, dummy AWS credentials in the environment, and the fake VoIPstudio."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from _moto import aws_environ, moto_server

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a moto S3 server started for this session."""
    with moto_server() as endpoint:
        yield endpoint


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
