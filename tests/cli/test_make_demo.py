"""``make demo`` installs only what the demo runs, never the dev toolchain; its sync step
loads the fake account, then only the calls added to it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

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


def test_demo_installs_only_the_cli_testing_and_warehouse_extras(tmp_path: Path) -> None:
    commands = make_dry_run("demo", tmp_path / "venv")
    assert "sync --locked --inexact --no-dev --extra cli --extra testing --extra warehouse" in (
        commands
    )
    assert "--all-extras" not in commands and "--group dev" not in commands
    assert "npm" not in commands


def test_setup_installs_the_dev_toolchain_from_the_lock(tmp_path: Path) -> None:
    commands = make_dry_run("setup", tmp_path / "venv")
    assert f"UV_PROJECT_ENVIRONMENT={tmp_path / 'venv'}" in commands
    assert "uv sync --locked --all-extras --group dev" in commands
    assert "pip install --quiet uv==" in commands  # uv itself, bootstrapped at its pin


def _demo_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo", ROOT / "examples" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_demo_sync_step_loads_only_the_new_calls_the_second_time(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    demo = _demo_module()
    fake = FakeVoipStudio(seed=0, cdrs=800, monitors=3, voicemessages=3, msdrs=2, chats=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOIPSTUDIO_", "DLT_"))}
    with serve_in_thread(fake) as base_url:
        env["VOIPSTUDIO_BASE_URL"] = base_url
        env["VOIPSTUDIO_USER_ID"] = str(fake.credentials.user_id)
        env["VOIPSTUDIO_API_KEY"] = fake.credentials.api_key
        database = demo.sync_step(fake, env, tmp_path / "out")

    out = capfd.readouterr().out
    first, second = out.split(f"receives {demo.NEW_CALLS} new calls")
    assert "cdrs           800 new, 0 updated" in first
    assert f"cdrs           {demo.NEW_CALLS} new, 0 updated" in second
    assert "calls per day and disposition" in second and "ANSWERED" in second
    assert (tmp_path / "out" / ".dlt").is_dir()  # dlt's working state stays with the output
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from voipstudio.cdrs").fetchall() == [(825,)]
        assert con.sql(demo.QUERY).fetchall()  # the demo's query runs
