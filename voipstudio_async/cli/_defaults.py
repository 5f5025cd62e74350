"""Every default of the command line, in one place (the CLI modules import from here).

The SDK's own defaults are in ``voipstudio_async._constants``; these are the command's
choices on top of them.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CLI_MAX_RETRIES",
    "DEFAULT_CONCURRENCY",
    "EXPORT_PAGE_SIZE",
    "FAKE_CDRS",
    "FAKE_MONITORS",
    "FAKE_VOICEMESSAGES",
    "FIRST_YEAR",
    "HASH_CHUNK_BYTES",
    "LISTED_FAILURES",
    "MAX_CONCURRENCY",
    "PIPED_WIDTH",
    "PROGRESS_INTERVAL",
]

CLI_MAX_RETRIES: Final = 5
"""Retries of a request: a long unattended run rides out a bad minute (the SDK's is 2)."""
DEFAULT_CONCURRENCY: Final = 8
"""Downloads in flight at once (``--concurrency``)."""
MAX_CONCURRENCY: Final = 256
"""The largest ``--concurrency``: beyond it a server sees a flood, not an archive job
(each download holds a connection)."""
FIRST_YEAR: Final = 1000
"""The earliest year a ``--since``/``--until`` date may name."""
EXPORT_PAGE_SIZE: Final = 1000
"""CDRs per page of ``cdrs export`` (and rows per write)."""
PROGRESS_INTERVAL: Final = 10.0
"""Seconds between two progress lines of a step, at most (stderr not a terminal)."""
PIPED_WIDTH: Final = 200
"""Columns of a table written to a pipe or file (pagers, not 80-column terminals)."""
LISTED_FAILURES: Final = 50
"""Failed items a report names; the rest are counted."""
HASH_CHUNK_BYTES: Final = 1024 * 1024
"""Bytes per read when an archived file's SHA-256 is checked against the manifest."""
FAKE_CDRS: Final = 20_000
FAKE_MONITORS: Final = 500
FAKE_VOICEMESSAGES: Final = 200
"""The account ``--fake`` serves: CDRs, recordings and voicemails."""
