"""Credentials as ``httpx.Auth`` flows. No repr or message ever shows a secret."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncGenerator, AsyncIterator, Generator
from typing import Any

import httpx
from voipstudio_history_client.api.auth import login, login_2fa
from voipstudio_history_client.models import (
    LoginRequest,
    LoginResponse,
    TwoFactorChallenge,
    TwoFactorRequest,
)

from ._errors import (
    APIResponseValidationError,
    TwoFactorRequiredError,
    VoipStudioError,
    make_status_error,
)
from ._operations import operation
from ._request.decode import parse_model

_LOGIN = operation(login)
_LOGIN_WHAT = f"{_LOGIN.method} {_LOGIN.path}"
_LOGIN_2FA = operation(login_2fa)
_LOGIN_2FA_WHAT = f"{_LOGIN_2FA.method} {_LOGIN_2FA.path}"

__all__ = ["BasicAuth", "LoginAuth", "TokenAuth"]


class _MaskedHeaders(httpx.Headers):
    """Request headers whose repr masks ``X-Auth-Token`` as httpx masks ``Authorization``.

    The request (and so these headers) stays reachable from exceptions as
    ``exc.response.request``; httpx's own repr masks only the Authorization headers.
    """

    def __repr__(self) -> str:
        masked = [
            (name, b"[secure]" if name.lower() == b"x-auth-token" else value)
            for name, value in self.raw
        ]
        return repr(httpx.Headers(masked, encoding=self.encoding))


def _json_body(body: object) -> tuple[bytes, dict[str, str]]:
    """Compact JSON and the headers httpx adds only to requests built from ``content=``."""
    data = json.dumps(body, separators=(",", ":")).encode()
    return data, {"Content-Type": "application/json", "Content-Length": str(len(data))}


def _shown(sent: httpx.Request, body: object) -> httpx.Request:
    """``sent`` as errors may show it: ``body`` (its secret masked) as its content."""
    headers = [(k, v) for k, v in sent.headers.multi_items() if k.lower() != "content-length"]
    return httpx.Request(sent.method, sent.url, headers=headers, json=body)


def _shown_two_factor(sent: httpx.Request, nonce: str) -> httpx.Request:
    return _shown(sent, TwoFactorRequest(code="***", nonce=nonce).to_dict())


def _set_token(request: httpx.Request, token: str) -> None:
    if not isinstance(request.headers, _MaskedHeaders):
        request.headers = _MaskedHeaders(request.headers)
    request.headers["X-Auth-Token"] = token


class _LoginBody(httpx.AsyncByteStream):
    """A login request's JSON body (password or two-factor code), given to the transport
    once and then dropped.

    Built as a stream, not ``content=``, so the request never keeps it: its
    ``content`` raises ``httpx.RequestNotRead`` and, once sent, its stream is empty. An
    error that carries the login response carries ``_shown_login`` instead (below).
    """

    __slots__ = ("_body",)

    def __init__(self, body: bytes) -> None:
        self._body = body

    def __repr__(self) -> str:
        return "<login body, not shown>"

    async def __aiter__(self) -> AsyncIterator[bytes]:
        body, self._body = self._body, b""
        yield body


class _AsyncOnlyAuth(httpx.Auth):
    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Refuse: these flows serve ``httpx.AsyncClient`` only.

        Args:
            request: The request a synchronous ``httpx.Client`` would send.

        Returns:
            Nothing: it raises at once.

        Raises:
            RuntimeError: Always.
        """
        raise RuntimeError(f"{type(self).__name__} works with httpx.AsyncClient only")


class BasicAuth(_AsyncOnlyAuth):
    """HTTP Basic ``user_id:api_key`` (the v1.1 scheme; also accepted by v1.2).

    Args:
        user_id: The VoIPstudio user id.
        api_key: The user's API key (never shown in a repr or message).
    """

    __slots__ = ("_header", "user_id")

    def __init__(self, user_id: int, api_key: str) -> None:
        self.user_id = user_id
        raw = f"{user_id}:{api_key}".encode()
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")

    def __repr__(self) -> str:
        return f"BasicAuth(user_id={self.user_id}, api_key='***')"

    @property
    def header(self) -> tuple[str, str]:
        """The (name, value) this flow sets on every request."""
        return ("Authorization", self._header)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Set the ``Authorization`` header and send the request once.

        Args:
            request: The request to authenticate.

        Yields:
            The request, with its header set.
        """
        request.headers["Authorization"] = self._header
        yield request


class TokenAuth(_AsyncOnlyAuth):
    """``X-Auth-Token: <token>`` (a login token or an API token).

    Args:
        token: The token to send (never shown in a repr or message).
    """

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "TokenAuth(token='***')"

    @property
    def header(self) -> tuple[str, str]:
        """The (name, value) this flow sets on every request."""
        return ("X-Auth-Token", self._token)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Set the ``X-Auth-Token`` header and send the request once.

        Args:
            request: The request to authenticate.

        Yields:
            The request, with its header set.
        """
        _set_token(request, self._token)
        yield request


