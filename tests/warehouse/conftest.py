"""Fixtures for the warehouse tests: a small fake account and a client factory on it, a
PostgreSQL server and an S3 server (moto) on loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _moto import aws_environ, moto_server
from _postgres import postgres_server
from warehouse_helpers import Stall

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

# dlt reports anonymous usage over the internet unless told not to; tests stay on loopback.
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=3, cdrs=2500, monitors=40, voicemessages=30, chats=12, msdrs=25)


@pytest.fixture
def factory(fake: FakeVoipStudio) -> Callable[[], VoipStudio]:
    """Builds a client on the fake in process (in whichever loop dlt runs it)."""
    creds = fake.credentials

    def build() -> VoipStudio:
        return VoipStudio(
            creds.user_id, creds.api_key, base_url=fake.base_url, transport=fake.transport()
        )

    return build


@pytest.fixture
def pipelines_dir(tmp_path: Path) -> str:
    return str(tmp_path / "pipelines")


# -- a larger account on loopback whose CDR walk can be held at its second page -----------------


@pytest.fixture
def account() -> FakeVoipStudio:
    # Three pages of CDRs (5,000 a page), so the walk can be stopped half-way.
    return FakeVoipStudio(seed=11, cdrs=12_000, monitors=20, voicemessages=15, chats=5, msdrs=8)


@pytest.fixture
def stall(account: FakeVoipStudio) -> Iterator[Stall]:
    hook = Stall()
    account.on_request(hook)
    yield hook
    hook.disarm()


@pytest.fixture
def environ(account: FakeVoipStudio, tmp_path: Path, stall: Stall) -> Iterator[dict[str, str]]:
    """The command's environment: the account served on loopback, dlt's state in tmp_path."""
    creds = account.credentials
    with serve_in_thread(account) as base_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VOIPSTUDIO_", "DLT_"))}
        yield {
            **env,
            "VOIPSTUDIO_BASE_URL": base_url,
            "VOIPSTUDIO_USER_ID": str(creds.user_id),
            "VOIPSTUDIO_API_KEY": creds.api_key,
            "DLT_DATA_DIR": str(tmp_path / "dlt"),
            "RUNTIME__DLTHUB_TELEMETRY": "false",
        }
        stall.disarm()  # a stalled request must not hold up the server's shutdown


# -- a real PostgreSQL server on loopback ------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql://loader:...@127.0.0.1:PORT/history`` on a server of this session
    (``_postgres``, shared with the fleet's tests)."""
    with postgres_server() as url:
        yield url


# -- an S3 server on loopback (moto's standalone server) ----------------------------------------
# The same fixtures as tests/s3/conftest.py (moto_endpoint, aws_environ, s3, bucket), except
# that the AWS environment is not put into os.environ for every test here: a sync is given it.


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a moto S3 server started for this session."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(moto_endpoint: str) -> dict[str, str]:
    """The AWS environment of the S3 server (what a sync reads its credentials from)."""
    return aws_environ(moto_endpoint)


@pytest.fixture
def s3(moto_endpoint: str, aws_env: dict[str, str]) -> Any:
    """A plain boto3 client on the server, to look at buckets."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id=aws_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws_env["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def bucket(s3: Any) -> str:
    """A new, empty bucket."""
    name = f"lake-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name
