"""``voipstudio sync`` SIGKILLed during extract, normalize and load, then run again.

Each kill lands at a chosen point, not after a guessed delay: the extract kill while
the fake holds back the answer to a later page of the walk, the others where
``sync_until.py`` stops dlt. Checked after each kill: the cursor the destination has
committed is never ahead of the rows it has committed. Checked after each complete
re-run: every CDR of the fake exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dlt.common.versioned_state import decompress_state

from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

HERE = Path(__file__).resolve().parent
SCRIPT = Path(sys.executable).with_name("voipstudio")
STALLED_PAGE = 2
"""The extract kill waits for this list request of the CDR walk (one page is in)."""


class _Stall:
    """Holds the fake's answer to the ``STALLED_PAGE``-th ``GET /cdrs`` while armed."""

    def __init__(self) -> None:
        self.armed = False
        self.seen = 0
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self, method: str, path: str) -> None:
        if not self.armed or (method, path) != ("GET", "/cdrs"):
            return
        self.seen += 1
        if self.seen == STALLED_PAGE:
            self.reached.set()
            self.release.wait(60)

    def arm(self) -> None:
        self.seen = 0
        self.reached.clear()
        self.release.clear()
        self.armed = True

    def disarm(self) -> None:
        self.armed = False
        self.release.set()


@pytest.fixture
def account() -> FakeVoipStudio:
    # Three pages of CDRs (5,000 a page), so the walk can be stopped half-way.
    return FakeVoipStudio(seed=11, cdrs=12_000, monitors=20, voicemessages=15, chats=5, msdrs=8)


@pytest.fixture
def stall(account: FakeVoipStudio) -> Iterator[_Stall]:
    hook = _Stall()
    account.on_request(hook)
    yield hook
    hook.disarm()


@pytest.fixture
def environ(account: FakeVoipStudio, tmp_path: Path, stall: _Stall) -> Iterator[dict[str, str]]:
    creds = account.credentials
    with serve_in_thread(account) as base_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VOIPSTUDIO_", "DLT_"))}
        yield {
            **env,
            "VOIPSTUDIO_BASE_URL": base_url,
            "VOIPSTUDIO_USER_ID": str(creds.user_id),
            "VOIPSTUDIO_API_KEY": creds.api_key,
            "DLT_DATA_DIR": str(tmp_path / "dlt"),
            "RUNTIME__DLTHUB_TELEMETRY": "false",
        }
        stall.disarm()  # a stalled request must not hold up the server's shutdown


def _wait(proc: subprocess.Popen[bytes], reached: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 120
    while not reached():
        if proc.poll() is not None:
            raise AssertionError(f"the sync ended before {what}: {proc.communicate()}")
        assert time.monotonic() < deadline, f"the sync never reached {what}"
        time.sleep(0.02)


def _killed_sync(
    point: str, argv: list[str], env: dict[str, str], stall: _Stall, tmp_path: Path
) -> None:
    """Run the sync until it reaches ``point``, then SIGKILL it."""
    marker = tmp_path / f"reached-{point}"
    marker.unlink(missing_ok=True)
    if point == "extract":
        stall.arm()
        command = [str(SCRIPT), *argv]
        reached: Callable[[], bool] = stall.reached.is_set
    else:
        command = [sys.executable, str(HERE / "sync_until.py"), point, str(marker), *argv]
        reached = marker.exists
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait(proc, reached, point)
    finally:
        proc.kill()
        proc.communicate()
        stall.disarm()
    assert proc.returncode == -9


def _full_sync(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(SCRIPT), *argv], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _committed(db: Path) -> tuple[int | None, set[int]]:
    """The CDR cursor of the last load the destination recorded as complete, and the
    CDR ids it holds."""
    if not db.exists():
        return None, set()
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'voipstudio'"
            ).fetchall()
        }
        if "cdrs" not in tables:
            return None, set()
        ids = {row[0] for row in con.execute("select id from voipstudio.cdrs").fetchall()}
        state = con.execute(
            "select s.state from voipstudio._dlt_pipeline_state s join voipstudio._dlt_loads l "
            "on l.load_id = s._dlt_load_id where l.status = 0 order by l.load_id desc limit 1"
        ).fetchone()
    if state is None:
        return None, ids
    resources: dict[str, Any] = decompress_state(state[0])["sources"]["voipstudio"]["resources"]
    return resources["cdrs"]["last_id"], ids


def _assert_cursor_not_ahead(db: Path, fake: FakeVoipStudio) -> None:
    cursor, ids = _committed(db)
    if cursor is None:
        return
    missing = [i for i in fake.ids("cdrs") if i <= cursor and i not in ids]
    assert missing == [], f"cursor {cursor} is ahead of the committed rows: {missing[:5]}..."


def _assert_every_cdr_once(db: Path, fake: FakeVoipStudio) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        ids = [row[0] for row in con.execute("select id from voipstudio.cdrs").fetchall()]
    assert len(ids) == len(set(ids)), "duplicate ids"
    assert sorted(ids) == fake.ids("cdrs")


def test_killed_syncs_rerun_to_every_row_exactly_once(
    tmp_path: Path, account: FakeVoipStudio, environ: dict[str, str], stall: _Stall
) -> None:
    """One account through kills at each point, new rows arriving between the runs."""
    db = tmp_path / "history.duckdb"
    argv = ["sync", "--to", f"duckdb:///{db}", "--resources", "cdrs"]

    # The first sync: every row loaded, the load not recorded as complete.
    _killed_sync("load-commit", argv, environ, stall, tmp_path)
    assert _committed(db) == (None, set(account.ids("cdrs")))
    account.insert("cdrs", 3)
    out = _full_sync(argv, environ)
    assert "loaded 1 package(s) an interrupted run left behind" in out
    assert "cdrs           3 new, 0 updated" in out
    _assert_every_cdr_once(db, account)
    assert _committed(db)[0] == account.ids("cdrs")[-1]

    # Incremental runs over a committed cursor, each killed at another point; the
    # package the normalize kill leaves is resumed by the next run, which is killed
    # in its merge.
    account.insert("cdrs", 6_000)
    for point in ("extract", "normalize", "load-merge"):
        _killed_sync(point, argv, environ, stall, tmp_path)
        _assert_cursor_not_ahead(db, account)
        account.insert("cdrs", 2)
    out = _full_sync(argv, environ)
    assert "loaded 1 package(s) an interrupted run left behind" in out
    _assert_every_cdr_once(db, account)
    assert _committed(db)[0] == account.ids("cdrs")[-1]
