"""``cdrs export -o``: standard output, FIFOs, devices and symlinks are written, never replaced."""

from __future__ import annotations

import csv
import io
import os
import socket
import stat
import threading
from pathlib import Path

import pytest
from cli_helpers import PERIOD, Cli, files, period_ids

from voipstudio_async.testing import FakeVoipStudio


def csv_ids(text: str) -> list[int]:
    return [int(row["id"]) for row in csv.DictReader(io.StringIO(text, newline=""))]


async def test_dash_writes_the_rows_to_standard_output(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = await cli("cdrs", "export", *PERIOD, "-o", "-")
    assert result.code == 0, result.err
    expected = period_ids(fake, "cdrs", "calldate")
    assert csv_ids(result.out) == expected
    assert f"{len(expected)} rows -> standard output" in result.err
    assert files(tmp_path) == []  # no file named "-"


async def test_a_fifo_is_written_in_place_not_replaced(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    fifo = tmp_path / "cdrs.csv"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(
        target=lambda: received.append(fifo.read_text(encoding="utf-8")), daemon=True
    )
    reader.start()
    try:
        result = await cli("cdrs", "export", *PERIOD, "-o", str(fifo))
    finally:
        reader.join(timeout=30)
        if reader.is_alive():  # the export never opened it: let the reader see EOF
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            reader.join(timeout=30)
    assert result.code == 0, result.err
    assert csv_ids(received[0]) == period_ids(fake, "cdrs", "calldate")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert files(tmp_path) == ["cdrs.csv"]


async def test_a_device_is_written_in_place(cli: Cli, tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to(os.devnull)
    result = await cli("cdrs", "export", *PERIOD, "-o", str(link))
    assert result.code == 0, result.err
    assert link.is_symlink() and stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert files(tmp_path) == ["null"]


async def test_through_a_symlink_the_target_is_replaced_and_the_link_kept(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    real = tmp_path / "data" / "cdrs.csv"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    result = await cli("cdrs", "export", *PERIOD, "-o", str(link))
    assert result.code == 0, result.err
    assert link.is_symlink() and link.resolve() == real
    assert csv_ids(real.read_text()) == period_ids(fake, "cdrs", "calldate")
    assert files(real.parent) == ["cdrs.csv"]


async def test_a_socket_is_refused_before_anything_is_sent(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        fake.reset_log()
        result = await cli("cdrs", "export", *PERIOD, "-o", str(path))
    assert result.code == 2
    assert f"cannot write {path}: is a socket" in result.err
    assert fake.requests == []
