"""Guards of the request core's structure: one worker pool, hand-typed paths nowhere."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from voipstudio_async._bulk import run_each

PACKAGE = Path(__file__).resolve().parents[1] / "voipstudio_async"


def test_no_path_template_is_typed_by_hand() -> None:
    # Every template comes from operation(module).path: a literal drifts from the spec.
    literal = re.compile(r"""path_template\s*=\s*f?["']""")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert offenders == []


async def test_run_each_keeps_order_and_per_item_errors_within_its_bound() -> None:
    in_flight = peak = 0

    async def work(item: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        if item == 3:
            raise ValueError("three")
        return item * 10

    results = await run_each(list(range(6)), work, 2)
    assert peak == 2
    assert [r if not isinstance(r, Exception) else "error" for r in results] == [
        0,
        10,
        20,
        "error",
        40,
        50,
    ]


async def test_run_each_raises_what_on_done_raised_and_stops_the_rest() -> None:
    started: list[int] = []

    async def work(item: int) -> int:
        started.append(item)
        await asyncio.sleep(0)
        return item

    async def on_done(item: int, result: int | Exception) -> None:
        if item == 1:
            raise KeyError(item)

    with pytest.raises(KeyError):
        await run_each(list(range(100)), work, 2, on_done)
    assert len(started) < 100
