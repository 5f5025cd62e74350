"""A client belongs to the event loop of its first request; another loop gets a clear error.

Both backends: a second loop while the first is alive, and the common case of a client
reused under a second ``asyncio.run()`` (in a subprocess, which may leave unclosed-socket
warnings behind), whose ``aclose()`` must still work.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator

import pytest

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

BACKENDS = ["httpx", "aiohttp"]
MESSAGE = "first used in another event loop"

_SCRIPT = """
import asyncio, sys
from voipstudio_async import VoipStudio
user_id, api_key, base_url, backend, ident = sys.argv[1:]
vs = VoipStudio(user_id=user_id, api_key=api_key, base_url=base_url, http_backend=backend,
                max_retries=0)
print(asyncio.run(vs.cdrs.get(int(ident))).id)
try:
    asyncio.run(vs.cdrs.get(int(ident)))
except RuntimeError as exc:
    print(type(exc).__name__, exc)
asyncio.run(vs.aclose())
print("closed", vs.is_closed)
"""


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeVoipStudio, str]]:
    fake = FakeVoipStudio(seed=5, cdrs=3)
    with serve_in_thread(fake) as base_url:
        yield fake, base_url


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_second_live_event_loop_gets_a_clear_error(
    served: tuple[FakeVoipStudio, str], backend: str
) -> None:
    fake, base_url = served
    creds = fake.credentials
    vs = VoipStudio(
        user_id=creds.user_id,
        api_key=creds.api_key,
        base_url=base_url,
        http_backend=backend,  # type: ignore[arg-type]
        max_retries=0,
    )
    ident = fake.ids("cdrs")[0]
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        assert first.run_until_complete(vs.cdrs.get(ident)).id == ident
        with pytest.raises(RuntimeError, match=MESSAGE):
            second.run_until_complete(vs.cdrs.get(ident))
    finally:
        first.run_until_complete(vs.aclose())
        first.close()
        second.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_second_asyncio_run_gets_a_clear_error_and_can_close(
    served: tuple[FakeVoipStudio, str], backend: str
) -> None:
    fake, base_url = served
    creds = fake.credentials
    ident = fake.ids("cdrs")[0]
    args = [str(creds.user_id), creds.api_key, base_url, backend, str(ident)]
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    first, error, closed = result.stdout.splitlines()
    assert first == str(ident)
    assert error.startswith("RuntimeError this VoipStudio client was " + MESSAGE), error
    assert "create the client inside the loop that uses it" in error
    assert closed == "closed True"
