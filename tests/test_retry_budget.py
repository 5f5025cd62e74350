"""The retry budget: decisions with an injected clock, then a failing server on the fake."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from voipstudio_async import InternalServerError, RetryBudget, VoipStudio
from voipstudio_async._policies.budget import _Budget
from voipstudio_async.testing import FakeVoipStudio


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("calls", "ratio", "floor", "allowed"),
    [
        (0, 0.2, 3, 3),  # a quiet client keeps its floor
        (100, 0.2, 3, 20),
        (100, 0.2, 30, 30),
        (100, 0.0, 0, 0),
        (10, 0.5, 0, 5),
    ],
)
def test_retries_allowed_per_window(calls: int, ratio: float, floor: int, allowed: int) -> None:
    clock = Clock()
    budget = _Budget(RetryBudget(ratio=ratio, window=10.0, floor=floor), clock=clock)
    for _ in range(calls):
        budget.on_call()
    granted = sum(budget.allows("GET", "/cdrs", 503) for _ in range(100))
    assert granted == allowed and budget.refused == 100 - allowed


def test_the_window_slides() -> None:
    clock = Clock()
    budget = _Budget(RetryBudget(ratio=0.0, window=10.0, floor=2), clock=clock)
    assert budget.allows("GET", "/cdrs", 503) and budget.allows("GET", "/cdrs", 503)
    assert not budget.allows("GET", "/cdrs", 503)
    clock.now = 10.5  # both retries left the window
    assert budget.allows("GET", "/cdrs", 503)


def test_a_refusal_is_logged_at_info_with_metadata_only(caplog: pytest.LogCaptureFixture) -> None:
    budget = _Budget(RetryBudget(ratio=0.0, floor=0), clock=Clock())
    with caplog.at_level(logging.INFO, logger="voipstudio_async"):
        assert not budget.allows("GET", "/cdrs/{id}", 503)
    [record] = caplog.records
    assert record.levelno == logging.INFO and "retry budget spent" in record.getMessage()
    assert record.path_template == "/cdrs/{id}"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "kwargs",
    [{"ratio": -0.1}, {"ratio": float("nan")}, {"window": 0}, {"floor": -1}, {"floor": 1.5}],
)
def test_bad_budgets_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"ratio|window|floor"):
        RetryBudget(**kwargs)


async def _storm(budget: RetryBudget | None) -> tuple[int, int, int]:
    """200 calls against a server failing half of all requests with 503: (sent, ok, failed)."""
    fake = FakeVoipStudio(seed=9, cdrs=10, monitors=1, voicemessages=1, chats=1, msdrs=1)
    fake.fail("/cdrs/*", status=503, probability=0.5)
    creds = fake.credentials
    ok = failed = 0
    async with VoipStudio(
        creds.user_id,
        creds.api_key,
        base_url=fake.base_url,
        transport=fake.transport(),
        retry_budget=budget,
        max_retries=5,
    ) as vs:

        async def no_sleep(_: float) -> None:
            return None

        vs._requester._sleep = no_sleep
        for _ in range(200):
            try:
                await vs.cdrs.get(1)
                ok += 1
            except InternalServerError:
                failed += 1
    return len(fake.requests), ok, failed


async def test_the_budget_bounds_the_extra_load_of_a_retry_storm() -> None:
    sent, ok, failed = await _storm(RetryBudget(ratio=0.2, window=10.0, floor=5))
    assert ok + failed == 200
    assert sent <= 200 * 1.2 + 5  # retries at most 20% of the calls, plus the floor
    unbounded, ok_unbounded, _ = await _storm(None)
    assert unbounded > 1.5 * 200 and ok_unbounded > ok  # what the budget saves
