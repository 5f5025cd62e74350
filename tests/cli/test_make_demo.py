"""``make demo`` installs only what the demo runs, never the dev toolchain."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_dry_run(target: str, venv: Path) -> str:
    """The commands ``make TARGET`` would run for a fresh ``venv`` (``make -n``: none run)."""
    result = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_demo_installs_only_the_cli_and_testing_extras(tmp_path: Path) -> None:
    commands = make_dry_run("demo", tmp_path / "venv")
    assert "-e '.[cli,testing]'" in commands
    assert ".[dev]" not in commands
    assert "npm" not in commands


def test_setup_still_installs_the_dev_toolchain(tmp_path: Path) -> None:
    assert "-e '.[dev]'" in make_dry_run("setup", tmp_path / "venv")
