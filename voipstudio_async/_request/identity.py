"""The ``User-Agent`` every request of an SDK-built client sends.

``voipstudio-async/<version> (python <x.y>; <backend> <version>)``, then the
application's own product token when ``VoipStudio(user_agent="myapp/1.2")`` names one.
"""

from __future__ import annotations

import functools
import sys
from importlib.metadata import version

__all__ = ["check_user_agent", "user_agent"]


def check_user_agent(value: object) -> str | None:
    """``value`` when it is a usable product token (``ValueError`` otherwise), or None."""
    if value is None:
        return None
    # Printable ASCII only: a CR/LF would split the header, and HTTP headers are latin-1.
    if (
        not isinstance(value, str)
        or not value.strip()
        or not all(" " <= char <= "~" for char in value)
    ):
        raise ValueError(
            f"user_agent must be a non-empty string of printable ASCII, e.g. 'myapp/1.2'; "
            f"got {value!r}"
        )
    return value.strip()


def user_agent(backend: str, application: str | None = None) -> str:
    """The header value for ``backend`` ("httpx" or "aiohttp", the package on the wire)."""
    own = _own(backend)
    return own if application is None else f"{own} {application}"


@functools.cache  # package metadata is read from disk: once per backend, not per client
def _own(backend: str) -> str:
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    sdk = version("voipstudio-async")
    return f"voipstudio-async/{sdk} (python {python}; {backend} {version(backend)})"
