"""A bench case in a fresh child process, its spec sent on stdin.

A spec holds the fake account's API key: on a command line it would show in ``ps`` to
every user of the machine, so the spec never goes there. The child prints its result as
the last line of stdout. Also what the benches that run the fake in a child of their own
share: serving it on loopback, and the ``--serve``/``--client``/``--help`` dispatch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voipstudio_async.testing import FakeVoipStudio

ROOT = Path(__file__).resolve().parent.parent


def run_child(
    args: list[str],
    spec: dict[str, Any],
    *,
    what: str,
    timeout: float,
    preexec_fn: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run ``python -m <args>`` with ``spec`` on its stdin; its last stdout line, decoded.

    Raises:
        RuntimeError: The child failed (its stderr's tail is in the message).
    """
    proc = subprocess.run(
        [sys.executable, "-m", *args],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
        preexec_fn=preexec_fn,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def read_spec() -> dict[str, Any]:
    """The spec ``run_child`` sent (in the child)."""
    spec: dict[str, Any] = json.loads(sys.stdin.read())
    return spec


def serve_fake(fake: FakeVoipStudio) -> None:
    """Serve ``fake`` on a free loopback port in this process, until terminated; its URL,
    user id and API key first, as one JSON line on stdout (read by the parent)."""
    from voipstudio_async.testing._server import (
        QuietExitServer,
        bind,
        loopback_url,
        uvicorn_config,
    )

    sock = bind()
    creds = fake.credentials
    print(json.dumps([loopback_url(fake, sock), creds.user_id, creds.api_key]), flush=True)
    QuietExitServer(uvicorn_config(fake.app)).run(sockets=[sock])


def dispatch(serve: Callable[..., None], client: Callable[[], None], doc: str | None) -> bool:
    """Run this process's role when it is a child (``--serve ARGS...``: ``serve(*ARGS)``;
    ``--client``: ``client()``) or print ``doc`` for ``--help``; False when it is the
    bench itself."""
    if sys.argv[1:2] == ["--serve"]:
        serve(*sys.argv[2:])
    elif sys.argv[1:2] == ["--client"]:
        client()
    elif "-h" in sys.argv or "--help" in sys.argv:
        print(doc)
    else:
        return False
    return True
