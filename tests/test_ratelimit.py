"""The client's shared limiter: decisions with an injected clock, then 64 tasks on loopback."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import httpx
import pytest

from voipstudio_async import APITimeoutError, RateLimit, VoipStudio
from voipstudio_async._constants import RATE_CUBIC_BETA, RATE_CUBIC_SCALE
from voipstudio_async._ratelimit import LocalLimiter
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread
from voipstudio_async.testing.__main__ import parser
from voipstudio_async.testing._ratelimit import ServerRateLimit


class Clock:
    """A clock that only moves when the limiter sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(round(delay, 6))
        self.now += delay


def succeed(lim: LocalLimiter, clock: Clock, count: int) -> None:
    """``count`` successes spread evenly over the next second: an accepted rate of ``count``/s."""
    for _ in range(count):
        clock.now += 1.0 / count
        lim.on_success()


def limiter(clock: Clock, **limit: Any) -> LocalLimiter:
    return LocalLimiter(RateLimit(**limit), clock=clock, sleep=clock.sleep, random=lambda: 1.0)


async def test_unthrottled_adaptive_limiter_never_waits() -> None:
    clock = Clock()
    lim = limiter(clock)
    for _ in range(1000):
        await lim.acquire()
        lim.on_success()
    assert clock.sleeps == [] and lim.rate(clock.now) is None


@pytest.mark.parametrize(
    ("rps", "burst", "expected"),
    [
        (10.0, None, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.1, 0.1]),
        (10.0, 1, [0, 0.1, 0.1, 0.1]),
        (4.0, 2, [0, 0, 0.25, 0.25]),
    ],
)
async def test_static_cap_spaces_requests_after_the_burst(
    rps: float, burst: int | None, expected: list[float]
) -> None:
    clock = Clock()
    lim = limiter(clock, requests_per_second=rps, burst=burst)
    waits = []
    for _ in expected:
        before = clock.now
        await lim.acquire()
        waits.append(round(clock.now - before, 6))
    assert waits == expected


@pytest.mark.parametrize(
    ("retry_after", "pause"),
    [(2.0, 2.0), (0.05, 0.05), (None, 0.5)],  # without Retry-After: the jittered backoff
)
async def test_a_throttle_pauses_every_later_request(
    retry_after: float | None, pause: float
) -> None:
    clock = Clock()
    lim = limiter(clock)
    succeed(lim, clock, 20)
    lim.on_throttle(clock.now, retry_after)
    await lim.acquire()
    assert clock.sleeps == [pause]
    assert lim.throttles == 1


async def test_an_echo_of_a_throttle_does_not_lower_the_rate_again() -> None:
    clock = Clock()
    lim = limiter(clock)
    succeed(lim, clock, 50)
    sent = clock.now
    clock.now += 0.01
    lim.on_throttle(sent, 0.01)
    rate = lim.rate(clock.now)
    for _ in range(30):  # the rest of the first wave, sent before the throttle
        lim.on_throttle(sent, 0.01)
    assert lim.throttles == 1 and lim.rate(clock.now) == rate == pytest.approx(50.0, rel=0.05)


async def test_slow_start_then_cubic_around_the_accepted_rate() -> None:
    clock = Clock()
    lim = limiter(clock)
    succeed(lim, clock, 20)
    lim.on_throttle(clock.now, 0.0001)
    start = clock.now + 0.0001  # rates grow from the end of the pause
    assert lim.rate(start) == pytest.approx(20.0, rel=0.06)
    assert lim.rate(start + 0.5) == pytest.approx(2 * lim.rate(start))  # doubles every 0.5 s
    assert lim.rate(start + 1.5) == pytest.approx(8 * lim.rate(start))
    # The server accepted 100/s over the last second when the next 429 came.
    clock.now = start + 1.0
    succeed(lim, clock, 100)
    lim.on_throttle(clock.now, 0.0001)
    t0 = clock.now + 0.0001
    ceiling = lim.rate(t0) / RATE_CUBIC_BETA
    assert ceiling == pytest.approx(100.0, rel=0.02)  # what the server accepted
    k = (ceiling * (1 - RATE_CUBIC_BETA) / RATE_CUBIC_SCALE) ** (1 / 3)
    assert lim.rate(t0 + k) == pytest.approx(ceiling)  # back at the ceiling after K
    assert lim.rate(t0 + k + 1) == pytest.approx(ceiling + RATE_CUBIC_SCALE)  # slow probe
    assert lim.rate(t0 + k / 2) < ceiling


