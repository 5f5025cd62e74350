"""Progress bars in a terminal, none in a pipe; results on stdout either way."""

from __future__ import annotations

import io
import sys
import threading
from pathlib import Path

import pytest
from cli_helpers import PERIOD

from voipstudio_async import VoipStudio
from voipstudio_async.cli import run
from voipstudio_async.cli._units import human_bytes


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_progress_bars_only_in_a_terminal(client: VoipStudio, tmp_path: Path) -> None:
    argv = ["archive", *PERIOD, "--dest", str(tmp_path)]
    out, err = io.StringIO(), Terminal()
    assert await run(argv, client=client, stdout=out, stderr=err) == 0
    assert "recordings" in err.getvalue() and "\x1b[" in err.getvalue()  # drawn bars
    assert "\x1b[" not in out.getvalue() and "recordings" in out.getvalue()
    for thread in threading.enumerate():
        if type(thread).__name__ == "_RefreshThread":  # rich stops it without joining
            thread.join(1)
            assert not thread.is_alive()

    piped_out, piped_err = io.StringIO(), io.StringIO()
    assert await run(argv, client=client, stdout=piped_out, stderr=piped_err) == 0
    # Not a terminal: no bar, a plain line per finished step (see test_cli_progress.py).
    assert "\x1b[" not in piped_err.getvalue()
    assert [line.split(":")[1] for line in piped_err.getvalue().splitlines()] == [
        " done CDRs",
        " done recordings",
        " done voicemails",
    ]
    assert "0 downloaded" in piped_out.getvalue()


def test_human_bytes() -> None:
    sizes = (0, 999, 1000, 1_234_567, 5 * 10**12, 7 * 10**15)
    assert [human_bytes(n) for n in sizes] == [
        "0 B",
        "999 B",
        "1.0 kB",
        "1.2 MB",
        "5.0 TB",
        "7000.0 TB",
    ]


async def test_purge_asks_on_the_terminal(
    client: VoipStudio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    out, err = io.StringIO(), Terminal()
    argv = ["archive", *PERIOD, "--dest", str(tmp_path), "--purge"]
    assert await run(argv, client=client, stdout=out, stderr=err) == 0
    assert "from VoIPstudio (archived and verified)? [y/N]" in err.getvalue()
    assert "[y/N]" not in out.getvalue()  # the prompt never lands in the results
    assert "purge: cancelled, nothing deleted" in out.getvalue()
