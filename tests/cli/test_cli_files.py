"""Files the CLI and the download engines create on disk: their permissions."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import PERIOD, Cli


@pytest.fixture
def umask() -> Iterator[None]:
    """Run with umask 022 (and put the test runner's back afterwards)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.stat().st_mode)
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.mark.usefixtures("umask")
async def test_archived_files_are_created_like_open_does(cli: Cli, tmp_path: Path) -> None:
    result = await cli("archive", *PERIOD, "--dest", str(tmp_path))
    assert result.code == 0, result.err
    found = modes(tmp_path)
    assert any(name.endswith(".mp3") for name in found)
    assert {"cdrs.csv", "monitors/manifest.jsonl"} <= found.keys()
    assert {name: mode for name, mode in found.items() if mode != 0o644} == {}
