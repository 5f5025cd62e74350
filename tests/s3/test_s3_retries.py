"""Bodies cut short while archived to S3 are retried by the client's own retry rules,
retry budget and deadline (as ``download_many``), not by a loop of the S3 code."""

from __future__ import annotations

import http.server
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from s3_helpers import PERIOD, objects, open_uploads, voipstudio

from voipstudio_async import RetryBudget, VoipStudio
from voipstudio_async._constants import INITIAL_RETRY_DELAY, MAX_RETRY_DELAY, S3_MAX_ATTEMPTS
from voipstudio_async.testing import FakeVoipStudio

WHEN = "2026-08-15 10:00:00"


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=3, cdrs=5, monitors=4, voicemessages=1, msdrs=1, chats=1)


@asynccontextmanager
async def _client(
    fake: FakeVoipStudio, sleeps: list[float], **options: Any
) -> AsyncIterator[VoipStudio]:
    """A client on the fake whose waits are recorded, never slept, and whose backoff is
    its ceiling (no jitter), so the waits are known."""

    async def record(delay: float) -> None:
        sleeps.append(delay)

    creds = fake.credentials
    async with VoipStudio(
        user_id=creds.user_id,
        api_key=creds.api_key,
        base_url=fake.base_url,
        transport=fake.transport(),
        **options,
    ) as vs:
        vs._requester._sleep = record
        vs._requester.retries.random = lambda: 1.0
        yield vs


def _backoffs(count: int) -> list[float]:
    return [min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2.0**i) for i in range(count)]


async def _archive(vs: VoipStudio, bucket: str) -> Any:
    return await voipstudio(vs, "monitors", "download", *PERIOD, "--dest", f"s3://{bucket}/x")


def _requests_of(fake: FakeVoipStudio, item_id: int) -> int:
    return sum(1 for r in fake.requests if r.path == f"/monitors/{item_id}.mp3")


def _archived(s3: Any, bucket: str, item_id: int) -> bool:
    return f"x/2026-08-15_100000_{item_id}.mp3" in objects(s3, bucket)


@pytest.mark.parametrize(
    ("max_retries", "cuts", "size"),
    [
        (0, 1, 2000),  # no retries allowed: the first cut body fails the item
        (1, 1, 2000),
        (2, 3, 2000),
        (4, 4, 2000),  # more tries than a fixed loop of three would give
        (4, 2, 9 * 1024 * 1024),  # a multipart upload, aborted and started again
    ],
)
async def test_a_cut_body_is_retried_as_max_retries_allows(
    s3: Any, bucket: str, fake: FakeVoipStudio, max_retries: int, cuts: int, size: int
) -> None:
    item = fake.add_monitor(size=size, timestamp=WHEN)
    fake.cut_body(f"/monitors/{item}.mp3", times=cuts)
    sleeps: list[float] = []
    async with _client(fake, sleeps, max_retries=max_retries) as vs:
        result = await _archive(vs, bucket)
    ok = cuts <= max_retries
    assert (result.code == 0) is ok, result.err
    assert _archived(s3, bucket, item) is ok
    assert _requests_of(fake, item) == min(cuts, max_retries) + 1
    assert sleeps == _backoffs(min(cuts, max_retries))
    if not ok:
        assert f"failed recording {item}: " in result.err
    assert open_uploads(s3, bucket) == []


@pytest.mark.parametrize("floor", [0, 1])
async def test_the_retry_budget_decides(
    s3: Any, bucket: str, fake: FakeVoipStudio, floor: int
) -> None:
    items = [fake.add_monitor(size=3000, timestamp=WHEN.replace("10", f"1{n}")) for n in (1, 2)]
    for item in items:
        fake.cut_body(f"/monitors/{item}.mp3", times=1)
    sleeps: list[float] = []
    budget = RetryBudget(ratio=0.0, floor=floor, window=3600)
    async with _client(fake, sleeps, max_retries=5, retry_budget=budget) as vs:
        result = await _archive(vs, bucket)
        refused = vs._requester.budget.refused  # type: ignore[union-attr]
    # Two cut bodies, ``floor`` retries in the budget: the others are refused.
    assert refused == 2 - floor
    assert len(sleeps) == floor
    assert result.code != 0
    assert result.err.count("failed recording") == 2 - floor, result.err
    assert open_uploads(s3, bucket) == []


@pytest.mark.parametrize(
    ("deadline", "waits"),
    [(7.5, 4), (3.9, 3), (0.4, 0)],  # waits of 0.5, 1, 2, 4, 8 s: those ending in time
)
async def test_the_deadline_bounds_the_retries(
    s3: Any, bucket: str, fake: FakeVoipStudio, deadline: float, waits: int
) -> None:
    item = fake.add_monitor(size=2000, timestamp=WHEN)
    fake.cut_body(f"/monitors/{item}.mp3", times=10)
    sleeps: list[float] = []
    async with _client(fake, sleeps, max_retries=10, deadline=deadline) as vs:
        result = await _archive(vs, bucket)
    assert sleeps == _backoffs(waits)
    assert _requests_of(fake, item) == waits + 1
    assert f"failed recording {item}: " in result.err
    assert "deadline" in result.err
    assert not _archived(s3, bucket, item)
    assert open_uploads(s3, bucket) == []


class _Busy(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint that always answers 503 SlowDown, counting the calls."""

    calls = 0

    def do_HEAD(self) -> None:
        type(self).calls += 1
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


async def test_s3_retries_are_botocores_alone_and_configured_once(
    fake: FakeVoipStudio, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No ~/.aws config may change the retry mode under test.
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sleeps: list[float] = []
    try:
        async with _client(fake, sleeps) as vs:
            endpoint = f"http://127.0.0.1:{server.server_address[1]}"
            result = await voipstudio(
                vs,
                "monitors",
                "download",
                *PERIOD,
                "--dest",
                "s3://b-1/x",
                "--s3-endpoint-url",
                endpoint,
            )
            budget = vs._requester.budget
    finally:
        server.shutdown()
        server.server_close()
    assert result.code == 2, result.err
    # botocore's attempts, once: no second retry loop around them, and none of the API's.
    assert _Busy.calls == S3_MAX_ATTEMPTS
    assert sleeps == []
    assert budget is not None and budget.refused == 0
    assert fake.requests == []
