"""``VoipStudio``: options, credentials, lifecycle and the resource namespaces."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from types import TracebackType
from typing import Self, Unpack

import attrs
from voipstudio_history_client.api.auth import login_2fa

from ._auth import BasicAuth, LoginAuth, TokenAuth
from ._checks import is_positive_int
from ._constants import DEFAULT_BASE_URL, DEFAULT_TIMEOUT
from ._errors import ClientClosedError, VoipStudioError
from ._operations import calls, operation
from ._options import ClientArgs, ClientOptions, build_http_client
from ._request.requester import DeadlineArg, Requester, RetryPolicy
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

# The names the options' types and defaults use, imported as _options.py imports them.
# isort: split
# BEGIN derived from ClientOptions by tools/derive_options.py (run `make generate`) (imports)
import os
import ssl

import httpx

from ._constants import (
    DEFAULT_DEADLINE,
    DEFAULT_HTTP_BACKEND,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER,
)
from ._options import HttpBackend
from ._policies.budget import DEFAULT_RETRY_BUDGET, RetryBudget
from ._policies.ratelimit import DEFAULT_RATE_LIMIT, RateLimit
from ._request.requester import NOT_GIVEN, NotGiven

# END derived

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_AFTER",
    "DEFAULT_TIMEOUT",
    "VoipStudio",
]

_LOGIN_2FA = operation(login_2fa)
_OPTION_NAMES = tuple(field.name for field in attrs.fields(ClientOptions) if field.init)
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


def _account_key(base_url: str, auth: httpx.Auth, secret: str) -> str:
    """The shared rate limit's Redis key: one per account, never a credential in clear."""
    host = httpx.URL(base_url).host
    if isinstance(auth, BasicAuth):
        return f"voipstudio:ratelimit:{host}:user:{auth.user_id}"
    digest = hashlib.sha256(secret.encode()).hexdigest()[:32]
    return f"voipstudio:ratelimit:{host}:{digest}"


