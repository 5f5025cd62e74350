"""``VoipStudio``: options, credentials, lifecycle and the resource namespaces."""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Literal, Self

import httpx
from voipstudio_history_client.api.auth import login_2fa
from voipstudio_history_client.models import LoginResponse, TwoFactorRequest

from ._auth import BasicAuth, LoginAuth, TokenAuth
from ._checks import is_positive_int
from ._decode import parse_model
from ._errors import ClientClosedError
from ._httpx_pool import GuardedHTTPTransport
from ._operations import calls, operation
from ._transport import NOT_GIVEN, NotGiven, Requester, RetryPolicy
from .resources import (
    CallTracking,
    Cdrs,
    ChatMsgs,
    Chats,
    MediaSessions,
    Monitors,
    Msdrs,
    Sms,
    Statements,
    Users,
    Voicemessages,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_AFTER",
    "DEFAULT_TIMEOUT",
    "VoipStudio",
]

DEFAULT_BASE_URL = "https://l7api.com/v1.1/voipstudio"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_AFTER = 60.0
DEFAULT_MAX_CONCURRENCY = 32

_LOGIN_2FA = operation(login_2fa)
_ENV_HINT = (
    "pass user_id= and api_key=, or token=, or email= and password= "
    "(from_env() reads VOIPSTUDIO_USER_ID/VOIPSTUDIO_API_KEY, VOIPSTUDIO_TOKEN or "
    "VOIPSTUDIO_EMAIL/VOIPSTUDIO_PASSWORD)"
)


def _check_user_id(user_id: object) -> int:
    # Environment variables arrive as strings; anything but digits is a typo.
    if isinstance(user_id, str) and user_id.strip().isdigit():
        user_id = int(user_id.strip())
    if not is_positive_int(user_id):
        # Never echo it: swapped variables put the API key here.
        raise ValueError(
            f"user_id must be a positive int or a string of digits; got a "
            f"{type(user_id).__name__} that is not (value not shown: it may be a secret)"
        )
    return user_id


