"""The S3 recipe (docs/guides/recipes.md, "A month of recordings archived to S3") runs as
written with ``--fake`` against moto on loopback: the dry run, then the purge; and its
monthly script computes last month's period."""

from __future__ import annotations

import re
import shlex
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s3_helpers import objects, open_uploads, voipstudio

RECIPE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "recipes.md"
SECTION = RECIPE.read_text(encoding="utf-8").split("## A month of recordings archived to S3")[1]
SECTION = SECTION.split("\n## ")[0]
_PROGRESS = re.compile(r"voipstudio: (progress|done) [^:]+: \d+ ")


def _commands() -> list[list[str]]:
    block = re.search(r"```sh\n(.*?)```", SECTION, re.S)
    assert block is not None
    text = block.group(1).replace("\\\n", " ")
    return [
        shlex.split(line, comments=True)[1:]
        for line in text.splitlines()
        if line.startswith("voipstudio ")
    ]


async def test_the_dry_run_then_the_purge(s3: Any) -> None:
    dry_run, purge = _commands()
    assert "--dry-run" in dry_run and "--yes" in purge and "--purge" in purge
    bucket = next(a for a in purge if a.startswith("s3://"))[5:].split("/")[0]
    s3.create_bucket(Bucket=bucket)
    for argv in (dry_run, purge):
        result = await voipstudio(None, "--fake", *argv, environ={})
        assert result.code == 0, result.err
        # Not a terminal: only progress lines (docs/guides/cli.md, "Progress in logs").
        assert all(_PROGRESS.match(line) for line in result.err.splitlines()), result.err
    found = objects(s3, bucket)
    assert any(key.endswith(".mp3") for key in found)
    assert "2026-08/monitors/manifest.jsonl" in found
    assert open_uploads(s3, bucket) == []


def test_the_monthly_script_archives_last_month() -> None:
    script = re.search(r"```bash\n(#!/bin/sh.*?)```", SECTION, re.S)
    assert script is not None
    lines = [line for line in script.group(1).splitlines() if line.startswith(("since=", "until="))]
    done = subprocess.run(
        ["sh", "-c", "\n".join([*lines, 'echo "$since $until ${since%-01}"'])],
        capture_output=True,
        text=True,
        check=True,
    )
    today = datetime.now(UTC)
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    since = f"{year}-{month:02d}-01"
    assert done.stdout.split() == [since, f"{today:%Y-%m}-01", since[:7]]
