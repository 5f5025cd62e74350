"""Bench cases run in child processes get their spec on stdin, never on the command line:
a spec holds the fake account's API key, and a command line shows in ``ps`` to every user.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from bench._child import run_child

SECRET = "k3y-that-must-not-be-on-a-command-line"


def test_the_spec_reaches_the_child_and_stays_off_its_command_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[list[str]] = []
    real_run = subprocess.run

    def spy(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append(list(args))
        return real_run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    spec = {"api_key": SECRET, "case": "x", "n": 3}
    # json.tool --compact echoes its stdin as one line, as a case prints its result.
    assert run_child(["json.tool", "--compact"], spec, what="echo", timeout=30) == spec
    assert seen and not any(SECRET in arg for args in seen for arg in args)


def test_a_failed_child_says_what_failed() -> None:
    with pytest.raises(RuntimeError, match="echo failed"):
        run_child(["json.tool", "--no-such-flag"], {}, what="echo", timeout=30)
