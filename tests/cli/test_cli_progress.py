"""Progress when stderr is not a terminal (cron, CI): a plain line per unfinished step at
least every interval, one per finished step, in one format; a bar on a terminal; nothing
with ``-q``."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import pytest
from cli_helpers import PERIOD, PROGRESS_LINE

from voipstudio_async import VoipStudio
from voipstudio_async.cli import run
from voipstudio_async.cli._progress_lines import LineTracker, progress_line
from voipstudio_async.testing import FakeVoipStudio

# The documented format (docs/guides/cli.md, "Progress in logs").
PROGRESS = re.compile(
    r"voipstudio: progress (?P<step>[^:]+): (?P<items>\d+)"
    r"( of (?P<total>\d+) items \(\d+%\)| items)"
    r", (?P<size>[\d.]+ [kMGT]?B), [\d.]+ items/s(, [\d.]+ [kMGT]?B/s)?(, ETA \d+:\d\d:\d\d)?"
)
DONE = re.compile(
    r"voipstudio: done (?P<step>[^:]+): (?P<items>\d+) items, [\d.]+ [kMGT]?B in \d+:\d\d:\d\d"
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("kwargs", "line"),
    [
        (
            {"items": 1200, "nbytes": 0, "elapsed": 0.5, "total": 5000},
            "progress CDRs: 1200 of 5000 items (24%), 0 B, 2400 items/s, ETA 0:00:02",
        ),
        (
            {"items": 12, "nbytes": 3_100_000, "elapsed": 30, "total": None},
            "progress CDRs: 12 items, 3.1 MB, 0.4 items/s, 103.3 kB/s",
        ),
        (
            {"items": 0, "nbytes": 0, "elapsed": 12, "total": 40},
            "progress CDRs: 0 of 40 items (0%), 0 B, 0.0 items/s",
        ),
        (
            {"items": 7, "nbytes": 2_000_000, "elapsed": 4000, "total": 10},
            "progress CDRs: 7 of 10 items (70%), 2.0 MB, 0.0 items/s, 500 B/s, ETA 0:28:34",
        ),
        (
            {"items": 5000, "nbytes": 1_500_000, "elapsed": 3725, "done": True},
            "done CDRs: 5000 items, 1.5 MB in 1:02:05",
        ),
        (
            {"items": 0, "nbytes": 0, "elapsed": 0, "total": 0},
            "progress CDRs: 0 of 0 items, 0 B, 0.0 items/s",
        ),
    ],
)
def test_the_line_format(kwargs: dict[str, object], line: str) -> None:
    assert progress_line("CDRs", **kwargs) == line  # type: ignore[arg-type]
    assert PROGRESS_LINE.match(f"voipstudio: {line}")


def test_a_stalled_step_still_gets_a_line_every_interval() -> None:
    lines: list[str] = []
    seen = threading.Event()

    def write(line: str) -> None:
        lines.append(line)
        if len(lines) >= 3:
            seen.set()

    with LineTracker(write, interval=0.01) as tracker:
        task = tracker.task("recordings", 10)
        task.advance(2, nbytes=1000)
        assert seen.wait(10)  # nothing advances meanwhile
    assert lines[0].startswith("progress recordings: 2 of 10 items (20%), 1.0 kB, ")
    assert lines[-1].startswith("done recordings: 2 items, 1.0 kB in ")


def test_one_done_line_per_step_as_it_finishes() -> None:
    lines: list[str] = []
    with LineTracker(lines.append, interval=3600) as tracker:
        first = tracker.task("CDRs", None)
        first.set_total(3)
        first.advance(2)
        assert lines == []
        first.advance(1)
        assert len(lines) == 1 and lines[0].startswith("done CDRs: 3 items, 0 B in 0:00:0")
        first.advance(0, nbytes=5)  # late bytes: no second done line
        second = tracker.task("voicemails", None)
        second.advance(4)
    assert [line.split(":")[0] for line in lines] == ["done CDRs", "done voicemails"]


def test_no_done_line_for_a_step_that_failed() -> None:
    lines: list[str] = []
    tracker = LineTracker(lines.append, interval=3600)

    def failing_step() -> None:
        with tracker:
            tracker.task("CDRs", 10).advance(3)
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        failing_step()
    assert lines == []


@pytest.fixture
def slow(fake: FakeVoipStudio) -> FakeVoipStudio:
    fake.drip("/monitors/*.mp3", chunk_size=16 * 1024, interval=0.01)
    return fake


async def test_archive_in_a_log(client: VoipStudio, slow: FakeVoipStudio, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["archive", *PERIOD, "--dest", str(tmp_path), "--concurrency", "1"]
    code = await run(argv, client=client, stdout=out, stderr=err, progress_interval=0.05)
    assert code == 0, err.getvalue()
    lines = err.getvalue().splitlines()
    assert all(PROGRESS.fullmatch(line) or DONE.fullmatch(line) for line in lines), lines
    done = [m["step"] for line in lines if (m := DONE.fullmatch(line))]
    assert done == ["CDRs", "recordings", "voicemails"]
    recordings = [
        m for line in lines if (m := PROGRESS.fullmatch(line)) and m["step"] == "recordings"
    ]
    assert len(recordings) >= 2, lines  # the downloads take several intervals
    assert all(m["total"] is not None for m in recordings)
    assert all("ETA" in m[0] for m in recordings if m["items"] != "0")
    assert any(m["size"] != "0 B" for m in recordings)


async def test_quiet_silences_progress(
    client: VoipStudio, slow: FakeVoipStudio, tmp_path: Path
) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["archive", *PERIOD, "--dest", str(tmp_path), "-q"]
    assert await run(argv, client=client, stdout=out, stderr=err, progress_interval=0.01) == 0
    assert (out.getvalue(), err.getvalue()) == ("", "")


async def test_a_terminal_gets_the_bar_not_lines(
    client: VoipStudio, slow: FakeVoipStudio, tmp_path: Path
) -> None:
    out, err = io.StringIO(), Terminal()
    argv = ["archive", *PERIOD, "--dest", str(tmp_path)]
    assert await run(argv, client=client, stdout=out, stderr=err, progress_interval=0.01) == 0
    assert "\x1b[" in err.getvalue()
    assert "voipstudio: progress" not in err.getvalue()
    assert "voipstudio: done" not in err.getvalue()


async def test_a_sync_in_a_log_has_a_done_line_per_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    argv = ["sync", "--fake", "--resources", "chats,voicemessages", "--to", "duckdb:///x.duckdb"]
    assert await run(argv, stdout=out, stderr=err, environ={}, progress_interval=0.05) == 0
    done = [m for line in err.getvalue().splitlines() if (m := DONE.fullmatch(line))]
    assert sorted(m["step"] for m in done) == ["chats", "voicemessages"]
    reported = {line.split()[0]: int(line.split()[1]) for line in out.getvalue().splitlines()[:2]}
    assert {m["step"]: int(m["items"]) for m in done} == reported
