"""Archiving to S3 under faults, and killed mid-run: never a partial object under a final
key, never a multipart upload left open after a (re-)run, and a re-run finishes the job."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from s3_helpers import MEDIA, PERIOD, assert_archived, manifest, objects, open_uploads, voipstudio

from voipstudio_async import VoipStudio
from voipstudio_async.cli import _s3
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

SCRIPT = Path(sys.executable).with_name("voipstudio")
BIG = 3 * _s3.PART_SIZE + 12345
"""A recording that goes up as a multipart upload of four parts."""


def _objects_are_whole(fake: FakeVoipStudio, found: dict[str, bytes], prefix: str) -> None:
    """Every media object under a final key is byte-identical to what the fake serves."""
    for collection, download, _ in MEDIA:
        for key, body in found.items():
            name = key.removeprefix(f"{prefix}{collection}/")
            if name == key or not name.endswith(".mp3"):
                continue
            item_id = int(name.removesuffix(".mp3").rsplit("_", 1)[-1])
            served = fake.expected_sha256(download, item_id)  # type: ignore[arg-type]
            assert hashlib.sha256(body).hexdigest() == served, key


async def _client(fake: FakeVoipStudio, base_url: str) -> VoipStudio:
    vs = VoipStudio(fake.credentials.user_id, fake.credentials.api_key, base_url=base_url)

    async def no_sleep(delay: float) -> None:
        pass

    vs._requester._sleep = no_sleep
    return vs


async def test_archive_under_faults_then_reruns_finish_and_upload_nothing(
    s3: Any, bucket: str
) -> None:
    fake = FakeVoipStudio(seed=2, cdrs=1500, monitors=40, voicemessages=20, msdrs=1, chats=1)
    big = fake.add_monitor(size=BIG, timestamp="2026-08-15 10:00:00")
    fake.fail("*", 503, probability=0.1)
    fake.drop_connection("*.mp3", probability=0.1)
    fake.cut_body("*.mp3", probability=0.3)
    fake.cut_body(f"/monitors/{big}.mp3", after_bytes=2 * _s3.PART_SIZE + 5, times=1)
    dest = f"s3://{bucket}/x"
    argv = ["archive", *PERIOD, "--dest", dest, "--concurrency", "6"]

    with serve_in_thread(fake) as base_url:
        async with await _client(fake, base_url) as vs:
            first = await voipstudio(vs, *argv)
            assert {f.kind for f in fake.faults if f.hits} == {"status", "drop", "truncate"}
            assert "Traceback" not in first.err
            found = objects(s3, bucket)
            _objects_are_whole(fake, found, "x/")
            assert open_uploads(s3, bucket) == []

            fake.clear_faults()
            second = await voipstudio(vs, *argv)
            assert second.code == 0, second.err
            found = objects(s3, bucket)
            assert_archived(fake, found, "x/")
            assert f"x/monitors/2026-08-15_100000_{big}.mp3" in found

            served = len(fake.requests)
            third = await voipstudio(vs, *argv)
    assert third.code == 0, third.err
    assert not [r for r in fake.requests[served:] if r.path.endswith(".mp3")]
    assert objects(s3, bucket) == found
    assert open_uploads(s3, bucket) == []


async def test_a_body_that_keeps_breaking_leaves_no_object_and_no_upload(
    s3: Any, bucket: str
) -> None:
    fake = FakeVoipStudio(seed=3, cdrs=10, monitors=1, voicemessages=1, msdrs=1, chats=1)
    big = fake.add_monitor(size=BIG, timestamp="2026-08-15 10:00:00")
    fake.cut_body(f"/monitors/{big}.mp3", after_bytes=2 * _s3.PART_SIZE + 5)
    with serve_in_thread(fake) as base_url:
        async with await _client(fake, base_url) as vs:
            result = await voipstudio(
                vs, "monitors", "download", *PERIOD, "--dest", f"s3://{bucket}/m"
            )
    assert result.code == 1
    assert f"failed recording {big}: " in result.err
    found = objects(s3, bucket)
    assert not [key for key in found if key.endswith(f"_{big}.mp3")]
    if "m/manifest.jsonl" in found:
        assert big not in [e["id"] for e in manifest(found, "m/manifest.jsonl")]
    assert open_uploads(s3, bucket) == []


def _kill_while_uploading(argv: list[str], env: dict[str, str], s3: Any, bucket: str) -> None:
    """Start the command, wait until a multipart upload is open, SIGKILL it."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not open_uploads(s3, bucket):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never opened a multipart upload"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.communicate()


@pytest.mark.parametrize("kills", [2])
def test_sigkill_mid_archive_then_rerun_ends_as_an_uninterrupted_run(
    s3: Any, bucket: str, aws_env: dict[str, str], kills: int
) -> None:
    fake = FakeVoipStudio(seed=4, cdrs=1500, monitors=20, voicemessages=10, msdrs=1, chats=1)
    fake.add_monitor(size=BIG, timestamp="2026-07-20 08:00:00")
    fake.add_monitor(size=BIG, timestamp="2026-08-20 08:00:00")
    fake.drip("*.mp3", chunk_size=256 * 1024, interval=0.02)  # slow enough to kill midway
    argv = [str(SCRIPT), "archive", *PERIOD, "--dest", f"s3://{bucket}/k", "--concurrency", "4"]
    with serve_in_thread(fake) as base_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOIPSTUDIO_")}
        env |= aws_env | {
            "VOIPSTUDIO_BASE_URL": base_url,
            "VOIPSTUDIO_USER_ID": str(fake.credentials.user_id),
            "VOIPSTUDIO_API_KEY": fake.credentials.api_key,
        }
        for _ in range(kills):
            _kill_while_uploading(argv, env, s3, bucket)
        assert open_uploads(s3, bucket), "the kills left no open upload: nothing was tested"
        _objects_are_whole(fake, objects(s3, bucket), "k/")

        fake.clear_faults()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert open_uploads(s3, bucket) == []
    found = objects(s3, bucket)
    assert_archived(fake, found, "k/")
    assert sorted(found) == sorted(
        ["k/cdrs.csv", *[k for k in found if k.startswith(("k/monitors/", "k/voicemessages/"))]]
    )
