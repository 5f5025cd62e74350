"""A client's options, checked once into a frozen object, and the HTTP client built from them.

``VoipStudio.__init__`` and ``from_env`` take the same keyword options (``ClientArgs``);
``ClientOptions.build`` validates them and ``build_http_client`` turns them into the
``httpx.AsyncClient`` the Requester sends through.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from typing import Literal, TypedDict

import httpx

from ._budget import DEFAULT_RETRY_BUDGET, RetryBudget
from ._constants import (
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_TIMEOUT,
)
from ._deadline import check_seconds
from ._httpx_pool import GuardedHTTPTransport
from ._identity import check_user_agent, user_agent
from ._network import proxy_for, ssl_context
from ._otel import traced_transport
from ._ratelimit import DEFAULT_RATE_LIMIT, RateLimit
from ._transport import NOT_GIVEN, NotGiven

__all__ = ["ClientArgs", "ClientOptions", "build_http_client"]

HttpBackend = Literal["httpx", "aiohttp"]


class ClientArgs(TypedDict, total=False):
    """The keyword options ``from_env`` forwards to ``VoipStudio`` (see its docstring)."""

    timeout: float | httpx.Timeout | NotGiven
    max_retries: int
    max_retry_after: float
    max_concurrency: int
    http_client: httpx.AsyncClient | None
    transport: httpx.AsyncBaseTransport | None
    http_backend: HttpBackend
    rate_limit: RateLimit | None
    retry_budget: RetryBudget | None
    deadline: float | None
    verify: ssl.SSLContext | str | os.PathLike[str] | bool
    proxy: str | httpx.URL | None
    trust_env: bool
    user_agent: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOptions:
    """Validated options; build with ``ClientOptions.build(...)``."""

    timeout: httpx.Timeout
    max_retries: int
    max_retry_after: float
    max_concurrency: int
    http_client: httpx.AsyncClient | None
    transport: httpx.AsyncBaseTransport | None
    http_backend: HttpBackend
    rate_limit: RateLimit | None
    retry_budget: RetryBudget | None
    deadline: float | None
    verify: ssl.SSLContext | str | os.PathLike[str] | bool
    proxy: str | httpx.URL | None
    trust_env: bool
    user_agent: str | None

    @classmethod
    def build(
        cls,
        *,
        timeout: float | httpx.Timeout | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_backend: HttpBackend = "httpx",
        rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
        retry_budget: RetryBudget | None = DEFAULT_RETRY_BUDGET,
        deadline: float | None = None,
        verify: ssl.SSLContext | str | os.PathLike[str] | bool = True,
        proxy: str | httpx.URL | None = None,
        trust_env: bool = True,
        user_agent: str | None = None,
    ) -> ClientOptions:
        """Check every option (``ValueError`` naming the bad one) and resolve the timeout."""
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an int >= 0, got {max_retries!r}")
        if (
            isinstance(max_concurrency, bool)
            or not isinstance(max_concurrency, int)
            or max_concurrency < 1
        ):
            raise ValueError(f"max_concurrency must be an int >= 1, got {max_concurrency!r}")
        if not max_retry_after >= 0:
            raise ValueError(f"max_retry_after must be >= 0, got {max_retry_after!r}")
        if http_client is not None and transport is not None:
            raise ValueError("pass either http_client= or transport=, not both")
        if http_backend not in ("httpx", "aiohttp"):
            raise ValueError(f"http_backend must be 'httpx' or 'aiohttp', got {http_backend!r}")
        if http_backend == "aiohttp" and (http_client is not None or transport is not None):
            raise ValueError("http_backend='aiohttp' builds its own transport")
        if (http_client is not None or transport is not None) and (
            verify is not True or proxy is not None
        ):
            raise ValueError("verify= and proxy= apply to the SDK's own transport, not yours")
        if not isinstance(trust_env, bool):
            raise TypeError(f"trust_env must be a bool, got {trust_env!r}")
        ssl_context(verify, trust_env)  # a bad CA path or verify=False fails here, now
        if rate_limit is not None and not isinstance(rate_limit, RateLimit):
            raise TypeError(f"rate_limit must be a RateLimit or None, got {rate_limit!r}")
        if retry_budget is not None and not isinstance(retry_budget, RetryBudget):
            raise TypeError(f"retry_budget must be a RetryBudget or None, got {retry_budget!r}")
        if user_agent is not None and http_client is not None:
            raise ValueError("user_agent= names the SDK's own client: set it on your http_client")
        return cls(
            timeout=_resolve_timeout(timeout, http_client),
            max_retries=max_retries,
            max_retry_after=max_retry_after,
            max_concurrency=max_concurrency,
            http_client=http_client,
            transport=transport,
            http_backend=http_backend,
            rate_limit=rate_limit,
            retry_budget=retry_budget,
            deadline=check_seconds(deadline),
            verify=verify,
            proxy=proxy,
            trust_env=trust_env,
            user_agent=check_user_agent(user_agent),
        )


def _resolve_timeout(
    timeout: float | httpx.Timeout | NotGiven, http_client: httpx.AsyncClient | None
) -> httpx.Timeout:
    if isinstance(timeout, NotGiven):
        # A user's client keeps its own timeout unless it has none at all.
        own = http_client.timeout if http_client is not None else None
        timeout = own if own is not None and _is_finite(own) else DEFAULT_TIMEOUT
    resolved = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
    if not _is_finite(resolved):
        raise ValueError("timeout must be finite in every phase")
    return resolved


def _is_finite(timeout: httpx.Timeout) -> bool:
    return None not in (timeout.connect, timeout.read, timeout.write, timeout.pool)


def build_http_client(
    options: ClientOptions, base_url: str
) -> tuple[httpx.AsyncClient, httpx.AsyncBaseTransport]:
    """The client the SDK owns and its transport: pool sized to ``max_concurrency``, no
    redirects, the same TLS verification and proxy on both backends (``_network``), the
    SDK's ``User-Agent``, one span per attempt when OpenTelemetry is installed."""
    context = ssl_context(options.verify, options.trust_env)
    proxy = proxy_for(base_url, options.proxy, options.trust_env)
    # At least one connection per allowed request, so the pool never times out.
    size = options.max_concurrency
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    client_class = httpx.AsyncClient
    transport = options.transport
    if options.http_backend == "aiohttp":
        from ._fast import FastAsyncClient, FastTransport  # the `fast` extra (aiohttp)

        client_class = FastAsyncClient
        transport = FastTransport(limits=limits, verify=context, proxy=proxy)
    elif transport is None:
        # httpx's own transport, guarded against connections stranded by cancellation.
        transport = GuardedHTTPTransport(limits=limits, verify=context, proxy=proxy)
    transport = traced_transport(transport)
    client = client_class(
        transport=transport,
        timeout=options.timeout,
        limits=limits,
        follow_redirects=False,
        trust_env=options.trust_env,
        headers={"User-Agent": user_agent(options.http_backend, options.user_agent)},
    )
    return client, transport
