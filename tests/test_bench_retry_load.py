"""bench.retry_load's parts that decide its figures: the raw httpx loop it compares the
SDK with, the rows' arithmetic and the targets' verdicts (in process, nothing served)."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench import retry_load
from voipstudio_async.testing import FakeVoipStudio

RESULTS = Path(retry_load.__file__).parent / "results" / "retry_load.json"


def _client(fake: FakeVoipStudio) -> httpx.AsyncClient:
    creds = fake.credentials
    return httpx.AsyncClient(
        transport=fake.transport(),
        base_url=fake.base_url,
        auth=httpx.BasicAuth(str(creds.user_id), creds.api_key),
    )


@pytest.mark.parametrize("refusals", [0, 1, retry_load.RAW_ATTEMPTS - 1])
async def test_the_raw_loop_sends_again_after_each_429(refusals: int) -> None:
    fake = FakeVoipStudio(seed=1, cdrs=3)
    if refusals:
        fake.fail("/cdrs/*", 429, times=refusals, retry_after=0)
    async with _client(fake) as client:
        response = await retry_load.raw_get(client, f"{fake.base_url}/cdrs/1")
    assert response.status_code == 200
    assert len(fake.requests) == refusals + 1


async def test_the_raw_loop_gives_up_after_its_attempts() -> None:
    fake = FakeVoipStudio(seed=1, cdrs=3)
    fake.fail("/cdrs/*", 429, retry_after=0)
    async with _client(fake) as client:
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await retry_load.raw_get(client, f"{fake.base_url}/cdrs/1")
    assert caught.value.response.status_code == 429
    assert len(fake.requests) == retry_load.RAW_ATTEMPTS


async def test_the_raw_loop_sleeps_the_retry_after() -> None:
    fake = FakeVoipStudio(seed=1, cdrs=3)
    fake.fail("/cdrs/*", 429, times=1, retry_after=1)
    async with _client(fake) as client:
        start = time.monotonic()
        await retry_load.raw_get(client, f"{fake.base_url}/cdrs/1")
    assert time.monotonic() - start >= 1.0


@pytest.mark.parametrize("status", [500, 503, 404])
async def test_the_raw_loop_raises_other_errors_at_once(status: int) -> None:
    fake = FakeVoipStudio(seed=1, cdrs=3)
    fake.fail("/cdrs/*", status)
    async with _client(fake) as client:
        with pytest.raises(httpx.HTTPStatusError):
            await retry_load.raw_get(client, f"{fake.base_url}/cdrs/1")
    assert len(fake.requests) == 1


def test_a_limited_row_is_computed_from_the_counts() -> None:
    counts = {"ok": 400, "failed": 0, "seconds": 4.0, "sent": 500, "answered_429": 100}
    row = retry_load.limited_row(counts)
    assert row["goodput"] == 100.0
    assert row["vs_limit"] == 100.0 / retry_load.LIMIT
    assert row["share_429"] == 0.2


@pytest.mark.parametrize(("ok", "failed", "sent", "per_call"), [(10, 0, 12, 1.2), (5, 5, 30, 3.0)])
def test_a_storm_row_counts_requests_per_call_failed_ones_included(
    ok: int, failed: int, sent: int, per_call: float
) -> None:
    row = retry_load.storm_row({"ok": ok, "failed": failed, "sent": sent, "seconds": 2.0})
    assert row["per_call"] == per_call
    assert row["sent_per_s"] == sent / 2.0


def _run() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RESULTS.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("key", list(retry_load.TARGETS))
@pytest.mark.parametrize("side", ["meets", "misses"])
def test_each_target_is_met_or_missed_by_its_own_value(key: str, side: str) -> None:
    target = retry_load.TARGETS[key]
    data = copy.deepcopy(_run())
    *parents, leaf = target.path.split(".")
    row = data
    for name in parents:
        row = row[name]
    step = 0.01 if target.op == ">=" else -0.01
    row[leaf] = target.threshold if side == "meets" else target.threshold - step
    for other in retry_load.TARGETS.values():  # the others met, to see this one alone
        if other is not target:
            *others, last = other.path.split(".")
            place = data
            for name in others:
                place = place[name]
            place[last] = other.threshold
    checked = retry_load.check(data)
    assert checked[key]["met"] is (side == "meets")
    assert [k for k, entry in checked.items() if not entry["met"]] == (
        [] if side == "meets" else [key]
    )
    verdict = retry_load.verdict(checked)
    assert verdict == ("met" if side == "meets" else f"missed: {target.label}")


def test_the_goals_read_as_the_guide_writes_them() -> None:
    goals = {key: entry["goal"] for key, entry in retry_load.check(_run()).items()}
    assert goals == {
        "goodput": "≥ 0.9\N{MULTIPLICATION SIGN}",
        "answered-429": "≤ 3%",
        "failed": "≤ 0",
        "storm": "≤ 1.3",
    }


def test_the_committed_run_holds_its_own_verdicts() -> None:
    data = _run()
    assert data["targets"] == retry_load.check(data)
    assert data["verdict"] == retry_load.verdict(data["targets"])
    assert set(data["limited"]) == {name for name, _, _ in retry_load.LIMITED}
    assert set(data["storm"]) == {name for name, _ in retry_load.STORMS}
