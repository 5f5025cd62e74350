"""Paths and pipes: empty paths refused, files that are not directories named as such, no
empty folders left by a failed run, a closed pipe ends quietly, JSONL with or without
orjson, dates before year 1000 refused, help texts that describe the command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import PERIOD, Cli, files

from voipstudio_async.cli import _export
from voipstudio_async.cli._args import build_parser
from voipstudio_async.testing import FakeVoipStudio

SCRIPT = Path(sys.executable).with_name("voipstudio")
DEST_COMMANDS = (["archive"], ["monitors", "download"], ["voicemessages", "download"])


@pytest.mark.parametrize("command", DEST_COMMANDS)
@pytest.mark.parametrize("empty", ["", " "])
async def test_an_empty_dest_is_refused(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path, command: list[str], empty: str
) -> None:
    (tmp_path / "keep").write_text("x")
    result = await cli(*command, *PERIOD, "--dest", empty)
    assert (result.code, result.err) == (2, "voipstudio: error: --dest: empty path\n")
    assert fake.requests == []


@pytest.mark.parametrize("empty", ["", " "])
async def test_an_empty_output_is_refused(cli: Cli, fake: FakeVoipStudio, empty: str) -> None:
    result = await cli("cdrs", "export", *PERIOD, "-o", empty)
    assert (result.code, result.err) == (2, "voipstudio: error: -o/--output: empty path\n")
    assert fake.requests == []


@pytest.mark.parametrize("command", DEST_COMMANDS)
async def test_a_dest_that_is_a_file_is_not_a_directory(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path, command: list[str]
) -> None:
    existing = tmp_path / "notes.txt"
    existing.write_text("mine")
    result = await cli(*command, *PERIOD, "--dest", str(existing))
    assert result.code == 2
    assert result.err == f"voipstudio: error: cannot write to {existing}: not a directory\n"
    assert existing.read_text() == "mine" and fake.requests == []


@pytest.mark.parametrize("command", DEST_COMMANDS)
@pytest.mark.parametrize("depth", [1, 3])
async def test_a_failed_run_leaves_no_empty_folders(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path, command: list[str], depth: int
) -> None:
    fake.fail("/cdrs", 500)
    fake.fail("/monitors", 500)
    fake.fail("/voicemessages", 500)
    dest = tmp_path.joinpath(*[f"level{i}" for i in range(depth)])
    result = await cli(*command, *PERIOD, "--dest", str(dest))
    assert result.code == 1 and "API error: 500" in result.err
    assert files(tmp_path) == []


async def test_a_failed_run_keeps_the_folders_that_were_there(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    (tmp_path / "monitors").mkdir()
    fake.fail("/cdrs", 500)
    result = await cli("archive", *PERIOD, "--dest", str(tmp_path))
    assert result.code == 1
    assert files(tmp_path) == ["monitors"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("reader", [["head", "-c", "100"], ["head", "-n", "1"], ["true"]])
def test_a_closed_pipe_ends_quietly(fmt: str, reader: list[str]) -> None:
    # Enough rows to fill the pipe's buffer after the reader has gone.
    argv = [str(SCRIPT), "--fake", "cdrs", "export", "--since", "2026-05-01"]
    argv += ["--until", "2026-11-01", "--format", fmt, "-o", "-"]
    writer = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert writer.stdout is not None
    head = subprocess.run(reader, stdin=writer.stdout, capture_output=True, check=True)
    writer.stdout.close()
    _, err = writer.communicate(timeout=60)
    assert head.returncode == 0
    assert err.decode() == ""
    assert writer.returncode in (0, 141)


@pytest.mark.parametrize("with_orjson", [True, False])
async def test_jsonl_is_compact_and_the_same_with_or_without_orjson(
    cli: Cli,
    fake: FakeVoipStudio,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    with_orjson: bool,
) -> None:
    if not with_orjson:
        monkeypatch.setattr(_export, "orjson", None)
    out = tmp_path / f"cdrs-{with_orjson}.jsonl"
    result = await cli("cdrs", "export", *PERIOD, "--format", "jsonl", "-o", str(out))
    assert result.code == 0, result.err
    lines = out.read_bytes().splitlines()
    rows = [json.loads(line) for line in lines]
    assert lines == [
        json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() for row in rows
    ]
    assert rows and len({row["id"] for row in rows}) == len(rows)


def test_jsonl_bytes_agree_on_awkward_values(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        {"s": 'Zoë — 東京 "q" \\ \n\t\u2028', "n": None, "b": True, "i": -(2**53), "f": 0.1},
        {"nested": {"a": [1, 2.5, "x"]}, "empty": "", "list": []},
    ]
    fast = _export._jsonl(rows)
    monkeypatch.setattr(_export, "orjson", None)
    assert _export._jsonl(rows) == fast


@pytest.mark.parametrize("date", ["0999-01-01", "0001-01-01", "0500-06-01 10:00:00"])
async def test_years_before_1000_are_refused(
    cli: Cli, fake: FakeVoipStudio, capsys: pytest.CaptureFixture[str], date: str
) -> None:
    result = await cli("cdrs", "list", "--since", date)
    err = capsys.readouterr().err
    assert result.code == 2
    assert f"invalid date {date!r}: the year must be 1000 or later" in err
    assert fake.requests == []


def _help(*path: str) -> str:
    parser = build_parser()
    action = parser._subparsers._group_actions[0]  # type: ignore[union-attr]
    for name in path:
        parser = action.choices[name]  # type: ignore[union-attr]
        if parser._subparsers is not None:
            action = parser._subparsers._group_actions[0]
    return parser.format_help()


def test_help_describes_each_command() -> None:
    assert "Move the voicemails with the given ids" in _help("voicemessages", "move")
    export = _help("cdrs", "export")
    assert "manifest" not in export and "appears only complete" in export