async def test_requests_released_from_a_pause_leave_one_by_one() -> None:
    clock = Clock()
    lim = limiter(clock)
    succeed(lim, clock, 10)
    lim.on_throttle(clock.now, 1.0)  # slow start from 10/s
    waits = []
    for _ in range(4):
        before = clock.now
        await lim.acquire()
        waits.append(round(clock.now - before, 6))
    # About 1/10 s apart (the rate grows a little during slow start), never together.
    assert waits[0] == 1.0 and all(0.05 < wait <= 0.1 for wait in waits[1:]), waits


async def test_a_wait_past_the_deadline_raises_without_sleeping() -> None:
    clock = Clock()
    lim = limiter(clock)
    succeed(lim, clock, 1)
    lim.on_throttle(clock.now, 5.0)
    with pytest.raises(APITimeoutError, match="deadline"):
        await lim.acquire(deadline=clock.now + 4.0)
    assert clock.sleeps == []
    await lim.acquire(deadline=clock.now + 6.0)
    assert clock.sleeps == [5.0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"requests_per_second": 0},
        {"requests_per_second": -1.0},
        {"requests_per_second": math.inf},
        {"requests_per_second": True},
        {"requests_per_second": 5, "burst": 0},
        {"requests_per_second": 5, "burst": 1.5},
        {"burst": 3},
    ],
)
def test_bad_rate_limits_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"requests_per_second|burst"):
        RateLimit(**kwargs)


def test_rate_limit_must_be_a_rate_limit() -> None:
    with pytest.raises(TypeError):
        VoipStudio(1, "k", rate_limit=20)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("http_backend", "retry_after"), [("httpx", True), ("aiohttp", True), ("httpx", False)]
)
async def test_64_tasks_share_one_limiter_on_loopback(http_backend: str, retry_after: bool) -> None:
    fake = FakeVoipStudio(seed=5, cdrs=20, monitors=1, voicemessages=1, chats=1, msdrs=1)
    answers: list[tuple[float, float, int]] = []  # (sent, answered, status)
    sent_at: dict[int, float] = {}
    loop = asyncio.get_running_loop()

    async def on_request(request: httpx.Request) -> None:
        sent_at[id(request)] = loop.time()

    async def on_response(response: httpx.Response) -> None:
        answers.append((sent_at[id(response.request)], loop.time(), response.status_code))

    creds = fake.credentials
    with serve_in_thread(fake) as base_url:
        async with VoipStudio(
            creds.user_id,
            creds.api_key,
            base_url=base_url,
            max_concurrency=64,
            http_backend=http_backend,  # type: ignore[arg-type]
        ) as vs:
            # Connect first: on a loaded machine connecting 64 sockets takes long enough
            # to smear the first wave across the rest of the test.
            await asyncio.gather(*(vs.cdrs.get(1) for _ in range(64)))
            server = fake.rate_limit(40, burst=5, retry_after=retry_after)
            assert server is not None
            vs._requester._http.event_hooks = {"request": [on_request], "response": [on_response]}

            async def task() -> None:
                for _ in range(3):
                    await vs.cdrs.get(1)

            await asyncio.gather(*(task() for _ in range(64)))
    assert sum(1 for *_, status in answers if status < 400) == 192  # every task finished
    # The first wave (64 requests at once) meets an empty bucket; after its first 429
    # the client paces itself instead of sending wave after wave.
    first_429 = min(answered for _, answered, status in answers if status == 429)
    later = [status for sent, _, status in answers if sent > first_429 and status == 429]
    assert len(later) <= 32, (len(later), server.refused)


@pytest.mark.parametrize("retry_after", [True, False])
def test_the_fake_refuses_beyond_its_bucket(retry_after: bool) -> None:
    now = [0.0]
    limit = ServerRateLimit(10, burst=2, retry_after=retry_after, clock=lambda: now[0])
    assert limit.check() is None and limit.check() is None
    refused = limit.check()
    assert refused is not None and refused.status == 429
    headers = dict(refused.headers)
    if retry_after:
        assert headers[b"retry-after"] == b"1" and headers[b"retry-after-ms"] == b"100.0"
    else:
        assert b"retry-after" not in headers
    now[0] = 0.1  # one token refilled
    assert limit.check() is None and limit.check() is not None
    assert (limit.admitted, limit.refused) == (3, 2)


def test_the_fake_command_takes_a_rate_limit() -> None:
    assert parser().parse_args(["--rate-limit", "50"]).rate_limit == 50.0
