"""A bare install: the command works without rich, the fake server says what it lacks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import PERIOD

from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

# Runs a module as `python -m` would, with some packages made unimportable first.
_WRAPPER = """
import runpy, sys
BLOCKED = set(sys.argv[1].split(","))
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Blocker())
module = sys.argv[2]
sys.argv = [module, *sys.argv[3:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def run_without(
    blocked: str, module: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k != "COLUMNS"}
    return subprocess.run(
        [sys.executable, "-c", _WRAPPER, blocked, module, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_the_blocker_blocks() -> None:
    done = run_without("rich", "rich.console")
    assert done.returncode == 1
    assert "No module named 'rich'" in done.stderr


@pytest.mark.parametrize("argv", [["--help"], ["archive", "--help"], ["cdrs", "list", "--help"]])
def test_help_without_rich(argv: list[str]) -> None:
    done = run_without("rich", "voipstudio_async.cli", *argv)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: voipstudio")
    assert done.stderr == ""


def test_commands_work_without_rich(tmp_path: Path) -> None:
    fake = FakeVoipStudio(seed=1, cdrs=300, monitors=6, voicemessages=4, msdrs=2, chats=1)
    with serve_in_thread(fake) as base_url:
        env = {
            "VOIPSTUDIO_BASE_URL": base_url,
            "VOIPSTUDIO_USER_ID": str(fake.credentials.user_id),
            "VOIPSTUDIO_API_KEY": fake.credentials.api_key,
        }
        listed = run_without(
            "rich", "voipstudio_async.cli", "cdrs", "list", "--limit", "3", env=env
        )
        got = run_without("rich", "voipstudio_async.cli", "monitors", "get", "1", env=env)
        archived = run_without(
            "rich", "voipstudio_async.cli", "archive", *PERIOD, "--dest", str(tmp_path), env=env
        )
    assert listed.returncode == 0, listed.stderr
    header, rule, *rows, summary = listed.stdout.splitlines()
    assert header.split()[:3] == ["id", "calldate", "type"]
    assert set(rule.replace(" ", "")) == {"-"}  # a plain table, not rich's box drawing
    assert len(rows) == 3 and summary == "3 shown, 300 matching (page 1)"
    assert got.returncode == 0, got.stderr
    assert "timestamp" in got.stdout and "━" not in got.stdout
    assert archived.returncode == 0, archived.stderr
    assert "recordings" in archived.stdout and (tmp_path / "monitors" / "manifest.jsonl").is_file()


def test_fake_server_help_without_uvicorn() -> None:
    done = run_without("uvicorn", "voipstudio_async.testing", "--help")
    assert done.returncode == 0, done.stderr
    assert "--port" in done.stdout


def test_fake_server_without_uvicorn_is_one_line() -> None:
    done = run_without("uvicorn", "voipstudio_async.testing", "--port", "0", "--cdrs", "10")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "python -m voipstudio_async.testing: error: serving on loopback needs uvicorn: "
        "pip install 'voipstudio-async[testing]'"
    ]
    assert done.stdout == ""


def test_fake_server_on_a_busy_port_is_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "voipstudio_async.testing", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"python -m voipstudio_async.testing: error: cannot listen on 127.0.0.1:{port}: "
        "Address already in use (pick another, or --port 0 for a free one)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cdrs", "-5"], "argument --cdrs: expected a whole number >= 0, got '-5'"),
        (["--monitors", "x"], "argument --monitors: expected a whole number >= 0, got 'x'"),
        (["--port", "70000"], "argument --port: expected a port from 0 to 65535, got '70000'"),
    ],
)
def test_fake_server_refuses_bad_numbers(args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "voipstudio_async.testing", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith(message)
    assert "Traceback" not in done.stderr
