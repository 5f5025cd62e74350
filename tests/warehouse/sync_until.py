"""``voipstudio`` that stops at one point of dlt's work and waits there to be SIGKILLed.

``python sync_until.py POINT MARKER ARGS...`` runs ``voipstudio ARGS...``; when the run
reaches POINT it creates the file MARKER and sleeps, so the test can SIGKILL it at
exactly that point. Nothing else changes: the rows, files and destination writes up
to POINT are the real command's.

POINT is one of:

- ``normalize``: the extracted rows are normalized into a new load package, which is
  not yet committed (renamed) for loading;
- ``load-merge``: the CDRs are copied into the staging dataset, the merge into the
  ``cdrs`` table has not run;
- ``load-commit``: every table job, the pipeline state included, is loaded and the
  load is not yet recorded in ``_dlt_loads``.

(The extract point needs no hook here: the test stalls the fake's answer to a page.)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from dlt.common.storages.load_storage import LoadStorage
from dlt.load.load import Load

from voipstudio_async.cli import main


def _stop_here(marker: str) -> None:
    Path(marker).touch()
    while True:  # until the SIGKILL
        time.sleep(60)


def _install(point: str, marker: str) -> None:
    if point == "normalize":
        commit = LoadStorage.commit_new_load_package

        def stop_before_commit(self: LoadStorage, load_id: str) -> None:
            _stop_here(marker)
            commit(self, load_id)

        LoadStorage.commit_new_load_package = stop_before_commit  # type: ignore[method-assign]
    elif point == "load-merge":
        submit = Load.submit_job

        def stop_before_merge(self: Load, file_path: str, *args: Any, **kwargs: Any) -> Any:
            name = os.path.basename(file_path)
            if name.startswith("cdrs.") and name.endswith(".sql"):
                _stop_here(marker)
            return submit(self, file_path, *args, **kwargs)

        Load.submit_job = stop_before_merge  # type: ignore[method-assign]
    elif point == "load-commit":
        complete = Load.complete_package

        def stop_before_complete(self: Load, *args: Any, **kwargs: Any) -> None:
            _stop_here(marker)
            complete(self, *args, **kwargs)

        Load.complete_package = stop_before_complete  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown point {point!r}")


if __name__ == "__main__":
    _install(sys.argv[1], sys.argv[2])
    sys.exit(main(sys.argv[3:]))
