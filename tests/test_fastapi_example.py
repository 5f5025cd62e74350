"""examples/fastapi_app.py, driven through httpx.ASGITransport against the fake server."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fastapi_app.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_app", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = load_example()


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=3, cdrs=400)


class Factory:
    """Builds the app's client on the fake and remembers every client it built."""

    def __init__(self, fake: FakeVoipStudio, **options: object) -> None:
        self.fake, self.options, self.built = fake, options, list[VoipStudio]()

    def __call__(self) -> VoipStudio:
        creds = self.fake.credentials
        client = VoipStudio(
            user_id=creds.user_id,
            api_key=creds.api_key,
            base_url=self.fake.base_url,
            transport=self.fake.transport(),
            **self.options,  # type: ignore[arg-type]
        )
        self.built.append(client)
        return client


@asynccontextmanager
async def serving(make_client: Callable[[], VoipStudio]) -> AsyncIterator[httpx.AsyncClient]:
    app = example.create_app(make_client)
    # ASGITransport sends no lifespan events: run the app's lifespan around the requests.
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://app") as http,
    ):
        yield http


def busiest_number(fake: FakeVoipStudio) -> str:
    counts: dict[str, int] = {}
    for record in fake.records("cdrs"):
        for number in (record["src"], record["dst"]):
            counts[number] = counts.get(number, 0) + 1
    return max(counts, key=lambda n: counts[n])


async def test_lists_a_contacts_recent_calls_newest_first(fake: FakeVoipStudio) -> None:
    number = busiest_number(fake)
    records = [r for r in fake.records("cdrs") if number in (r["src"], r["dst"])]
    assert len(records) > 5
    newest = sorted(records, key=lambda r: (r["calldate"], r["id"]), reverse=True)[:5]

    async with serving(Factory(fake)) as http:
        response = await http.get(f"/contacts/{number}/calls", params={"limit": 5})

    assert response.status_code == 200
    calls = response.json()
    assert [c["id"] for c in calls] == [r["id"] for r in newest]
    for call, record in zip(calls, newest, strict=True):
        made = record["src"] == number
        assert call["direction"] == ("made" if made else "received")
        assert call["other_party"] == (record["dst"] if made else record["src"])
        assert call["calldate"] == record["calldate"]


async def test_one_client_per_application_closed_on_shutdown(fake: FakeVoipStudio) -> None:
    factory = Factory(fake)
    number = busiest_number(fake)
    async with serving(factory) as http:
        for _ in range(3):
            assert (await http.get(f"/contacts/{number}/calls")).status_code == 200
        assert len(factory.built) == 1
        assert not factory.built[0].is_closed
    assert factory.built[0].is_closed


async def test_a_bad_number_is_refused_before_anything_is_sent(fake: FakeVoipStudio) -> None:
    async with serving(Factory(fake)) as http:
        response = await http.get("/contacts/not-a-number/calls")
    assert response.status_code == 422
    assert fake.requests == []


async def test_a_missing_call_is_a_404(fake: FakeVoipStudio) -> None:
    async with serving(Factory(fake)) as http:
        found = await http.get("/calls/1")
        missing = await http.get("/calls/999999")
    assert found.status_code == 200 and found.json()["id"] == 1
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not found"}


async def test_upstream_throttling_is_a_503_with_retry_after(fake: FakeVoipStudio) -> None:
    # Above max_retry_after: the SDK raises RateLimitError at once instead of sleeping.
    fake.fail("/cdrs", 429, retry_after=120)
    async with serving(Factory(fake)) as http:
        response = await http.get(f"/contacts/{busiest_number(fake)}/calls")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "120"


async def test_a_lost_connection_is_a_502_without_details(
    fake: FakeVoipStudio, caplog: pytest.LogCaptureFixture
) -> None:
    fake.drop_connection("/cdrs")
    caplog.set_level(logging.WARNING, logger="fastapi_app")
    async with serving(Factory(fake, max_retries=0)) as http:
        response = await http.get(f"/contacts/{busiest_number(fake)}/calls")
    assert response.status_code == 502
    assert response.json() == {"detail": "VoIPstudio request failed"}
    assert "VoIPstudio request failed" in caplog.text
    assert fake.credentials.api_key not in caplog.text
