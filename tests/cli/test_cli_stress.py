"""The outside testers' stress scenario at a smaller scale: the real ``voipstudio`` command
against a loopback fake under faults, SIGKILLed several times mid-archive, re-run to the
end, then purged with DELETEs that time out after the server carried them out.

Checked at the end: every row exactly once with its ``type``, every file byte-identical
with mode 0o644 under umask 022, no temporary file left anywhere, and the purge deleting
exactly the archived recordings and reporting none of them failed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cli_helpers import PERIOD, period_ids

from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

pytestmark = pytest.mark.slow

SCRIPT = Path(sys.executable).with_name("voipstudio")
KILLS = 3


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _env(fake: FakeVoipStudio, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOIPSTUDIO_")}
    return {
        **env,
        "VOIPSTUDIO_BASE_URL": base_url,
        "VOIPSTUDIO_USER_ID": str(fake.credentials.user_id),
        "VOIPSTUDIO_API_KEY": fake.credentials.api_key,
    }


def _parts(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.part"))


def _kill_mid_run(argv: list[str], env: dict[str, str], dest: Path, rng: random.Random) -> None:
    """Start the command, wait until it is writing a temporary file, SIGKILL it."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (dest.is_dir() and _parts(dest)):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never wrote a temporary file"
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.3))
    finally:
        proc.kill()
        proc.communicate()


def _manifest(directory: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (directory / "manifest.jsonl").read_text().splitlines()]


def _assert_archive_complete(fake: FakeVoipStudio, dest: Path) -> None:
    """Every period item archived once, byte-identical to what the fake serves."""
    for collection, download, field in (
        ("monitors", "monitor_mp3", "timestamp"),
        ("voicemessages", "voicemessage_mp3", "origtime"),
    ):
        entries = _manifest(dest / collection)
        assert sorted(int(str(e["id"])) for e in entries) == period_ids(fake, collection, field)
        for entry in entries:
            body = (dest / collection / str(entry["file"])).read_bytes()
            served = fake.expected_bytes(download, int(str(entry["id"])))  # type: ignore[arg-type]
            assert hashlib.sha256(body).hexdigest() == hashlib.sha256(served).hexdigest()
            assert entry["sha256"] == hashlib.sha256(served).hexdigest()


def _deleting_then_timing_out(fake: FakeVoipStudio, every: int) -> Callable[[str, str], None]:
    seen = 0

    def hook(method: str, path: str) -> None:
        nonlocal seen
        if method == "DELETE" and path.startswith("/monitors/"):
            seen += 1
            if seen % every == 1:
                fake.delete("monitors", [int(i) for i in path.rsplit("/", 1)[1].split(",")])
                raise httpx.ReadTimeout("the answer never came")

    return hook


@pytest.mark.usefixtures("umask")
def test_faults_kills_resume_and_purge_lose_nothing(tmp_path: Path) -> None:
    rng = random.Random(7)
    fake = FakeVoipStudio(seed=5, cdrs=4000, monitors=45, voicemessages=20, msdrs=2, chats=1)
    fake.fail("*", 503, probability=0.05)
    fake.cut_body("*.mp3", probability=0.15)
    fake.drip("*.mp3", chunk_size=16 * 1024, interval=0.01)
    dest = tmp_path / "archive"
    argv = [str(SCRIPT), "archive", *PERIOD, "--dest", str(dest), "--concurrency", "8"]

    with serve_in_thread(fake) as base_url:
        env = _env(fake, base_url)
        for _ in range(KILLS):
            _kill_mid_run(argv, env, dest, rng)
        assert _parts(dest), "the kills left no temporary file: nothing was tested"

        fake.clear_faults()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert _parts(dest) == []
        _assert_archive_complete(fake, dest)

        monitors = period_ids(fake, "monitors", "timestamp")
        outside = set(fake.ids("monitors")) - set(monitors)
        fake.on_request(_deleting_then_timing_out(fake, every=3))
        purge = [*argv, "--purge", "--yes"]
        purged = subprocess.run(purge, env=env, capture_output=True, text=True, check=False)

    assert purged.returncode == 0, purged.stderr
    assert "failed" not in purged.stderr
    assert not set(monitors) & set(fake.ids("monitors"))
    assert outside <= set(fake.ids("monitors"))

    modes = {
        str(p.relative_to(dest)): stat.S_IMODE(p.stat().st_mode)
        for p in dest.rglob("*")
        if p.is_file()
    }
    assert {name: oct(mode) for name, mode in modes.items() if mode != 0o644} == {}
    assert _parts(dest) == []

    with (dest / "cdrs.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert "type" in rows[0] and "type_" not in rows[0]
    assert [row for row in rows if not row["type"]] == []
    assert [int(row["id"]) for row in rows] == period_ids(fake, "cdrs", "calldate")
