"""A stateful fake VoIPstudio History server for tests, demos and benchmarks.

In process (no sockets; needs only httpx)::

    fake = FakeVoipStudio(seed=0, cdrs=1_000)
    creds = fake.credentials
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url=fake.base_url, auth=(str(creds.user_id), creds.api_key)
    ) as http:
        page = (await http.get("/cdrs", params={"limit": 100})).json()

On loopback (needs the ``testing`` extra, i.e. uvicorn)::

    with serve_in_thread(fake) as base_url:          # shares state with `fake`
        ...
    with serve_in_subprocess(["--cdrs", "100000"]) as env:   # env["VOIPSTUDIO_BASE_URL"], ...
        ...

or ``python -m voipstudio_async.testing --port 8765 --cdrs 100000``.

Many accounts behind one server (``voipstudio fleet``): ``FakeAccounts(20)`` and its
``write_accounts_file``, or ``python -m voipstudio_async.testing --accounts 20``.

In pytest: ``pytest_plugins = ["voipstudio_async.testing.pytest_plugin"]`` gives the
``fake_voipstudio`` (small data set) and ``fake_voipstudio_url`` (served on loopback) fixtures.

Faults, live changes and expectations (paths are relative to the prefix)::

    fake.fail("/cdrs", 503, times=2, retry_after=1)     # first two GET/PATCH/... of /cdrs
    fake.drop_connection("/monitors/*.mp3", probability=0.1)
    fake.cut_body("/monitors/7.mp3", after_bytes=1_000, times=1)
    fake.add_latency("*", 0.05); fake.drip("/cdrs", chunk_size=512, interval=0.01)
    fake.on_request(lambda method, path: fake.insert_cdrs(5))
    big = fake.add_monitor(size=200_000_000)
    fake.expected_sha256("monitor_mp3", big); fake.requests; fake.max_in_flight
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._accounts import FakeAccounts
from ._auth import Credentials
from ._blobs import Download
from ._data import Kind
from ._fake import FakeVoipStudio
from ._faults import Fault
from ._log import LoggedRequest

if TYPE_CHECKING:
    from ._server import LoopbackServer, serve_in_subprocess, serve_in_thread

__all__ = [
    "Credentials",
    "Download",
    "FakeAccounts",
    "FakeVoipStudio",
    "Fault",
    "Kind",
    "LoggedRequest",
    "LoopbackServer",
    "serve_in_subprocess",
    "serve_in_thread",
]


def __getattr__(name: str) -> Any:
    # The loopback helpers import uvicorn, which in-process users need not install.
    if name in ("LoopbackServer", "serve_in_subprocess", "serve_in_thread"):
        from . import _server

        return getattr(_server, name)
    raise AttributeError(name)
