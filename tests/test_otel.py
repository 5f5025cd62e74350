"""OpenTelemetry spans (``_tracing``): one operation span per facade call, one child span per
HTTP attempt on both backends, retries and rate-limit waits as events, no secrets.

Spans are collected with opentelemetry-sdk's in-memory exporter; the fake serves on
127.0.0.1 so the real transports of both backends run.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import context, trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import SpanKind, StatusCode

from voipstudio_async import NotFoundError, VoipStudio
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

ROOT = Path(__file__).resolve().parents[1]


class _OnlyWhileCollecting(Sampler):
    """Records spans only inside the ``spans`` fixture: the global provider outlives this
    module, and the rest of the suite should neither pay for spans nor fill the exporter."""

    collecting = False

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        return SamplingResult(Decision.RECORD_AND_SAMPLE if self.collecting else Decision.DROP)

    def get_description(self) -> str:
        return "only while collecting"


EXPORTER = InMemorySpanExporter()
_SAMPLER = _OnlyWhileCollecting()
_PROVIDER = TracerProvider(sampler=_SAMPLER)
_PROVIDER.add_span_processor(SimpleSpanProcessor(EXPORTER))
# The global provider can be set once per process; the SDK's tracer is a proxy to it.
trace.set_tracer_provider(_PROVIDER)

SENTINEL = "SENTINEL-s3cr3t-7f1e"
BACKENDS = ["httpx", "aiohttp"]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    assert trace.get_tracer_provider() is _PROVIDER
    EXPORTER.clear()
    _SAMPLER.collecting = True
    yield EXPORTER
    _SAMPLER.collecting = False
    EXPORTER.clear()


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=5, cdrs=40, monitors=3, msdrs=2, chats=2, voicemessages=2)


@pytest.fixture
def base_url(fake: FakeVoipStudio) -> Iterator[str]:
    with serve_in_thread(fake) as url:
        yield url


@pytest.fixture(params=BACKENDS)
async def vs(
    request: pytest.FixtureRequest, fake: FakeVoipStudio, base_url: str
) -> AsyncIterator[VoipStudio]:
    creds = fake.credentials
    async with VoipStudio(
        creds.user_id, creds.api_key, base_url=base_url, http_backend=request.param
    ) as client:
        client._requester._sleep = lambda _delay: asyncio.sleep(0)
        yield client


def _named(exported: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exported.get_finished_spans() if span.name == name]


def _children(exported: InMemorySpanExporter, parent: ReadableSpan) -> list[ReadableSpan]:
    return [
        span
        for span in exported.get_finished_spans()
        if span.parent is not None and span.parent.span_id == parent.context.span_id
    ]


async def test_list_is_an_operation_span_with_one_attempt_span(
    vs: VoipStudio, spans: InMemorySpanExporter
) -> None:
    await vs.cdrs.list(page=2, limit=5)
    [op] = _named(spans, "voipstudio cdrs.list")
    assert op.kind is SpanKind.CLIENT and op.status.status_code is StatusCode.UNSET
    attrs = dict(op.attributes or {})
    assert attrs == {
        "voipstudio.resource": "cdrs",
        "voipstudio.operation": "list_cdrs",
        "voipstudio.page": 2,
        "voipstudio.limit": 5,
        "http.request.method": "GET",
        "url.template": "/cdrs",
        "http.response.status_code": 200,
        "server.address": "127.0.0.1",
        "server.port": httpx.URL(vs.base_url).port,
    }
    [attempt] = _children(spans, op)
    assert attempt.name == "GET /cdrs" and attempt.kind is SpanKind.CLIENT
    assert dict(attempt.attributes or {}) == {
        "http.request.method": "GET",
        "server.address": "127.0.0.1",
        "server.port": httpx.URL(vs.base_url).port,
        "url.template": "/cdrs",
        "http.response.status_code": 200,
    }
    assert len(spans.get_finished_spans()) == 2


async def test_a_walk_is_one_span_over_all_its_pages(
    vs: VoipStudio, spans: InMemorySpanExporter
) -> None:
    items = [cdr async for cdr in vs.cdrs.iterate(page_size=10, max_items=25)]
    assert len(items) == 25
    [op] = _named(spans, "voipstudio cdrs.iterate")
    assert op.attributes is not None and op.attributes["voipstudio.page_size"] == 10
    assert [a.name for a in _children(spans, op)] == ["GET /cdrs"] * 3


async def test_a_stream_span_lasts_until_the_block_exits(
    vs: VoipStudio, spans: InMemorySpanExporter
) -> None:
    async with vs.monitors.stream(1) as body:
        async for _chunk in body:
            pass
        assert _named(spans, "voipstudio monitors.stream") == []
    [op] = _named(spans, "voipstudio monitors.stream")
    [attempt] = _children(spans, op)
    assert attempt.name == "GET /monitors/{id}.mp3"


async def test_failure_sets_error_type_on_both_spans(
    vs: VoipStudio, spans: InMemorySpanExporter
) -> None:
    with pytest.raises(NotFoundError):
        await vs.cdrs.get(987654321)
    [op] = _named(spans, "voipstudio cdrs.get")
    assert op.status.status_code is StatusCode.ERROR
    assert op.attributes is not None and op.attributes["error.type"] == "NotFoundError"
    [attempt] = _children(spans, op)
    assert attempt.attributes is not None and attempt.attributes["error.type"] == "404"


async def test_retries_and_rate_limit_waits_are_events(
    vs: VoipStudio, fake: FakeVoipStudio, spans: InMemorySpanExporter
) -> None:
    fake.fail("/cdrs", 503, times=1)
    fake.fail("/cdrs", 429, times=1, retry_after=1)
    await vs.cdrs.list(limit=3)
    [op] = _named(spans, "voipstudio cdrs.list")
    events = [(e.name, dict(e.attributes or {})) for e in op.events]
    assert events[0] == (
        "voipstudio.retry",
        {
            "voipstudio.retry.cause": "503",
            "voipstudio.retry.attempt": 1,
            "voipstudio.retry.delay_s": events[0][1]["voipstudio.retry.delay_s"],
        },
    )
    assert events[1][0] == "voipstudio.retry" and events[1][1]["voipstudio.retry.cause"] == "429"
    assert events[2][0] == "voipstudio.rate_limit.wait"
    assert 0 < float(events[2][1]["voipstudio.wait_s"]) <= 1.0  # type: ignore[arg-type]
    assert op.attributes is not None and op.attributes["voipstudio.retry_count"] == 2
    statuses = [a.attributes["http.response.status_code"] for a in _children(spans, op)]  # type: ignore[index]
    assert statuses == [503, 429, 200]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_no_credential_or_query_reaches_a_span(
    backend: str, fake: FakeVoipStudio, base_url: str, spans: InMemorySpanExporter
) -> None:
    creds = fake.credentials
    basic = base64.b64encode(f"{creds.user_id}:{creds.api_key}".encode()).decode()
    secrets = [creds.api_key, basic, SENTINEL, "Authorization", "authorization", "?", "filter"]
    fake.fail("/cdrs", 503, times=1, message=SENTINEL)
    async with VoipStudio(
        creds.user_id, creds.api_key, base_url=base_url, http_backend=backend
    ) as vs:
        vs._requester._sleep = lambda _delay: asyncio.sleep(0)
        await vs.cdrs.list(filter=[("src", "like", SENTINEL)])
        with pytest.raises(NotFoundError):
            await vs.cdrs.get(987654321)
    exported = spans.get_finished_spans()
    assert len(exported) == 5
    texts = [span.name for span in exported]
    for span in exported:
        texts += [f"{k}={v}" for k, v in (span.attributes or {}).items()]
        texts += [str(span.status.description)]
        for event in span.events:
            texts += [event.name] + [f"{k}={v}" for k, v in (event.attributes or {}).items()]
    leaks = [(secret, text) for text in texts for secret in secrets if secret in text]
    assert leaks == []


@pytest.fixture
def httpx_instrumented() -> Iterator[None]:
    instrumentor = HTTPXClientInstrumentor()
    instrumentor.instrument(tracer_provider=_PROVIDER)
    try:
        yield
    finally:
        instrumentor.uninstrument()


async def test_httpx_instrumentation_does_not_trace_an_attempt_twice(
    httpx_instrumented: None, fake: FakeVoipStudio, base_url: str, spans: InMemorySpanExporter
) -> None:
    creds = fake.credentials
    # The instrumentation is live: a plain httpx client's request is traced by it.
    async with httpx.AsyncClient() as plain:
        await plain.get(base_url + "/cdrs/dictionaries")
    assert [s.name for s in spans.get_finished_spans()] == ["GET"]
    spans.clear()
    async with VoipStudio(creds.user_id, creds.api_key, base_url=base_url) as vs:
        await vs.cdrs.list(limit=2)
    assert sorted(s.name for s in spans.get_finished_spans()) == [
        "GET /cdrs",
        "voipstudio cdrs.list",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_suppressed_http_instrumentation_makes_no_attempt_span(
    backend: str, fake: FakeVoipStudio, base_url: str, spans: InMemorySpanExporter
) -> None:
    creds = fake.credentials
    token = context.attach(context.set_value(context._SUPPRESS_HTTP_INSTRUMENTATION_KEY, True))
    try:
        async with VoipStudio(
            creds.user_id, creds.api_key, base_url=base_url, http_backend=backend
        ) as vs:
            await vs.cdrs.list(limit=2)
    finally:
        context.detach(token)
    assert [s.name for s in spans.get_finished_spans()] == ["voipstudio cdrs.list"]


def test_without_opentelemetry_nothing_is_wrapped_or_imported_per_request() -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys

        attempts = []

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "opentelemetry" or name.startswith("opentelemetry."):
                    attempts.append(name)
                    raise ModuleNotFoundError(name, name=name)

        sys.meta_path.insert(0, Block())
        from voipstudio_async import VoipStudio
        from voipstudio_async.resources import Cdrs
        from voipstudio_async.testing import FakeVoipStudio

        assert not hasattr(Cdrs.list, "__wrapped__")
        at_import = len(attempts)
        assert at_import >= 1

        async def main():
            fake = FakeVoipStudio(seed=1, cdrs=5)
            creds = fake.credentials
            async with VoipStudio(creds.user_id, creds.api_key, base_url=fake.base_url,
                                  transport=fake.transport()) as vs:
                assert vs._requester._http._transport.__class__.__name__ != "_TracedTransport"
                await vs.cdrs.list()
                assert [c async for c in vs.cdrs.iterate(page_size=2)]
        asyncio.run(main())
        assert len(attempts) == at_import, attempts
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"


_PROVIDER_LATER = """
import asyncio
import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from voipstudio_async import VoipStudio

def answer(request):
    return httpx.Response(200, json={"data": [{"id": 1}], "total": 1})

async def main():
    async with VoipStudio(1, "k", base_url="https://x.test/v1.2",
                          transport=httpx.MockTransport(answer)) as vs:
        # opentelemetry-api without a provider: nothing to record, so nothing wraps.
        walk = vs.cdrs.iterate()
        print(type(walk).__name__, [c.id async for c in walk])
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        walk = vs.cdrs.iterate()
        print(type(walk).__name__, [c.id async for c in walk])
        print(sorted(span.name for span in exporter.get_finished_spans()))

asyncio.run(main())
"""


def test_without_a_provider_calls_run_untraced_and_a_provider_set_later_is_used() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROVIDER_LATER], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "async_generator [1]",
        "_TracedIterator [1]",
        "['GET /cdrs', 'voipstudio cdrs.iterate']",
    ]
