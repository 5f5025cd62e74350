"""A client's options, declared once, checked once into a frozen object, and the HTTP
client built from them.

``ClientOptions`` is the declaration: each field carries the option's type, its default
(from ``_constants``), its check and its description. ``VoipStudio.__init__``'s keyword
parameters and their docstring entries, and ``ClientArgs`` (what ``from_env`` forwards),
are written from the fields by ``make generate`` (``tools/derive_options.py``; ``make
check-generated`` fails when they are stale); the ``Requester`` takes the object, and
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
    ``ValueError`` naming the option. ``default_timeout`` is ``timeout`` resolved.

    Each field is an option of ``VoipStudio(...)`` and ``from_env(...)``: its type, its
    default, its check and, in the docstring below it, its entry in ``VoipStudio``'s
    docstring. ``make generate`` (``tools/derive_options.py``) writes
    ``VoipStudio.__init__``'s keyword parameters, their docstring entries and ``ClientArgs``
    from these fields.
    """

    timeout: float | httpx.Timeout | NotGiven = attrs.field(
        default=NOT_GIVEN, validator=_checked(_check_timeout_arg)
    )
    """default per-request timeout (seconds or ``httpx.Timeout``); never unbounded."""
    max_retries: int = attrs.field(
        default=DEFAULT_MAX_RETRIES, validator=_checked(lambda v, n: check_int(v, n, minimum=0))
    )
    """retries after the first attempt (see ``RetryPolicy``)."""
    max_retry_after: float = attrs.field(
        default=DEFAULT_MAX_RETRY_AFTER, validator=_checked(check_number)
    )
    """a ``Retry-After`` longer than this (seconds) is raised at once, with ``retry_after`` set,
    instead of being slept on."""
    max_concurrency: int = attrs.field(
        default=DEFAULT_MAX_CONCURRENCY, validator=_checked(check_int)
    )
    """requests in flight at once; the connection pool is sized to match."""
    http_client: httpx.AsyncClient | None = attrs.field(
        default=None, validator=_instance(httpx.AsyncClient)
    )
    """your own ``httpx.AsyncClient`` (not closed by ``aclose()``)."""
    # Any object httpx can send through (tests pass stand-ins): not type-checked here.
    transport: httpx.AsyncBaseTransport | None = None
    """any ``httpx.AsyncBaseTransport`` (e.g. ``httpx.ASGITransport``)."""
    http_backend: HttpBackend = attrs.field(
        default=DEFAULT_HTTP_BACKEND,
        validator=_checked(lambda v, n: check_choice(v, n, get_args(HttpBackend))),
    )
    """``"httpx"`` (httpx's own transport, the default) or ``"aiohttp"``: the same httpx API over
    aiohttp's connection pool (``pip install voipstudio-async[fast]``), several times faster at
    high concurrency. It keeps the timeout, the pool size (``max_concurrency``) and no redirects;
    not combinable with ``http_client=``/``transport=``."""
    rate_limit: RateLimit | None = attrs.field(
        default=DEFAULT_RATE_LIMIT, validator=_instance(RateLimit)
    )
    """the client's shared limiter (see ``RateLimit``). The default adapts to 429s only: the
    first pauses every task of the client for its ``Retry-After`` and sets a send rate that then
    follows CUBIC; a 429 waited out this way is not counted in ``max_retries``. ``None`` turns it
    off (each request then retries its own 429s)."""
    retry_budget: RetryBudget | None = attrs.field(
        default=DEFAULT_RETRY_BUDGET, validator=_instance(RetryBudget)
    )
    """caps retries of failures (5xx, 408, timeouts, dropped connections) at a share of the
    client's recent calls (``RetryBudget()``: 20% of the calls of the last 10 s, at least 10 per
    window); when spent, a failing call raises its own error at once (logged at INFO). ``None``
    removes the cap."""
    deadline: float | None = attrs.field(
        default=DEFAULT_DEADLINE, validator=_checked(check_optional_seconds)
    )
    """seconds for each call that passes no ``deadline=`` of its own: every attempt, backoff and
    rate-limit wait included (walks: per page; bulk calls and ``download_many``: the whole call);
    past it ``APITimeoutError``, and a wait that would end after it raises at once. None (the
    default): no deadline."""
    # Checked in __attrs_post_init__, with trust_env (a CA path may come from the environment).
    verify: ssl.SSLContext | str | os.PathLike[str] | bool = True
    """TLS verification as in httpx: ``True`` (certifi's CA bundle, or with ``trust_env``
    ``SSL_CERT_FILE``/``SSL_CERT_DIR``), a CA bundle path, or an ``ssl.SSLContext``; ``False`` is
    refused (verification is never silently off)."""
    proxy: str | httpx.URL | None = attrs.field(default=None, validator=_checked(_check_proxy))
    """an ``http://`` proxy URL for every request; by default (``trust_env``)
    ``HTTPS_PROXY``/``ALL_PROXY`` unless ``NO_PROXY`` covers the API host."""
    trust_env: bool = attrs.field(default=True, validator=_checked(check_bool))
    """read the proxy and CA variables above from the environment. All three apply the same on
    both ``http_backend`` values (not to your own ``http_client=``/``transport=``)."""
    user_agent: str | None = attrs.field(default=None, converter=check_user_agent)
    """your application's product token (``"myapp/1.2"``), appended to the ``User-Agent`` every
    request sends: ``voipstudio-async/<version> (python <x.y>; httpx <version>)`` (aiohttp's
    version on that backend). Not combinable with ``http_client=``, whose headers stay yours."""
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
    (mypy needs the names spelled out: ``make generate`` writes them from the fields)."""

    # BEGIN derived from ClientOptions by tools/derive_options.py (run `make generate`) (args)
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
    # END derived


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
    # One connection per request the gate lets through, every one kept alive: requests
    # queue at the gate, never in httpcore's pool, and a burst after a quiet spell reuses
    # what the last one opened, where httpx's default (100, 20 kept alive) closes the
    # rest. bench.pool found no configuration consistently faster on the test VM
    # (docs/guides/performance.md, "The default backend's connection pool").
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
