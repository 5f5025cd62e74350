"""``make demo``: archive a fake VoIPstudio account, then sync it into DuckDB.

Serves the embedded fake (the account ``voipstudio --fake`` shows) on a free
loopback port, runs ``voipstudio archive`` into ./demo-output/ and again to show
that a re-run downloads nothing twice, then ``voipstudio sync`` into
demo-output/voipstudio_history.duckdb, queries it, adds calls to the fake and
syncs again to show that only those are loaded. Always stops the server (also
on Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from voipstudio_async.cli._fake import (
    FAKE_CDRS,
    FAKE_MONITORS,
    FAKE_VOICEMESSAGES,
    fake_account,
)
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

# The fake's history runs from May to October 2026: archive all of it.
SINCE, UNTIL = "2026-05-01", "2026-11-01"
OUTPUT = Path("demo-output")
NEW_CALLS = 25
# Calls per day and disposition over the account's last seven days.
QUERY = """
pivot (
    select calldate::date as day, disposition from voipstudio.cdrs
    where calldate::date > (select max(calldate)::date from voipstudio.cdrs) - 7
) on disposition using count(*) order by day
"""


def _stop(signum: int, _frame: object) -> None:
    # Turn SIGTERM into an exception so the `with` block below stops the server.
    raise SystemExit(128 + signum)


def _voipstudio(env: dict[str, str], *argv: str, label: str) -> None:
    """Run the ``voipstudio`` beside this Python; stop the demo if it fails."""
    command = Path(sys.executable).with_name("voipstudio")
    print(f"\n$ voipstudio {' '.join(argv)}   # {label}", flush=True)
    started = time.monotonic()
    done = subprocess.run([str(command), *argv], env=env, check=False)
    code = done.returncode
    elapsed = time.monotonic() - started
    print(f"({label}: exit code {code}, {elapsed:.1f} s)", flush=True)
    if code != 0:
        raise SystemExit(code)


def _archive(env: dict[str, str], run: int) -> None:
    period = ("--since", SINCE, "--until", UNTIL)
    argv = ("archive", *period, "--dest", str(OUTPUT))
    _voipstudio(env, *argv, label=f"archive run {run}")


def _show(database: Path) -> None:
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        title = "calls per day and disposition, the account's last 7 days"
        print(f"\n{database}: {title}")
        con.sql(QUERY).show()


def sync_step(fake: FakeVoipStudio, env: dict[str, str], output: Path) -> Path:
    """Sync into `output`, query the tables, add calls, sync only those."""
    database = output / "voipstudio_history.duckdb"
    # dlt's working directory with the demo's output, not in ~/.dlt.
    env = {**env, "DLT_DATA_DIR": str(output / ".dlt")}
    argv = ("sync", "--to", f"duckdb:///{database}")
    _voipstudio(env, *argv, label="first sync: everything")
    _show(database)
    fake.insert("cdrs", NEW_CALLS)
    print(f"\n(the fake account receives {NEW_CALLS} new calls)")
    label = f"incremental sync: only the {NEW_CALLS} new calls"
    _voipstudio(env, *argv, label=label)
    _show(database)
    return database


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    shutil.rmtree(OUTPUT, ignore_errors=True)
    print(
        "starting the fake VoIPstudio server on 127.0.0.1 "
        f"({FAKE_CDRS:,} CDRs, "
        f"{FAKE_MONITORS:,} recordings, {FAKE_VOICEMESSAGES:,} voicemails)..."
    )
    fake = fake_account()
    # In this process (not a subprocess), so the sync step can add calls to it.
    with serve_in_thread(fake) as base_url:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("VOIPSTUDIO_")
        }
        env["VOIPSTUDIO_BASE_URL"] = base_url
        env["VOIPSTUDIO_USER_ID"] = str(fake.credentials.user_id)
        env["VOIPSTUDIO_API_KEY"] = fake.credentials.api_key
        print(f"fake server at {base_url}")
        _archive(env, 1)
        _archive(env, 2)
        database = sync_step(fake, env, OUTPUT)
    print(f"\nThe archive is in {OUTPUT.resolve()}/:")
    print(f"  {OUTPUT}/cdrs.csv                      every CDR of the period")
    print(f"  {OUTPUT}/monitors/*.mp3                the call recordings")
    print(f"  {OUTPUT}/voicemessages/*.mp3           the voicemails")
    print(
        f"  {OUTPUT}/*/manifest.jsonl              "
        "id, metadata, size and sha256 per file"
    )
    print(f"  {database!s:<40}  every table, for SQL")
    print("The fake server has been stopped.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # The `with` block has already stopped the server on the way out.
        print(
            "\ndemo interrupted; the fake server has been stopped",
            file=sys.stderr,
        )
        sys.exit(130)
