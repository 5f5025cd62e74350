"""The owned client's pool is what ``bench.pool`` measured as the faster configuration:
as many connections as ``max_concurrency`` allows in flight, every one kept alive.

httpx's default pool (100 connections, 20 kept alive) closes connections beyond 20
after each request when more are in flight; the SDK's gate never lets more than
``max_concurrency`` requests into the pool, so a pool of that size, all kept alive,
never queues and never reconnects.
"""

from __future__ import annotations

import httpx
import pytest

from voipstudio_async._constants import DEFAULT_MAX_CONCURRENCY
from voipstudio_async._options import ClientOptions, build_http_client
from voipstudio_async._transports.aiohttp_pool import FastTransport
from voipstudio_async._transports.httpx_pool import GuardedHTTPTransport

BASE_URL = "https://127.0.0.1:9/api/v1.1/"


def _unwrapped(transport: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
    # With opentelemetry-api installed the transport is wrapped for the attempt spans.
    return getattr(transport, "wrapped", transport)


@pytest.mark.parametrize("max_concurrency", [1, DEFAULT_MAX_CONCURRENCY, 100, 200])
async def test_the_default_backend_pool_is_sized_to_max_concurrency_all_kept_alive(
    max_concurrency: int,
) -> None:
    options = ClientOptions(max_concurrency=max_concurrency)
    client, transport = build_http_client(options, BASE_URL)
    async with client:
        inner = _unwrapped(transport)
        assert isinstance(inner, GuardedHTTPTransport)
        pool = inner._pool
        assert pool._max_connections == max_concurrency
        assert pool._max_keepalive_connections == max_concurrency
        assert max_concurrency != httpx.Limits().max_keepalive_connections  # not the default


@pytest.mark.parametrize("max_concurrency", [1, DEFAULT_MAX_CONCURRENCY, 100, 200])
async def test_the_aiohttp_backend_pool_is_sized_to_max_concurrency(max_concurrency: int) -> None:
    options = ClientOptions(max_concurrency=max_concurrency, http_backend="aiohttp")
    client, transport = build_http_client(options, BASE_URL)
    async with client:
        inner = _unwrapped(transport)
        assert isinstance(inner, FastTransport)
        assert inner.max_connections == max_concurrency


def test_the_default_gate_is_the_measured_one() -> None:
    # bench.pool measured max_concurrency 32 against 100 at 50-200 concurrent callers;
    # see docs/guides/performance.md, "Connection pool".
    assert ClientOptions().max_concurrency == DEFAULT_MAX_CONCURRENCY == 32
