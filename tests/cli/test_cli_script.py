"""The installed ``voipstudio`` console script, end to end against a loopback fake."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli_helpers import PERIOD, period_ids

from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

SCRIPT = Path(sys.executable).with_name("voipstudio")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOIPSTUDIO_")}
    return {**env, **extra}


def test_console_script_archives_from_a_loopback_server(tmp_path: Path) -> None:
    fake = FakeVoipStudio(seed=1, cdrs=300, monitors=6, voicemessages=4, msdrs=2, chats=1)
    with serve_in_thread(fake) as base_url:
        env = _env(
            VOIPSTUDIO_BASE_URL=base_url,
            VOIPSTUDIO_USER_ID=str(fake.credentials.user_id),
            VOIPSTUDIO_API_KEY=fake.credentials.api_key,
        )
        done = subprocess.run(
            [str(SCRIPT), "archive", *PERIOD, "--dest", str(tmp_path), "--cdrs-format", "jsonl"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stdout + done.stderr  # no progress bars or colours in a pipe
    lines = (tmp_path / "cdrs.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == period_ids(fake, "cdrs", "calldate")
    entries = (tmp_path / "monitors" / "manifest.jsonl").read_text().splitlines()
    assert len(entries) == len(period_ids(fake, "monitors", "timestamp"))


def test_help() -> None:
    helped = subprocess.run(
        [str(SCRIPT), "archive", "--help"], capture_output=True, text=True, check=False
    )
    assert helped.returncode == 0
    assert "--until is exclusive" in helped.stdout and "Exit codes" in helped.stdout


def test_sigterm_during_a_download_exits_130_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    fake = FakeVoipStudio(seed=1, cdrs=300, monitors=6, voicemessages=4, msdrs=2, chats=1)
    fake.drip("/monitors/*.mp3", chunk_size=16 * 1024, interval=0.05)  # seconds per file
    dest = tmp_path / "rec"
    with serve_in_thread(fake) as base_url:
        env = _env(
            VOIPSTUDIO_BASE_URL=base_url,
            VOIPSTUDIO_USER_ID=str(fake.credentials.user_id),
            VOIPSTUDIO_API_KEY=fake.credentials.api_key,
        )
        argv = [str(SCRIPT), "monitors", "download", *PERIOD, "--dest", str(dest)]
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while not (dest.is_dir() and any(p.suffix == ".part" for p in dest.iterdir())):
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "no download started"
                time.sleep(0.01)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err
    left = [p.name for p in dest.iterdir()]
    assert not [name for name in left if name.endswith(".part") or name.startswith(".")], left
