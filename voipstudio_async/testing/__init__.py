"""A stateful fake VoIPstudio History server for tests, demos and benchmarks.

```python
fake = FakeVoipStudio(seed=0, cdrs=1_000)
async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as http:
    ...
```

Needs only `httpx` in process; serving on loopback needs the `testing` extra (uvicorn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
