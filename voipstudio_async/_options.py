"""A client's options, declared once, checked once into a frozen object, and the HTTP
client built from them.

``ClientOptions`` is the declaration: each field carries the option's type, its default
(from ``_constants``) and its check. ``VoipStudio.__init__`` lists the same keywords
(``tests/test_options_declared_once.py`` holds them equal), ``from_env`` forwards them
(``ClientArgs``, equally checked), the ``Requester`` takes the object, and
``build_http_client`` turns it into the ``httpx.AsyncClient`` the Requester sends through.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from typing import Any, Literal, TypedDict, get_args

import attrs
import httpx

from ._checks import (
    check_bool,
    check_choice,
    check_instance,
    check_int,
    check_number,
    check_optional_seconds,
    check_timeout,
    invalid,
)
from ._constants import (
    DEFAULT_DEADLINE,
    DEFAULT_HTTP_BACKEND,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_TIMEOUT,
)
from ._policies.budget import DEFAULT_RETRY_BUDGET, RetryBudget
from ._policies.ratelimit import DEFAULT_RATE_LIMIT, RateLimit
from ._request.identity import check_user_agent, user_agent
from ._request.requester import NOT_GIVEN, NotGiven
from ._tracing import traced_transport
from ._transports.httpx_pool import GuardedHTTPTransport
from ._transports.network import proxy_for, ssl_context

__all__ = ["ClientArgs", "ClientOptions", "HttpBackend", "build_http_client"]

HttpBackend = Literal["httpx", "aiohttp"]


def _checked(check: Callable[[Any, str], object]) -> Callable[[Any, Any, Any], None]:
    """An attrs validator running one of ``_checks``' helpers under the option's name."""

    def validate(_options: Any, field: attrs.Attribute[Any], value: Any) -> None:
        check(value, field.name)

    return validate


def _check_timeout_arg(value: object, name: str) -> None:
    if not isinstance(value, NotGiven):
        check_timeout(value, name)


def _check_proxy(value: object, name: str) -> None:
    if value is not None and not isinstance(value, str | httpx.URL):
        raise invalid(name, "an http(s) proxy URL (str or httpx.URL) or None", value)


def _instance(kind: type[Any]) -> Callable[[Any, Any, Any], None]:
    return _checked(lambda value, name: check_instance(value, name, kind, optional=True))


@attrs.frozen(kw_only=True)
class ClientOptions:
    """The client's keyword options (see ``VoipStudio``), each checked when built:
    ``ValueError`` naming the option. ``default_timeout`` is ``timeout`` resolved."""

    timeout: float | httpx.Timeout | NotGiven = attrs.field(
        default=NOT_GIVEN, validator=_checked(_check_timeout_arg)
    )
    max_retries: int = attrs.field(
        default=DEFAULT_MAX_RETRIES, validator=_checked(lambda v, n: check_int(v, n, minimum=0))
    )
    max_retry_after: float = attrs.field(
        default=DEFAULT_MAX_RETRY_AFTER, validator=_checked(check_number)
    )
    max_concurrency: int = attrs.field(
        default=DEFAULT_MAX_CONCURRENCY, validator=_checked(check_int)
    )
    http_client: httpx.AsyncClient | None = attrs.field(
        default=None, validator=_instance(httpx.AsyncClient)
    )
    # Any object httpx can send through (tests pass stand-ins): not type-checked here.
    transport: httpx.AsyncBaseTransport | None = None
    http_backend: HttpBackend = attrs.field(
        default=DEFAULT_HTTP_BACKEND,
        validator=_checked(lambda v, n: check_choice(v, n, get_args(HttpBackend))),
    )
    rate_limit: RateLimit | None = attrs.field(
        default=DEFAULT_RATE_LIMIT, validator=_instance(RateLimit)
    )
    retry_budget: RetryBudget | None = attrs.field(
        default=DEFAULT_RETRY_BUDGET, validator=_instance(RetryBudget)
    )
    deadline: float | None = attrs.field(
        default=DEFAULT_DEADLINE, validator=_checked(check_optional_seconds)
    )
    verify: ssl.SSLContext | str | os.PathLike[str] | bool = True
    proxy: str | httpx.URL | None = attrs.field(default=None, validator=_checked(_check_proxy))
    trust_env: bool = attrs.field(default=True, validator=_checked(check_bool))
    user_agent: str | None = attrs.field(default=None, converter=check_user_agent)
    default_timeout: httpx.Timeout = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        """The checks that involve several options, then the timeout resolved."""
        http_client, transport = self.http_client, self.transport
        if http_client is not None and transport is not None:
            raise ValueError("pass either http_client= or transport=, not both")
        if self.http_backend == "aiohttp" and (http_client is not None or transport is not None):
            raise ValueError("http_backend='aiohttp' builds its own transport")
        if (http_client is not None or transport is not None) and (
            self.verify is not True or self.proxy is not None
        ):
            raise ValueError("verify= and proxy= apply to the SDK's own transport, not yours")
        ssl_context(self.verify, self.trust_env)  # a bad CA path or verify=False fails here
        if self.user_agent is not None and http_client is not None:
            raise ValueError("user_agent= names the SDK's own client: set it on your http_client")
        object.__setattr__(self, "default_timeout", _resolve_timeout(self.timeout, http_client))


class ClientArgs(TypedDict, total=False):
    """``ClientOptions``' fields as the keywords ``from_env`` forwards to ``VoipStudio``
    (a test holds the two equal; mypy needs the names spelled out)."""

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


def _resolve_timeout(
    timeout: float | httpx.Timeout | NotGiven, http_client: httpx.AsyncClient | None
) -> httpx.Timeout:
    if isinstance(timeout, NotGiven):
        # A user's client keeps its own timeout unless it is unbounded or not positive.
        own = http_client.timeout if http_client is not None else None
        try:
            return DEFAULT_TIMEOUT if own is None else check_timeout(own)
        except ValueError:
            return DEFAULT_TIMEOUT
    return check_timeout(timeout)


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
        from ._transports.aiohttp_pool import (  # the `fast` extra (aiohttp)
            FastAsyncClient,
            FastTransport,
        )

        client_class = FastAsyncClient
        transport = FastTransport(limits=limits, verify=context, proxy=proxy)
    elif transport is None:
        # httpx's own transport, guarded against connections stranded by cancellation.
        transport = GuardedHTTPTransport(limits=limits, verify=context, proxy=proxy)
    transport = traced_transport(transport)
    client = client_class(
        transport=transport,
        timeout=options.default_timeout,
        limits=limits,
        follow_redirects=False,
        trust_env=options.trust_env,
        headers={"User-Agent": user_agent(options.http_backend, options.user_agent)},
    )
    return client, transport
