"""Every ``voipstudio`` command in README.md's shell examples runs, with ``--fake``.

Continuation lines are joined; other shell lines (``export``, the fake server) are not
commands of ours. Each command runs in process in a temporary working directory against
its own fake account (the one ``--fake`` builds), and answers yes when it asks.
"""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from voipstudio_async.cli import run

README = Path(__file__).resolve().parents[2] / "README.md"
SHELL_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def commands() -> Iterator[object]:
    text = README.read_text(encoding="utf-8")
    for block in SHELL_BLOCK.finditer(text):
        first = text.count("\n", 0, block.start(1)) + 1
        pending, start = "", first
        for offset, line in enumerate(block.group(1).splitlines()):
            if not pending:
                start = first + offset
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            command, pending = pending + line, ""
            # s3:// examples need an S3 server: tests/s3/test_s3_readme.py runs them.
            if command.startswith("voipstudio ") and "s3://" not in command:
                argv = shlex.split(command, comments=True)[1:]
                yield pytest.param(argv, id=f"README.md:{start}")


def test_readme_has_cli_examples() -> None:
    assert len(list(commands())) >= 10


@pytest.mark.parametrize("argv", list(commands()))
async def test_readme_cli_example_runs(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    code = await run(
        ["--fake", *argv], stdout=out, stderr=err, environ={}, confirm=lambda question: True
    )
    assert code == 0, err.getvalue()
    assert err.getvalue() == ""
