"""Nothing reachable from an SDK exception shows a credential, on either backend.

A loopback server (127.0.0.1, started per test) logs in, answers 404, drops the
connection or sends garbage. For every credential kind the exception chain and what it
carries (``response``, ``request``, their headers, aiohttp's ``request_info``) and every
log record at DEBUG must be free of the sentinel secrets.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _support import LoopbackServer

from voipstudio_async import (
    AuthenticationError,
    TwoFactorRequiredError,
    VoipStudio,
    VoipStudioError,
)
from voipstudio_async.cli import run
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

API_KEY = "S3NT1NEL-api-key"
TOKEN = "S3NT1NEL-token"
PASSWORD = "S3NT1NEL-password"
SESSION = "S3NT1NEL-session"  # what the login returns: a secret too
CODE = "S3NT1NEL-2fa-code"  # the two-factor code e-mailed to the user
FORMS = (
    API_KEY,
    TOKEN,
    PASSWORD,
    SESSION,
    CODE,
    base64.b64encode(f"7:{API_KEY}".encode()).decode(),
)

CREDENTIALS: dict[str, dict[str, Any]] = {
    "basic": {"user_id": 7, "api_key": API_KEY},
    "token": {"token": TOKEN},
    "login": {"email": "a@example.com", "password": PASSWORD},
}


class ScriptedServer(LoopbackServer):
    """``POST /login`` succeeds; every other request gets ``scenario``."""

    def __init__(self, scenario: str) -> None:
        super().__init__()
        self.scenario = scenario

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        length = next(
            (
                int(line.split(":", 1)[1])
                for line in head.split("\r\n")
                if line.lower().startswith("content-length:")
            ),
            0,
        )
        await reader.readexactly(length)
        writer.write(self._answer(head.split(" ")[1]))
        await writer.drain()

    def _answer(self, target: str) -> bytes:
        if target.endswith("/login"):
            return self._login_answer()
        if target.endswith("/login2fa"):
            return self._two_factor_answer()
        if self.scenario == "404":
            return _json(404, {"message": "not found"})
        if self.scenario == "garbage":
            return b"NOT HTTP AT ALL\r\n\r\n"
        return b""  # "drop": close without answering

    def _login_answer(self) -> bytes:
        if self.scenario == "login-401":
            return _json(401, {"message": "Invalid credentials"})
        if self.scenario == "login-500":
            return _json(500, {"message": "oops"})
        if self.scenario == "login-not-json":
            return _json(200, "not a session")
        if self.scenario == "login-partial":  # a token, but not the answer the spec gives
            return _json(200, {"user_token": SESSION})
        if self.scenario == "login-drop":
            return b""
        if self.scenario.startswith("2fa-"):
            return _json(202, {"nonce": "n0nce"})
        return _json(200, {"user_token": SESSION, "user_id": 7})

    def _two_factor_answer(self) -> bytes:
        answers = {
            "2fa-401": _json(401, {"message": "Invalid code"}),
            "2fa-400": _json(400, {"message": "Validation error"}),
            "2fa-500": _json(500, {"message": "oops"}),
            "2fa-not-json": _json(200, "not a session"),
            "2fa-partial": _json(200, {"user_token": SESSION}),  # not the answer the spec gives
            "2fa-garbage": b"NOT HTTP AT ALL\r\n\r\n",
        }
        return answers.get(self.scenario, b"")  # "2fa-drop": close without answering


def _json(status: int, body: object) -> bytes:
    data = json.dumps(body).encode()
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    ).encode() + data


def _exceptions(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__]


def _reachable_texts(exc: BaseException) -> Iterator[str]:
    """str/repr of the exceptions in the chain and of what they carry."""
    for error in _exceptions(exc):
        yield from (str(error), repr(error), repr(error.args))
        for name in ("response", "request", "request_info"):
            with contextlib.suppress(RuntimeError):  # httpx: "request not set"
                value = getattr(error, name, None)
                if value is None:
                    continue
                yield from (str(value), repr(value), *_bodies(value))
                for inner in ("headers", "request"):
                    with contextlib.suppress(RuntimeError):
                        part = getattr(value, inner, None)
                        if part is not None:
                            yield from (str(part), repr(part), repr(getattr(part, "headers", "")))
                            yield from _bodies(part)


def _bodies(message: object) -> Iterator[str]:
    """The body (``content``) of a request or response, when it was read."""
    with contextlib.suppress(httpx.RequestNotRead, httpx.ResponseNotRead, AttributeError):
        yield bytes(getattr(message, "content", b"")).decode("latin-1")


def _leaks(text: str) -> list[str]:
    return [form for form in FORMS if form in text]


def _assert_nothing_leaks(
    error: BaseException, caplog: pytest.LogCaptureFixture, *, reached: str
) -> None:
    """No text reachable from ``error`` nor any log record holds a secret, and the request
    (``reached`` names it) is among what is reachable, so the walk saw it."""
    texts = list(_reachable_texts(error))
    assert any(reached in text for text in texts)
    for text in texts:
        assert not _leaks(text), text
    for record in caplog.records:
        assert not _leaks(record.getMessage()), record.getMessage()
        assert not _leaks(repr(record.__dict__))


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
@pytest.mark.parametrize("scenario", ["404", "drop", "garbage"])
@pytest.mark.parametrize("credential", list(CREDENTIALS))
async def test_nothing_reachable_from_an_error_shows_a_secret(
    caplog: pytest.LogCaptureFixture, credential: str, scenario: str, backend: str
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore, aiohttp
    async with (
        ScriptedServer(scenario) as server,
        VoipStudio(
            **CREDENTIALS[credential],
            base_url=server.base_url,
            max_retries=0,
            http_backend=backend,
        ) as vs,
    ):
        with pytest.raises(VoipStudioError) as caught:
            await vs.cdrs.get(1)

    _assert_nothing_leaks(caught.value, caplog, reached="GET")  # the request was shown


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
@pytest.mark.parametrize(
    "scenario",
    ["login-401", "login-500", "login-not-json", "login-partial", "login-drop"],
)
async def test_a_failed_login_keeps_no_password(
    caplog: pytest.LogCaptureFixture, scenario: str, backend: str
) -> None:
    caplog.set_level(logging.DEBUG)
    async with (
        ScriptedServer(scenario) as server,
        VoipStudio(
            **CREDENTIALS["login"], base_url=server.base_url, max_retries=0, http_backend=backend
        ) as vs,
    ):
        with pytest.raises(VoipStudioError) as caught:
            await vs.cdrs.get(1)

    _assert_nothing_leaks(caught.value, caplog, reached="/login")
    response = getattr(caught.value, "response", None)
    if response is not None:  # what was sent is shown, the password masked
        assert json.loads(response.request.content) == {
            "email": "a@example.com",
            "password": "***",
        }


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
@pytest.mark.parametrize(
    "scenario",
    ["2fa-401", "2fa-400", "2fa-500", "2fa-not-json", "2fa-partial", "2fa-garbage", "2fa-drop"],
)
async def test_a_failed_two_factor_step_keeps_no_code(
    caplog: pytest.LogCaptureFixture, scenario: str, backend: str
) -> None:
    caplog.set_level(logging.DEBUG)
    async with (
        ScriptedServer(scenario) as server,
        VoipStudio(
            **CREDENTIALS["login"], base_url=server.base_url, max_retries=0, http_backend=backend
        ) as vs,
    ):
        with pytest.raises(TwoFactorRequiredError) as challenge:
            await vs.cdrs.get(1)
        with pytest.raises(VoipStudioError) as caught:
            await vs.complete_two_factor(CODE, challenge.value.nonce)

    _assert_nothing_leaks(caught.value, caplog, reached="/login2fa")
    response = getattr(caught.value, "response", None)
    if response is not None:  # what was sent is shown, the code masked
        assert json.loads(response.request.content) == {"code": "***", "nonce": "n0nce"}


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
async def test_the_two_factor_body_still_reaches_the_server(backend: str) -> None:
    fake = FakeVoipStudio(two_factor_code="123456")
    with serve_in_thread(fake) as url:
        creds = fake.credentials
        options: dict[str, Any] = {"base_url": url, "http_backend": backend, "max_retries": 0}
        async with VoipStudio(email=creds.email, password=creds.password, **options) as vs:
            with pytest.raises(TwoFactorRequiredError) as challenge:
                await vs.cdrs.list()
            with pytest.raises(AuthenticationError):
                await vs.complete_two_factor("654321", challenge.value.nonce)
            with pytest.raises(TwoFactorRequiredError) as challenge:
                await vs.cdrs.list()
            await vs.complete_two_factor("123456", challenge.value.nonce)
            assert (await vs.cdrs.list()).total == fake.count("cdrs")
    assert fake.login2fa_count == 2


@pytest.mark.parametrize("backend", ["httpx", "aiohttp"])
async def test_the_login_body_still_reaches_the_server(backend: str) -> None:
    fake = FakeVoipStudio(seed=1, cdrs=3)
    creds = fake.credentials
    with serve_in_thread(fake) as url:
        options: dict[str, Any] = {"base_url": url, "http_backend": backend, "max_retries": 0}
        async with VoipStudio(email=creds.email, password=creds.password, **options) as vs:
            assert [cdr.id async for cdr in vs.cdrs.iterate()]
        async with VoipStudio(email=creds.email, password=PASSWORD, **options) as vs:
            with pytest.raises(AuthenticationError) as caught:
                await vs.cdrs.list()
    for text in _reachable_texts(caught.value):
        assert not _leaks(text), text
    assert fake.login_count == 2


@pytest.mark.parametrize("value", [API_KEY, TOKEN, f"  {PASSWORD} ", 3.5, -7, True])
def test_a_bad_user_id_is_described_not_echoed(value: object) -> None:
    with pytest.raises(ValueError, match="user_id must be a positive int") as caught:
        VoipStudio(user_id=value, api_key="k")  # type: ignore[arg-type]
    assert str(value).strip() not in str(caught.value)


async def test_the_cli_with_swapped_variables_does_not_echo_the_key() -> None:
    err = io.StringIO()
    environ = {"VOIPSTUDIO_USER_ID": API_KEY, "VOIPSTUDIO_API_KEY": "12345"}
    code = await run(["cdrs", "list"], stdout=io.StringIO(), stderr=err, environ=environ)
    assert code != 0
    assert "user_id" in err.getvalue()
    assert not _leaks(err.getvalue())
