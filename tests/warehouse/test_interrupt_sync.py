"""Ctrl-C and SIGTERM stop ``voipstudio sync`` at the next page: what was fetched is loaded
and kept, the message says how much, the next run loads the rest exactly once; a second
signal ends the process at once and the destination stays consistent.

Each signal lands while the fake holds back the answer to the second page of the CDR walk
(``Stall`` of test_kill_sync), so the walk is certainly unfinished when it arrives.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_kill_sync import (
    SCRIPT,
    _assert_cursor_not_ahead,
    _assert_every_cdr_once,
    _committed,
    _full_sync,
    _wait,
)
from warehouse_helpers import Stall

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio
from voipstudio_async.warehouse import parse_destination, sync

SIGNALS = [signal.SIGINT, signal.SIGTERM]


@contextmanager
def _started(
    argv: list[str], env: dict[str, str], stall: Stall
) -> Iterator[subprocess.Popen[bytes]]:
    """The command, running and held at the second page; killed if a test leaves it running."""
    stall.arm()
    proc = subprocess.Popen(
        [str(SCRIPT), *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _wait(proc, stall.reached.is_set, "the second page")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        stall.disarm()


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_stops_at_the_next_page_and_keeps_what_was_fetched(
    tmp_path: Path,
    account: FakeVoipStudio,
    environ: dict[str, str],
    stall: Stall,
    signum: int,
) -> None:
    db = tmp_path / "history.duckdb"
    argv = ["sync", "--to", f"duckdb:///{db}", "--resources", "cdrs"]
    with _started(argv, environ, stall) as proc:
        proc.send_signal(signum)
        time.sleep(0.2)  # the stop flag is set before the held-back page arrives
        stall.disarm()
        out, err = (b.decode() for b in proc.communicate(timeout=60))
    assert proc.returncode == 130, err
    assert "voipstudio: stopping: the rows already fetched are being loaded and kept" in err
    kept = re.search(r"voipstudio: interrupted: (\d+) rows loaded and kept", err)
    assert kept is not None, err
    _, ids = _committed(db)
    total = len(account.ids("cdrs"))
    # Stopped: not every row; what the message says is what the table holds.
    assert len(ids) < total and int(kept[1]) == len(ids), (len(ids), err)
    assert f"cdrs           {len(ids)} new, 0 updated" in out
    _assert_cursor_not_ahead(db, account)
    if ids:
        assert _committed(db)[0] == max(ids)

    out = _full_sync(argv, environ)
    assert f"cdrs           {total - len(ids)} new, 0 updated" in out
    _assert_every_cdr_once(db, account)


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_second_signal_ends_at_once(
    tmp_path: Path,
    account: FakeVoipStudio,
    environ: dict[str, str],
    stall: Stall,
    signum: int,
) -> None:
    db = tmp_path / "history.duckdb"
    argv = ["sync", "--to", f"duckdb:///{db}", "--resources", "cdrs"]
    with _started(argv, environ, stall) as proc:
        proc.send_signal(signum)
        deadline = time.monotonic() + 30
        assert proc.stderr is not None
        # The second signal once the first has been taken (the page is still held back).
        first = proc.stderr.readline().decode()
        assert first.startswith("voipstudio: stopping:"), first
        assert time.monotonic() < deadline
        proc.send_signal(signum)
        _, rest = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "voipstudio: stopped at once" in rest.decode()
    _assert_cursor_not_ahead(db, account)

    _full_sync(argv, environ)
    _assert_every_cdr_once(db, account)


@pytest.mark.parametrize("lookback", [timedelta(0), timedelta(days=7)])
def test_sync_stopped_from_python_goes_on_next_time(
    tmp_path: Path, pipelines_dir: str, lookback: timedelta
) -> None:
    fake = FakeVoipStudio(seed=4, cdrs=12_000, monitors=5, voicemessages=5, chats=2, msdrs=2)
    creds = fake.credentials

    def factory() -> VoipStudio:
        return VoipStudio(
            creds.user_id, creds.api_key, base_url=fake.base_url, transport=fake.transport()
        )

    target = parse_destination(f"duckdb:///{tmp_path / 'h.duckdb'}")
    stop = threading.Event()
    options: dict[str, Any] = {"client_factory": factory, "pipelines_dir": pipelines_dir}
    options["lookback"] = lookback

    def stop_after_first_batch(table: str, new: int, updated: int) -> None:
        if table == "cdrs":
            stop.set()

    first = sync(target, on_progress=stop_after_first_batch, stop=stop, **options)
    assert first.stopped
    loaded = first.tables["cdrs"].new
    assert 0 < loaded < fake.count("cdrs")

    fake.insert("cdrs", 2)
    second = sync(target, **options)
    assert not second.stopped
    assert second.tables["cdrs"].new == fake.count("cdrs") - loaded
    assert second.tables["cdrs"].updated == 0
    third = sync(target, **options)
    assert (third.tables["cdrs"].new, third.tables["cdrs"].updated) == (0, 0)