def _check_secret(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")  # never echo the value
    return value


class VoipStudio:
    """Async client for the VoIPstudio History API.

    Credentials (exactly one kind): ``user_id`` + ``api_key`` (HTTP Basic), ``token``
    (``X-Auth-Token``) or ``email`` + ``password`` (POST /login on first use, re-login
    once on 401). Use it as ``async with VoipStudio(...) as vs:`` or call ``aclose()``.

    Args:
        base_url: API root, e.g. ``https://l7api.com/v1.2/voipstudio``.
        timeout: default per-request timeout (seconds or ``httpx.Timeout``); never unbounded.
        max_retries: retries after the first attempt (see ``RetryPolicy``).
        max_retry_after: a ``Retry-After`` longer than this (seconds) is raised at once,
            with ``retry_after`` set, instead of being slept on.
        max_concurrency: requests in flight at once; the connection pool is sized to match.
        http_client: your own ``httpx.AsyncClient`` (not closed by ``aclose()``).
        transport: any ``httpx.AsyncBaseTransport`` (e.g. ``httpx.ASGITransport``).
        http_backend: ``"httpx"`` (httpx's own transport, the default) or ``"aiohttp"``:
            the same httpx API over aiohttp's connection pool (``pip install
            voipstudio-async[fast]``), several times faster at high concurrency. It
            keeps the timeout, the pool size (``max_concurrency``) and no redirects;
            not combinable with ``http_client=``/``transport=``.
    """

    def __init__(
        self,
        user_id: int | str | None = None,
        api_key: str | None = None,
        *,
        token: str | None = None,
        email: str | None = None,
        password: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | httpx.Timeout | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_backend: Literal["httpx", "aiohttp"] = "httpx",
    ) -> None:
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
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        try:
            httpx.URL(base_url)
        except httpx.InvalidURL as exc:
            raise ValueError(f"base_url is not a valid URL: {exc}") from None
        base_url = base_url.rstrip("/") + "/"
        self._base_url = base_url

        auth = self._build_auth(user_id, api_key, token, email, password, base_url)

        if isinstance(timeout, NotGiven):
            # A user's client keeps its own timeout unless it has none at all.
            own = http_client.timeout if http_client is not None else None
            timeout = own if own is not None and _is_finite(own) else DEFAULT_TIMEOUT
        resolved_timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        if not _is_finite(resolved_timeout):
            raise ValueError("timeout must be finite in every phase")

        owns_http = http_client is None
        if http_client is None:
            # At least one connection per allowed request, so the pool never times out.
            limits = httpx.Limits(
                max_connections=max_concurrency, max_keepalive_connections=max_concurrency
            )
            client_class = httpx.AsyncClient
            if http_backend == "aiohttp":
                from ._fast import FastAsyncClient, FastTransport  # the `fast` extra (aiohttp)

                client_class, transport = FastAsyncClient, FastTransport(limits=limits)
            elif transport is None:
                # httpx's own transport, guarded against connections stranded by cancellation.
                transport = GuardedHTTPTransport(limits=limits)
            http_client = client_class(
                transport=transport,
                timeout=resolved_timeout,
                limits=limits,
                follow_redirects=False,
            )
        self._requester = Requester(
            http_client,
            base_url=base_url,
            auth=auth,
            timeout=resolved_timeout,
            max_retries=max_retries,
            max_retry_after=max_retry_after,
            max_concurrency=max_concurrency,
            owns_http=owns_http,
        )
        self.cdrs = Cdrs(self._requester)
        """Call detail records."""
        self.monitors = Monitors(self._requester)
        """Call recordings."""
        self.msdrs = Msdrs(self._requester)
        """Media session detail records."""
        self.chats = Chats(self._requester)
        """Chat sessions."""
        self.chatmsgs = ChatMsgs(self._requester)
        """Chat messages."""
        self.voicemessages = Voicemessages(self._requester)
        """Voicemail messages."""
        self.statements = Statements(self._requester)
        """Statements."""
        self.sms = Sms(self._requester)
        """SMS dictionaries."""
        self.calltracking = CallTracking(self._requester)
        """Call-tracking CDRs (``/calltracking/cdrs``)."""
        self.mediasessions = MediaSessions(self._requester)
        """Media session dictionaries."""
        self.users = Users(self._requester)
        """Users (per-user CDR export)."""

    @staticmethod
    def _build_auth(
        user_id: int | str | None,
        api_key: str | None,
        token: str | None,
        email: str | None,
        password: str | None,
        base_url: str,
    ) -> httpx.Auth:
        given = {
            "user_id/api_key": user_id is not None or api_key is not None,
            "token": token is not None,
            "email/password": email is not None or password is not None,
        }
        kinds = [kind for kind, present in given.items() if present]
        if not kinds:
            raise ValueError(f"no credentials: {_ENV_HINT}")
        if len(kinds) > 1:
            raise ValueError(f"contradictory credentials ({' and '.join(kinds)}): {_ENV_HINT}")
        if token is not None:
            return TokenAuth(_check_secret("token", token))
        if email is not None or password is not None:
            if email is None or password is None:
                raise ValueError(
                    "email= and password= go together (VOIPSTUDIO_EMAIL/VOIPSTUDIO_PASSWORD)"
                )
            return LoginAuth(
                _check_secret("email", email),
                _check_secret("password", password),
                login_url=base_url + "login",
            )
        if user_id is None or api_key is None:
            raise ValueError(
                "user_id= and api_key= go together (VOIPSTUDIO_USER_ID/VOIPSTUDIO_API_KEY)"
            )
        return BasicAuth(_check_user_id(user_id), _check_secret("api_key", api_key))

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        timeout: float | httpx.Timeout | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_backend: Literal["httpx", "aiohttp"] = "httpx",
    ) -> Self:
        """Build a client from ``VOIPSTUDIO_*`` variables (``environ`` defaults to os.environ).

        Reads ``VOIPSTUDIO_USER_ID``/``VOIPSTUDIO_API_KEY``, or ``VOIPSTUDIO_TOKEN``, or
        ``VOIPSTUDIO_EMAIL``/``VOIPSTUDIO_PASSWORD``, and ``VOIPSTUDIO_BASE_URL``.
        Empty variables count as unset.
        """
        env = os.environ if environ is None else environ

        def var(name: str) -> str | None:
            return env.get(name) or None

        return cls(
            var("VOIPSTUDIO_USER_ID"),
            var("VOIPSTUDIO_API_KEY"),
            token=var("VOIPSTUDIO_TOKEN"),
            email=var("VOIPSTUDIO_EMAIL"),
            password=var("VOIPSTUDIO_PASSWORD"),
            base_url=var("VOIPSTUDIO_BASE_URL") or DEFAULT_BASE_URL,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_after=max_retry_after,
            max_concurrency=max_concurrency,
            http_client=http_client,
            transport=transport,
            http_backend=http_backend,
        )

    def __repr__(self) -> str:
        return f"VoipStudio(base_url={self._base_url!r}, auth={self._requester.auth!r})"

    @property
    def base_url(self) -> str:
        """The API root (ends with ``/``)."""
        return self._base_url

    @property
    def timeout(self) -> httpx.Timeout:
        """The default per-request timeout."""
        return self._requester.timeout

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self._requester.max_retries

    @property
    def max_concurrency(self) -> int:
        """Requests in flight at once."""
        return self._requester.max_concurrency

    @property
    def is_closed(self) -> bool:
        """True after ``aclose()``."""
        return self._requester.closed

    @calls(_LOGIN_2FA)
    async def complete_two_factor(self, code: str, nonce: str) -> None:
        """Finish an email/password login that raised ``TwoFactorRequiredError``.

        ``nonce`` comes from the exception, ``code`` from the user. Later requests use the
        resulting session token. Each new login e-mails a new code, so complete this
        before sending other requests.
        """
        auth = self._requester.auth
        if not isinstance(auth, LoginAuth):
            raise TypeError("complete_two_factor() needs a client built with email= and password=")
        kwargs = _LOGIN_2FA.build(
            body=TwoFactorRequest(code=_check_secret("code", code), nonce=nonce)
        )
        response = await self._requester.send(
            kwargs,
            # A code is single-use: a replay after an ambiguous failure would be refused.
            policy=RetryPolicy.NO_REPLAY,
            path_template=_LOGIN_2FA.path,
            auth=httpx.Auth(),
        )
        what = f"{_LOGIN_2FA.method} {_LOGIN_2FA.path}"
        auth.set_token(parse_model(response, LoginResponse.from_dict, what=what).user_token)

    async def aclose(self) -> None:
        """Close the connection pool (unless ``http_client`` was yours); idempotent."""
        await self._requester.aclose()

    async def __aenter__(self) -> Self:
        if self._requester.closed:
            raise ClientClosedError()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _is_finite(timeout: httpx.Timeout) -> bool:
    return None not in (timeout.connect, timeout.read, timeout.write, timeout.pool)