class LoginAuth(_AsyncOnlyAuth):
    """Email/password: POST /login on first use, token kept in memory only.

    On a 401 it logs in again once and replays the request once. Logins are
    single-flight: a token generation counter, read before sending and compared under
    the lock, tells a task whether someone else already replaced the token it used, so
    any number of concurrent 401s on one expired token cause exactly one login. A login
    that failed while a task waited for the lock is not repeated: the task raises the
    same error, so a wrong password or a two-factor challenge (which e-mails a code on
    every attempt) costs one attempt, not one per waiting request.

    Args:
        email: The account's e-mail address.
        password: Its password (kept in memory only, never shown).
        login_url: The URL of ``POST /login``.
    """

    __slots__ = (
        "_attempts",
        "_email",
        "_generation",
        "_last_error",
        "_lock",
        "_login_url",
        "_password",
        "_token",
    )

    def __init__(self, email: str, password: str, *, login_url: str) -> None:
        self._email = email
        self._password = password
        self._login_url = login_url
        self._token: str | None = None
        self._generation = 0
        self._attempts = 0
        self._last_error: VoipStudioError | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"LoginAuth(email={self._email!r}, password='***')"

    def set_token(self, token: str) -> None:
        """Adopt a session token (e.g. from the two-factor step).

        Args:
            token: The session token ``POST /login`` (or ``/login2fa``) returned.
        """
        self._token = token
        self._generation += 1
        self._last_error = None

    def _login_request(self, attempts_seen: int) -> httpx.Request:
        if self._attempts != attempts_seen and self._last_error is not None:
            raise self._last_error  # someone tried while we waited for the lock, and failed
        kwargs = login._get_kwargs(body=LoginRequest(email=self._email, password=self._password))
        body, body_headers = _json_body(kwargs["json"])
        url = httpx.URL(self._login_url)
        # httpx adds Host only to requests built by a client.
        headers = {**kwargs["headers"], "Host": url.netloc.decode("ascii"), **body_headers}
        return httpx.Request(
            kwargs["method"].upper(), url, headers=headers, stream=_LoginBody(body)
        )

    def _shown_login(self, sent: httpx.Request) -> httpx.Request:
        """The login request as errors may show it: the password masked."""
        body = login._get_kwargs(body=LoginRequest(email=self._email, password="***"))["json"]
        return _shown(sent, body)

    @staticmethod
    def two_factor_request(code: str, nonce: str) -> dict[str, Any]:
        """The ``POST /login2fa`` request's ``_get_kwargs()``, its body a one-shot stream.

        Args:
            code: The code e-mailed to the user.
            nonce: The nonce of the ``TwoFactorRequiredError``.

        Returns:
            Keyword arguments for ``Requester.send``; the request never keeps the code.
        """
        kwargs = _LOGIN_2FA.build(body=TwoFactorRequest(code=code, nonce=nonce))
        body, body_headers = _json_body(kwargs.pop("json"))
        headers = {**kwargs.get("headers", {}), **body_headers}
        return {**kwargs, "headers": headers, "content": _LoginBody(body)}

    @staticmethod
    def hide_two_factor_code(error: VoipStudioError, nonce: str) -> None:
        """Show the code masked in the request ``error``'s response carries.

        Args:
            error: An error raised while sending ``two_factor_request``.
            nonce: The nonce that request carried.
        """
        response = getattr(error, "response", None)
        if isinstance(response, httpx.Response):
            response.request = _shown_two_factor(response.request, nonce)

    def accept_two_factor(self, response: httpx.Response, nonce: str) -> None:
        """Keep the session token of a ``POST /login2fa`` answer.

        Args:
            response: The read answer (status < 400) to ``two_factor_request``.
            nonce: The nonce that request carried.

        Raises:
            APIResponseValidationError: The answer is not the session the spec gives (its
                body not shown: it may hold a session token).
        """
        response.request = _shown_two_factor(response.request, nonce)
        self._accept_session(response, _LOGIN_2FA_WHAT)

    async def _finish_login(self, response: httpx.Response) -> None:
        self._attempts += 1
        # Every error raised below may carry this response: never with the password.
        response.request = self._shown_login(response.request)
        try:
            await response.aread()
            self._accept_login(response)
        except VoipStudioError as exc:
            self._last_error = exc
            raise

    def _accept_login(self, response: httpx.Response) -> None:
        if response.status_code == 202:
            challenge = parse_model(response, TwoFactorChallenge.from_dict, what=_LOGIN_WHAT)
            raise TwoFactorRequiredError(challenge.nonce)
        if response.status_code >= 400:
            raise make_status_error(response, response.content, path_template=_LOGIN.path)
        self._accept_session(response, _LOGIN_WHAT)

    def _accept_session(self, response: httpx.Response, what: str) -> None:
        if response.status_code != 200:
            raise APIResponseValidationError(
                f"{what}: unexpected status {response.status_code}", response=response
            )
        try:
            session: LoginResponse | None = parse_model(
                response, LoginResponse.from_dict, what=what
            )
        except APIResponseValidationError:
            session = None
        if session is None:
            # Raised outside the handler, so the error that holds the body (which may hold a
            # session token) is not kept as this one's __context__ either.
            raise APIResponseValidationError(
                f"{what}: the answer does not match the spec (body not shown: it may "
                "hold a session token)",
                response=httpx.Response(response.status_code, request=response.request),
            )
        self.set_token(session.user_token)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Log in if no token is held, send the request, and on a 401 log in once more.

        Args:
            request: The request to authenticate.

        Yields:
            The login request when one is needed, then the request with its token.

        Raises:
            AuthenticationError: The login was refused.
            TwoFactorRequiredError: The account needs the two-factor step.
            APIResponseValidationError: The login answer did not match the spec.
        """
        if self._token is None:
            attempts = self._attempts
            async with self._lock:
                if self._token is None:
                    login_response = yield self._login_request(attempts)
                    await self._finish_login(login_response)
        seen = self._generation
        _set_token(request, self._current_token())
        response = yield request
        if response.status_code != 401:
            return
        attempts = self._attempts
        async with self._lock:
            if self._generation == seen:
                login_response = yield self._login_request(attempts)
                await self._finish_login(login_response)
        _set_token(request, self._current_token())
        yield request

    def _current_token(self) -> str:
        if self._token is None:  # _finish_login sets it or raises, so this is a bug
            raise AssertionError("login finished without a token")
        return self._token