class VoipStudio:
    # The options' Args entries are written from ClientOptions by `make generate`.
    """Async client for the VoIPstudio History API.

    Credentials (exactly one kind): ``user_id`` + ``api_key`` (HTTP Basic), ``token``
    (``X-Auth-Token``) or ``email`` + ``password`` (POST /login on first use, re-login
    once on 401). Use it as ``async with VoipStudio(...) as vs:`` or call ``aclose()``.

    Args:
        user_id: The VoIPstudio user id (with ``api_key``).
        api_key: The user's API key (with ``user_id``).
        token: An API or session token, sent as ``X-Auth-Token``.
        email: The account's e-mail address (with ``password``).
        password: Its password (with ``email``).
        base_url: API root, e.g. ``https://l7api.com/v1.1/voipstudio`` (the default).
        timeout: default per-request timeout (seconds or ``httpx.Timeout``); never unbounded.
        max_retries: retries after the first attempt (see ``RetryPolicy``).
        max_retry_after: a ``Retry-After`` longer than this (seconds) is raised at once, with
            ``retry_after`` set, instead of being slept on.
        max_concurrency: requests in flight at once; the connection pool is sized to match.
        http_client: your own ``httpx.AsyncClient`` (not closed by ``aclose()``).
        transport: any ``httpx.AsyncBaseTransport`` (e.g. ``httpx.ASGITransport``).
        http_backend: ``"httpx"`` (httpx's own transport, the default) or ``"aiohttp"``: the same
            httpx API over aiohttp's connection pool (``pip install voipstudio-async[fast]``),
            several times faster at high concurrency. It keeps the timeout, the pool size
            (``max_concurrency``) and no redirects; not combinable with
            ``http_client=``/``transport=``.
        rate_limit: the client's shared limiter (see ``RateLimit``). The default adapts to 429s
            only: the first pauses every task of the client for its ``Retry-After`` and sets a send
            rate that then follows CUBIC; a 429 waited out this way is not counted in
            ``max_retries``. ``None`` turns it off (each request then retries its own 429s).
        retry_budget: caps retries of failures (5xx, 408, timeouts, dropped connections) at a share
            of the client's recent calls (``RetryBudget()``: 20% of the calls of the last 10 s, at
            least 10 per window); when spent, a failing call raises its own error at once (logged at
            INFO). ``None`` removes the cap.
        deadline: seconds for each call that passes no ``deadline=`` of its own: every attempt,
            backoff and rate-limit wait included (walks: per page; bulk calls and ``download_many``:
            the whole call); past it ``APITimeoutError``, and a wait that would end after it raises
            at once. None (the default): no deadline.
        verify: TLS verification as in httpx: ``True`` (certifi's CA bundle, or with ``trust_env``
            ``SSL_CERT_FILE``/``SSL_CERT_DIR``), a CA bundle path, or an ``ssl.SSLContext``;
            ``False`` is refused (verification is never silently off).
        proxy: an ``http://`` proxy URL for every request; by default (``trust_env``)
            ``HTTPS_PROXY``/``ALL_PROXY`` unless ``NO_PROXY`` covers the API host.
        trust_env: read the proxy and CA variables above from the environment. All three apply the
            same on both ``http_backend`` values (not to your own ``http_client=``/``transport=``).
        user_agent: your application's product token (``"myapp/1.2"``), appended to the
            ``User-Agent`` every request sends: ``voipstudio-async/<version> (python <x.y>; httpx
            <version>)`` (aiohttp's version on that backend). Not combinable with ``http_client=``,
            whose headers stay yours.

    Raises:
        ValueError: No credentials or contradictory ones, a bad ``base_url``, or an option
            refused (the message names it, never a secret's value); nothing is sent.
        TypeError: An option of the wrong type.
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
        # BEGIN derived from ClientOptions by tools/derive_options.py (run `make generate`) (init)
        timeout: float | httpx.Timeout | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_backend: HttpBackend = DEFAULT_HTTP_BACKEND,
        rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
        retry_budget: RetryBudget | None = DEFAULT_RETRY_BUDGET,
        deadline: float | None = DEFAULT_DEADLINE,
        verify: ssl.SSLContext | str | os.PathLike[str] | bool = True,
        proxy: str | httpx.URL | None = None,
        trust_env: bool = True,
        user_agent: str | None = None,
        # END derived
    ) -> None:
        given = locals()
        # The derived keywords above are ClientOptions' fields, written from them.
        options = ClientOptions(**{name: given[name] for name in _OPTION_NAMES})
        self._options = options
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        try:
            httpx.URL(base_url)
        except httpx.InvalidURL as exc:
            raise ValueError(f"base_url is not a valid URL: {exc}") from None
        base_url = base_url.rstrip("/") + "/"
        self._base_url = base_url
        auth = self._build_auth(user_id, api_key, token, email, password, base_url)
        secret = token if token is not None else f"{email}\0{password}"
        limit_key = _account_key(base_url, auth, secret)
        if options.http_client is None:
            http, transport = build_http_client(options, base_url)
        else:
            http, transport = options.http_client, None
        self._requester = Requester(
            http,
            options,
            base_url=base_url,
            auth=auth,
            owns_http=options.http_client is None,
            limit_key=limit_key,
            transport=transport,
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
        """Call tracking numbers (``/calltracking/cdrs``)."""
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
        user_id: int | str | None = None,
        api_key: str | None = None,
        token: str | None = None,
        email: str | None = None,
        password: str | None = None,
        base_url: str | None = None,
        **options: Unpack[ClientArgs],
    ) -> Self:
        """Build a client from ``VOIPSTUDIO_*`` variables (``environ`` defaults to os.environ).

        Reads ``VOIPSTUDIO_USER_ID``/``VOIPSTUDIO_API_KEY``, or ``VOIPSTUDIO_TOKEN``, or
        ``VOIPSTUDIO_EMAIL``/``VOIPSTUDIO_PASSWORD``, and ``VOIPSTUDIO_BASE_URL``.
        Empty variables count as unset. Keyword arguments override the environment:
        any credential keyword replaces every credential variable (so ``token=`` is not
        contradicted by ``VOIPSTUDIO_USER_ID``), ``base_url=`` replaces
        ``VOIPSTUDIO_BASE_URL``.

        Args:
            environ: the variables to read (default ``os.environ``).
            user_id: with ``api_key``, instead of the credential variables.
            api_key: with ``user_id``.
            token: instead of the credential variables.
            email: with ``password``, instead of the credential variables.
            password: with ``email``.
            base_url: the API root, over ``VOIPSTUDIO_BASE_URL`` (default: the public API).
            **options: ``VoipStudio``'s keyword options (``timeout``, ``max_retries``...).

        Returns:
            The client (use it with ``async with``).

        Raises:
            ValueError: missing or contradictory credentials, or a bad option (named).
        """
        env = os.environ if environ is None else environ

        def var(name: str) -> str | None:
            return env.get(name) or None

        given = (user_id, api_key, token, email, password)
        if all(value is None for value in given):
            given = (
                var("VOIPSTUDIO_USER_ID"),
                var("VOIPSTUDIO_API_KEY"),
                var("VOIPSTUDIO_TOKEN"),
                var("VOIPSTUDIO_EMAIL"),
                var("VOIPSTUDIO_PASSWORD"),
            )
        return cls(
            given[0],
            given[1],
            token=given[2],
            email=given[3],
            password=given[4],
            base_url=base_url or var("VOIPSTUDIO_BASE_URL") or DEFAULT_BASE_URL,
            **options,
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
    async def complete_two_factor(
        self, code: str, nonce: str, *, deadline: DeadlineArg = NOT_GIVEN
    ) -> None:
        """Finish an email/password login that raised ``TwoFactorRequiredError``.

        ``nonce`` comes from the exception, ``code`` from the user. Later requests use the
        resulting session token. Each new login e-mails a new code, so complete this
        before sending other requests.

        Args:
            code: The code sent to the user.
            nonce: ``TwoFactorRequiredError.nonce``.
            deadline: Seconds for the call (default the client's).

        Raises:
            TypeError: The client was not built with ``email=`` and ``password=``.
            APIStatusError: The code was refused (e.g. ``AuthenticationError``).
        """
        auth = self._requester.auth
        if not isinstance(auth, LoginAuth):
            raise TypeError("complete_two_factor() needs a client built with email= and password=")
        # The code is sent as a one-shot stream and masked in what errors carry.
        kwargs = auth.two_factor_request(_check_secret("code", code), nonce)
        with self._requester.deadline(deadline):
            try:
                response = await self._requester.send(
                    kwargs,
                    # A code is single-use: a replay after an ambiguous failure is refused.
                    policy=RetryPolicy.NO_REPLAY,
                    path_template=_LOGIN_2FA.path,
                    auth=httpx.Auth(),
                )
            except VoipStudioError as exc:
                auth.hide_two_factor_code(exc, nonce)
                raise
        auth.accept_two_factor(response, nonce)

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
