"""The command-line guide's ``s3://`` examples (docs/guides/cli.md) run as written (with
``--fake``) against moto on loopback; only the example endpoint is replaced by the test
server's."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from s3_helpers import objects, open_uploads, voipstudio

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "cli.md"
SHELL_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def s3_commands() -> list[list[str]]:
    found = []
    for block in SHELL_BLOCK.finditer(GUIDE.read_text(encoding="utf-8")):
        text = block.group(1).replace("\\\n", " ")
        for line in text.splitlines():
            if line.startswith("voipstudio ") and "s3://" in line:
                found.append(shlex.split(line, comments=True)[1:])
    return found


def test_the_guide_has_s3_examples() -> None:
    assert len(s3_commands()) >= 3


@pytest.mark.parametrize("argv", s3_commands(), ids=lambda argv: " ".join(argv[:2]))
async def test_readme_s3_example_runs(argv: list[str], s3: Any, moto_endpoint: str) -> None:
    bucket = next(a for a in argv if a.startswith("s3://"))[5:].split("/")[0]
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)
    if "--s3-endpoint-url" in argv:
        argv[argv.index("--s3-endpoint-url") + 1] = moto_endpoint
    result = await voipstudio(None, "--fake", *argv, environ={})
    assert result.code == 0, result.err
    # Not a terminal: only progress lines (docs/guides/cli.md, "Progress in logs").
    progress = re.compile(r"voipstudio: (progress|done) [^:]+: \d+ ")
    assert all(progress.match(line) for line in result.err.splitlines()), result.err
    assert objects(s3, bucket)
    assert open_uploads(s3, bucket) == []
