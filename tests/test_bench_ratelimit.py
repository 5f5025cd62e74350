"""``bench.ratelimit``'s verdicts: which of issue 21's targets each cell is held to, where
each target's line falls, and the figures a row's verdict is computed from (no cell is
run: rows are built by hand, as ``_row`` makes them)."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bench import ratelimit, ratelimit_webapp
from bench.ratelimit import BUCKET, Cell

ROOT = Path(__file__).resolve().parents[1]
CELLS = {cell.name: cell for cell in ratelimit.cells()}
BASE = {"goodput", "answered-429", "failed"}


def _row(**figures: Any) -> dict[str, Any]:
    row = {
        "vs_reachable": 1.0,
        "share_429": 0.0,
        "failed": 0,
        "spread": 0.0,
        "recovered_after": 1.0,
    }
    return row | figures


@pytest.mark.parametrize(
    ("name", "targets"),
    [
        ("200-httpx-gathered", BASE),
        ("50-aiohttp-loops", BASE),
        ("200-x4-clients-gathered", BASE),  # one process: no per-process spread
        ("200-x4-own-loops", BASE | {"spread"}),
        ("50-x4-redis-gathered", BASE | {"spread"}),
        ("changing-gathered", BASE - {"goodput"} | {"goodput-changing"}),
        ("changing-x4-redis", BASE - {"goodput"} | {"goodput-changing", "spread"}),
        ("200-x4-redis-restart", BASE | {"spread", "redis-return"}),
        ("200-x4-redis-restart-gathered", BASE | {"spread", "redis-return"}),
        ("200-x4-redis-unreachable", BASE | {"spread"}),
        ("100-web-bursts", BASE),
    ],
)
def test_each_cell_is_held_to_the_targets_of_its_kind(name: str, targets: set[str]) -> None:
    assert set(ratelimit.meets(CELLS[name], _row())) == targets


@pytest.mark.parametrize(
    ("name", "figures", "target", "met"),
    [
        ("200-httpx-gathered", {"vs_reachable": 0.9}, "goodput", True),
        ("200-httpx-gathered", {"vs_reachable": 0.89}, "goodput", False),
        ("changing-loops", {"vs_reachable": 0.85}, "goodput-changing", True),
        ("changing-loops", {"vs_reachable": 0.84}, "goodput-changing", False),
        ("200-httpx-gathered", {"share_429": 0.03}, "answered-429", True),
        ("200-httpx-gathered", {"share_429": 0.031}, "answered-429", False),
        ("200-httpx-gathered", {"failed": 1}, "failed", False),
        ("200-x4-own-gathered", {"spread": 0.25}, "spread", True),
        ("200-x4-own-gathered", {"spread": 0.26}, "spread", False),
        ("200-x4-redis-restart", {"recovered_after": 0.9}, "redis-return", True),
        ("200-x4-redis-restart", {"recovered_after": 0.89}, "redis-return", False),
        # Redis never came back within the cell: nothing measured is not a pass.
        ("200-x4-redis-restart", {"recovered_after": None}, "redis-return", False),
    ],
)
def test_a_target_is_met_up_to_its_line(
    name: str, figures: dict[str, Any], target: str, met: bool
) -> None:
    verdict = ratelimit.meets(CELLS[name], _row(**figures))
    assert verdict[target] is met
    assert all(ok for other, ok in verdict.items() if other != target)


def _series(*points: tuple[int, int, int]) -> list[list[int]]:
    return [list(point) for point in points]


def test_finish_measures_against_the_reachable_rate_and_past_the_first_second() -> None:
    cell = Cell("c", "200")
    # First second (two points): 100 sent, 50 answered 429; then 400 sent, 4 answered 429.
    series = _series((60, 20, 40), (40, 30, 10), (200, 198, 2), (200, 198, 2))
    row: dict[str, Any] = {"goodput": 180.0, "share_429": 54 / 500, "failed": 0, "spread": 0.0}
    row |= {"recovered_after": None, "series": series}
    done = ratelimit.finish(cell, row, 2.0, unlimited=150.0)
    assert int(1.0 / BUCKET) == 2
    assert done["share_429_after_1s"] == pytest.approx(4 / 400)
    # The client reached only 150/s with no limit: that, not the limit, is reachable.
    assert done["vs_reachable"] == pytest.approx(180 / 150)
    assert done["meets"] == {"goodput": True, "answered-429": False, "failed": True}
    unbound = ratelimit.finish(cell, dict(row), 2.0, unlimited=float("inf"))
    assert unbound["vs_reachable"] == pytest.approx(180 / 200)
    # Processes that started late: the first second is the first second of requests.
    late = dict(row, series=_series((0, 0, 0), (0, 0, 0), *series))
    assert ratelimit.finish(cell, late, 3.0, 150.0)["share_429_after_1s"] == pytest.approx(4 / 400)


@pytest.mark.parametrize(
    ("seconds", "busy"),
    [
        (15.0, [(2.0, 6.0), (8.0, 12.0), (14.0, 15.0)]),
        (12.0, [(2.0, 6.0), (8.0, 12.0)]),
        (8.0, [(2.0, 6.0)]),
        (2.0, []),
    ],
)
def test_the_bursts_cell_is_measured_against_what_the_server_admits_while_busy(
    seconds: float, busy: list[tuple[float, float]]
) -> None:
    cell = CELLS["100-web-bursts"]
    assert ratelimit._busy_windows(seconds) == busy
    # The limit while busy, plus the one-second bucket each quiet spell refills.
    admitted = sum(100 * (end - start) + 100 for start, end in busy)
    assert ratelimit.reachable(cell, seconds, float("inf")) == pytest.approx(admitted / seconds)
    # Other shapes: the limit (or the client's own rate), busy or not.
    assert ratelimit.reachable(replace(cell, shape="loops"), seconds, 80.0) == 80.0


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("200-httpx-gathered", "200/s, httpx, gathered"),
        ("50-x4-redis-loops", "50/s, 4 processes, one Redis, worker loops"),
        ("200-x4-clients-gathered", "200/s, 4 clients in one process, gathered"),
        ("changing-x4-redis", "200 → 50 → 200/s, 4 processes, one Redis, worker loops"),
        (
            "200-x4-redis-restart",
            "200/s, 4 processes, one Redis, Redis killed and restarted, worker loops",
        ),
        (
            "200-x4-redis-restart-gathered",
            "200/s, 4 processes, one Redis, Redis killed and restarted, gathered",
        ),
    ],
)
def test_a_cell_is_named_in_words(name: str, words: str) -> None:
    assert ratelimit.words(CELLS[name]) == words


def test_every_cell_has_its_own_words() -> None:
    named = [ratelimit.words(cell) for cell in ratelimit.cells()]
    assert len(set(named)) == len(named)


def _fake_run_cell(cell: Cell, seconds: float, unlimited: bool = False) -> dict[str, Any]:
    """A cell's row as ``run_cell`` returns it, from two processes' made-up results."""
    points = {str(i): [20, 19, 1] for i in range(int(seconds / BUCKET))}
    results = [{"ok": 19 * len(points), "failed": 0, "errors": {}, "points": points}] * 2
    restart_at = seconds * 0.45 if cell.fault == "redis-restart" else None
    return ratelimit._row(cell, seconds, results, restart_at)


@pytest.fixture
def offline_bench(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """``bench.ratelimit.main`` with no server, client or picture: results to tmp_path."""
    web = json.loads((ROOT / "bench" / "results" / "ratelimit-webapp.json").read_text())
    monkeypatch.setattr(ratelimit, "run_cell", _fake_run_cell)
    monkeypatch.setattr(ratelimit, "_draw", lambda *args: None)
    monkeypatch.setattr(
        ratelimit_webapp,
        "rows",
        lambda seconds, only: [] if only else [dict(row) for row in web["cells"].values()],
    )
    monkeypatch.setattr(ratelimit, "RESULTS", tmp_path / "ratelimit.json")
    monkeypatch.setattr(ratelimit, "TABLE", tmp_path / "ratelimit.md")
    return tmp_path


@pytest.mark.parametrize("argv", [["--quick"], ["--only", "200-httpx-gathered"]])
def test_a_subset_writes_no_results(
    offline_bench: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["bench.ratelimit", *argv])
    assert ratelimit.main() == 0
    assert list(offline_bench.iterdir()) == []


def test_a_whole_run_writes_its_rows_verdicts_and_table(
    offline_bench: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["bench.ratelimit"])
    assert ratelimit.main() == 0
    run = json.loads((offline_bench / "ratelimit.json").read_text())
    web = [cell.name for cell in ratelimit_webapp.cells()]
    assert list(run["by_cell"]) == [cell.name for cell in ratelimit.cells()] + web
    assert all("series" not in row and "meets" in row for row in run["by_cell"].values())
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", run["when"])
    assert 0 <= run["load"]["min"] <= run["load"]["max"]
    assert set(run["targets"]) == {target.name for target in ratelimit.TARGETS}
    table = (offline_bench / "ratelimit.md").read_text()
    assert table == ratelimit.table(run)
    for name in web:  # against the web-app cells' own targets, each missed one named
        missed = [t["target"] for t in run["by_cell"][name]["webapp"]["targets"] if not t["met"]]
        line = next(line for line in table.splitlines() if ratelimit._web_words(name) in line)
        assert ("**missed**" in line) is bool(missed)
        assert all(target in line for target in missed)
