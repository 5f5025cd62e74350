"""Helpers for the CLI tests: the test period, running the command, reading the fake."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from voipstudio_async import VoipStudio
from voipstudio_async.cli import run
from voipstudio_async.testing import FakeVoipStudio

PROGRESS_LINE = re.compile(r"voipstudio: (progress|done) [^:]+: \d+ ")
"""A progress line written when stderr is not a terminal (``_progress_lines``)."""


def without_progress(err: str) -> str:
    """``err`` without its progress lines."""
    return "".join(line for line in err.splitlines(True) if not PROGRESS_LINE.match(line))


SINCE = "2026-07-01"
UNTIL = "2026-09-01"
PERIOD = ["--since", SINCE, "--until", UNTIL]


@dataclass
class Result:
    code: int
    out: str
    err: str


def in_period(stamp: str | None) -> bool:
    """Whether a fake record's date falls in [SINCE, UNTIL)."""
    return stamp is not None and datetime.fromisoformat(SINCE) <= datetime.fromisoformat(
        stamp
    ) < datetime.fromisoformat(UNTIL)


def period_ids(fake: FakeVoipStudio, kind: Any, field: str) -> list[int]:
    """Ids of the fake's records of ``kind`` in the test period."""
    return [r["id"] for r in fake.records(kind) if in_period(r.get(field))]


class Cli:
    """Runs ``voipstudio ARGS`` in process against the fake."""

    def __init__(self, client: VoipStudio) -> None:
        self.client = client

    async def __call__(
        self,
        *argv: str,
        confirm: Any = None,
        client: VoipStudio | bool | None = True,
        environ: dict[str, str] | None = None,
    ) -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = await run(
            list(argv),
            client=self.client if client is True else (client or None),
            stdout=out,
            stderr=err,
            environ=environ,
            confirm=confirm,
        )
        return Result(code, out.getvalue(), err.getvalue())


def files(directory: Path) -> Sequence[str]:
    return sorted(p.name for p in directory.iterdir())
