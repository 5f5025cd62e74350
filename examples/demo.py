"""``make demo``: archive a period from a fake VoIPstudio on loopback, twice.

Starts the embedded fake server (``python -m voipstudio_async.testing``) on a free
loopback port, runs ``voipstudio archive`` into ./demo-output/, runs it again to show
that a re-run downloads nothing twice, and always stops the server (also on Ctrl-C
or SIGTERM).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from voipstudio_async.cli._fake import FAKE_CDRS, FAKE_MONITORS, FAKE_VOICEMESSAGES
from voipstudio_async.testing import serve_in_subprocess

FAKE_ARGS = [
    *("--cdrs", str(FAKE_CDRS)),
    *("--monitors", str(FAKE_MONITORS)),
    *("--voicemessages", str(FAKE_VOICEMESSAGES)),
]
# The fake's history runs from May to October 2026: archive all of it.
SINCE, UNTIL = "2026-05-01", "2026-11-01"
OUTPUT = Path("demo-output")


def _stop(signum: int, _frame: object) -> None:
    # Turn SIGTERM into an exception so the `with` block below stops the server.
    raise SystemExit(128 + signum)


def _archive(env: dict[str, str], run: int) -> None:
    command = Path(sys.executable).with_name("voipstudio")
    argv = [str(command), "archive", "--since", SINCE, "--until", UNTIL, "--dest", str(OUTPUT)]
    print(f"\n$ voipstudio archive --since {SINCE} --until {UNTIL} --dest {OUTPUT}   # run {run}")
    started = time.monotonic()
    code = subprocess.run(argv, env=env, check=False).returncode
    elapsed = time.monotonic() - started
    print(f"(run {run}: exit code {code}, {elapsed:.1f} s)")
    if code != 0:
        raise SystemExit(code)


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    shutil.rmtree(OUTPUT, ignore_errors=True)
    print(
        f"starting the fake VoIPstudio server on 127.0.0.1 ({FAKE_CDRS:,} CDRs, "
        f"{FAKE_MONITORS:,} recordings, {FAKE_VOICEMESSAGES:,} voicemails)..."
    )
    with serve_in_subprocess(FAKE_ARGS) as exported:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOIPSTUDIO_")}
        for name in ("VOIPSTUDIO_BASE_URL", "VOIPSTUDIO_USER_ID", "VOIPSTUDIO_API_KEY"):
            env[name] = exported[name]
        print(f"fake server at {exported['VOIPSTUDIO_BASE_URL']}")
        _archive(env, 1)
        _archive(env, 2)
    print(f"\nThe archive is in {OUTPUT.resolve()}/:")
    print(f"  {OUTPUT}/cdrs.csv                      every CDR of the period")
    print(f"  {OUTPUT}/monitors/*.mp3                the call recordings")
    print(f"  {OUTPUT}/voicemessages/*.mp3           the voicemails")
    print(f"  {OUTPUT}/*/manifest.jsonl              id, metadata, size and sha256 per file")
    print("The fake server has been stopped.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # The `with` block has already stopped the server on the way out.
        print("\ndemo interrupted; the fake server has been stopped", file=sys.stderr)
        sys.exit(130)
