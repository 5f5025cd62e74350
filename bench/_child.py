"""A bench case in a fresh child process, its spec sent on stdin.

A spec holds the fake account's API key: on a command line it would show in ``ps`` to
every user of the machine, so the spec never goes there. The child prints its result as
the last line of stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_child(
    args: list[str],
    spec: dict[str, Any],
    *,
    what: str,
    timeout: float,
    preexec_fn: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run ``python -m <args>`` with ``spec`` on its stdin; its last stdout line, decoded.

    Raises:
        RuntimeError: The child failed (its stderr's tail is in the message).
    """
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
        preexec_fn=preexec_fn,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def read_spec() -> dict[str, Any]:
    """The spec ``run_child`` sent (in the child)."""
    spec: dict[str, Any] = json.loads(sys.stdin.read())
    return spec
