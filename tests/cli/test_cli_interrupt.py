"""Ctrl-C: one line saying how far the run got, exit 130, no temporary file left."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli_helpers import PERIOD, period_ids, without_progress

from voipstudio_async.cli._output import Ui
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

SCRIPT = Path(sys.executable).with_name("voipstudio")


def test_ctrl_c_reports_what_was_done(tmp_path: Path) -> None:
    fake = FakeVoipStudio(seed=1, cdrs=300, monitors=30, voicemessages=4, msdrs=2, chats=1)
    # The first files arrive at once, the rest slowly: the signal lands mid-run.
    fake.drip("/monitors/*.mp3", chunk_size=16 * 1024, interval=0.05)
    dest = tmp_path / "archive"
    manifest = dest / "monitors" / "manifest.jsonl"
    with serve_in_thread(fake) as base_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOIPSTUDIO_")}
        env |= {
            "VOIPSTUDIO_BASE_URL": base_url,
            "VOIPSTUDIO_USER_ID": str(fake.credentials.user_id),
            "VOIPSTUDIO_API_KEY": fake.credentials.api_key,
        }
        argv = [str(SCRIPT), "archive", *PERIOD, "--dest", str(dest), "--concurrency", "1"]
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            # Wait until at least one recording is archived (in the manifest).
            while not (manifest.is_file() and manifest.read_text().strip()):
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "no recording archived"
                time.sleep(0.01)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    lines = without_progress(err.decode()).strip().splitlines()
    assert proc.returncode == 130, lines
    assert len(lines) == 1, lines
    cdrs = len(period_ids(fake, "cdrs", "calldate"))
    recordings = len(period_ids(fake, "monitors", "timestamp"))
    prefix = f"voipstudio: interrupted: CDRs {cdrs} of {cdrs} rows written, "
    assert lines[0].startswith(prefix + "recordings "), lines
    done, total = lines[0].removeprefix(prefix + "recordings ").split(" processed")[0].split(" of ")
    archived = len(manifest.read_text().splitlines())
    assert int(total) == recordings and archived <= int(done) < recordings
    left = [p.name for p in (dest / "monitors").iterdir()]
    assert not [name for name in left if name.endswith(".part")], left


def test_so_far_says_an_unfinished_export_is_not_kept() -> None:
    ui = Ui(stdout=io.StringIO(), stderr=io.StringIO())
    assert ui.so_far() == "nothing done yet"
    with ui.progress() as tracker:
        task = tracker.task("CDRs", None)
        task.set_total(2500)
        task.advance(1000)
    assert ui.so_far() == "CDRs 1000 of 2500 rows written (export unfinished: no file kept)"
