"""Files the CLI and the download engines create on disk: permissions, part files left
by killed runs."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import PERIOD, Cli

from voipstudio_async._parts import commit_part, create_part, remove_stale_parts
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

SCRIPT = Path(sys.executable).with_name("voipstudio")


@pytest.fixture
def umask() -> Iterator[None]:
    """Run with umask 022 (and put the test runner's back afterwards)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.stat().st_mode)
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.mark.usefixtures("umask")
async def test_archived_files_are_created_like_open_does(cli: Cli, tmp_path: Path) -> None:
    result = await cli("archive", *PERIOD, "--dest", str(tmp_path))
    assert result.code == 0, result.err
    found = modes(tmp_path)
    assert any(name.endswith(".mp3") for name in found)
    assert {"cdrs.csv", "monitors/manifest.jsonl"} <= found.keys()
    assert {name: mode for name, mode in found.items() if mode != 0o644} == {}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOIPSTUDIO_")}
    return {**env, **extra}


def _parts(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


def _kill_once_writing(argv: list[str], env: dict[str, str], directory: Path, name: str) -> int:
    """Run ``argv``, SIGKILL it once ``directory`` holds a part file of a ``name`` (a regex).

    Returns how many such part files the killed run left.
    """
    pattern = re.compile(rf"\.{name}\.[0-9a-f]{{12}}\.part")

    def left() -> int:
        return sum(1 for p in _parts(directory) if pattern.fullmatch(p))

    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (directory.is_dir() and left()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no part file appeared"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    return left()


# Not part files of this tool, or of names it does not write: never removed.
UNRELATED = {
    "": [".notes.part", "cdrs.csv.part", ".cdrs.csv.part", ".cdrs.csv.0123456789AB.part"],
    "monitors": ["x.mp3.part", ".x.mp3.part", ".other.mp3.0123456789ab.part"],
}


def test_a_rerun_removes_the_part_files_of_runs_that_were_killed(tmp_path: Path) -> None:
    fake = FakeVoipStudio(seed=1, cdrs=300, monitors=6, voicemessages=4, msdrs=2, chats=1)
    dest = tmp_path / "archive"
    (dest / "monitors").mkdir(parents=True)
    for sub, names in UNRELATED.items():
        for name in names:
            (dest / sub / name).write_text("keep me")
    with serve_in_thread(fake) as base_url:
        env = _env(
            VOIPSTUDIO_BASE_URL=base_url,
            VOIPSTUDIO_USER_ID=str(fake.credentials.user_id),
            VOIPSTUDIO_API_KEY=fake.credentials.api_key,
        )
        fake.drip("/cdrs", chunk_size=4 * 1024, interval=0.05)
        export = [str(SCRIPT), "cdrs", "export", *PERIOD, "-o", str(dest / "cdrs.csv")]
        assert _kill_once_writing(export, env, dest, r"cdrs\.csv") == 1
        fake.clear_faults()
        fake.drip("/monitors/*.mp3", chunk_size=16 * 1024, interval=0.05)
        archive = [str(SCRIPT), "archive", *PERIOD, "--dest", str(dest)]
        assert _kill_once_writing(archive, env, dest / "monitors", r".+\.mp3") >= 1
        fake.clear_faults()
        done = subprocess.run(
            archive, env=env, capture_output=True, text=True, timeout=60, check=False
        )
    assert done.returncode == 0, done.stderr
    for sub, names in UNRELATED.items():
        assert _parts(dest / sub) == sorted(names)
        assert all((dest / sub / name).read_text() == "keep me" for name in names)
    assert _parts(dest / "voicemessages") == []


def test_a_cleanup_leaves_part_files_that_a_live_writer_holds(tmp_path: Path) -> None:
    target = tmp_path / "a.mp3"
    live, fd = create_part(target)
    stale, other_fd = create_part(target)
    os.close(other_fd)  # as if its process had died
    try:
        remove_stale_parts(tmp_path, ["a.mp3"])
        assert live.exists() and not stale.exists()
    finally:
        with os.fdopen(fd, "wb") as file:
            commit_part(file, live, target)
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp3"]
