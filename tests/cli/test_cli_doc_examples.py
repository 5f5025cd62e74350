"""Every ``voipstudio`` command in the shell examples of README.md and the site's guides
runs, with ``--fake``.

Continuation lines are joined; other shell lines (``export``, the fake server) are not
commands of ours. Each command runs in process in a temporary working directory against
its own fake account (the one ``--fake`` builds), and answers yes when it asks.
"""

from __future__ import annotations

import io
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from _docs import all_blocks
from cli_helpers import without_progress

from voipstudio_async.cli import run


def commands() -> Iterator[object]:
    for block in all_blocks("sh"):
        pending, start = "", block.line
        for offset, line in enumerate(block.source.splitlines()):
            if not pending:
                start = block.line + offset
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            command, pending = pending + line, ""
            # s3:// examples need an S3 server: tests/s3/test_s3_guide_examples.py runs them.
            if command.startswith("voipstudio ") and "s3://" not in command:
                argv = shlex.split(command, comments=True)[1:]
                page = block.id.rsplit(":", 1)[0]
                yield pytest.param(argv, id=f"{page}:{start}")


def test_the_pages_have_cli_examples() -> None:
    assert len(list(commands())) >= 10


@pytest.mark.parametrize("argv", list(commands()))
async def test_cli_example_runs(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    code = await run(
        ["--fake", *argv], stdout=out, stderr=err, environ={}, confirm=lambda question: True
    )
    assert code == 0, err.getvalue()
    assert without_progress(err.getvalue()) == ""
