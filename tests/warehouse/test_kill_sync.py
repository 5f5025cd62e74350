"""``voipstudio sync`` SIGKILLed during extract, normalize and load, then run again.

Each kill lands at a chosen point, not after a guessed delay: the extract kill while
the fake holds back the answer to a later page of the walk, the others where
``sync_until.py`` stops dlt. Checked after each kill: the cursor the destination has
committed is never ahead of the rows it has committed. Checked after each complete
re-run: every CDR of the fake exactly once.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dlt.common.versioned_state import decompress_state
from warehouse_helpers import Stall

from voipstudio_async.testing import FakeVoipStudio

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
SCRIPT = Path(sys.executable).with_name("voipstudio")


def _wait(proc: subprocess.Popen[bytes], reached: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 120
    while not reached():
        if proc.poll() is not None:
            raise AssertionError(f"the sync ended before {what}: {proc.communicate()}")
        assert time.monotonic() < deadline, f"the sync never reached {what}"
        time.sleep(0.02)


def _killed_sync(
    point: str, argv: list[str], env: dict[str, str], stall: Stall, tmp_path: Path
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
    tmp_path: Path, account: FakeVoipStudio, environ: dict[str, str], stall: Stall
) -> None:
    """One account through kills at each point, new rows arriving between the runs."""
    db = tmp_path / "history.duckdb"
    argv = ["sync", "--to", f"duckdb:///{db}", "--resources", "cdrs"]

    # The first sync: every row loaded, the load not recorded as complete.
    _killed_sync("load-commit", argv, environ, stall, tmp_path)
    assert _committed(db) == (None, set(account.ids("cdrs")))
    account.insert("cdrs", 3)
    out = _full_sync(argv, environ)
    # The resumed package's rows count as loaded by this run (they were not committed).
    total = len(account.ids("cdrs"))
    assert f"loaded 1 package(s) an interrupted run left behind ({total - 3} rows)" in out
    assert f"cdrs           {total} new, 0 updated" in out
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
    before = _committed(db)[1]
    out = _full_sync(argv, environ)
    resumed = re.search(r"loaded 1 package\(s\) an interrupted run left behind \((\d+) rows\)", out)
    assert resumed is not None and int(resumed[1]) > 0, out
    _assert_every_cdr_once(db, account)
    assert _committed(db)[0] == account.ids("cdrs")[-1]
    # What the run reports is what it added: the resumed rows and the walk's.
    assert f"cdrs           {len(account.ids('cdrs')) - len(before)} new, 0 updated" in out
