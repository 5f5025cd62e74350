"""Credentials: Basic, X-Auth-Token, email/password login (re-login once, single-flight, 2FA)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from voipstudio_async import (
    AuthenticationError,
    TwoFactorRequiredError,
    VoipStudio,
)

BASE = "https://l7api.com/v1.1/voipstudio"


async def test_basic_auth_header(vs: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": []})
    await vs.cdrs.list()
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"123456:k3y").decode()
    assert "X-Auth-Token" not in request.headers


async def test_token_auth_header(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": []})
    async with VoipStudio(token="t0k") as vs:
        await vs.cdrs.list()
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["X-Auth-Token"] == "t0k"
    assert "Authorization" not in request.headers


class FakeLoginServer:
    """Answers /login with a fresh token (revoking the old one) and checks X-Auth-Token."""

    def __init__(self) -> None:
        self.logins = 0
        self.valid: set[str] = set()
        self.login_bodies: list[Any] = []
        self.tokens_seen: list[str | None] = []
        self.login_status = 200

    def expire(self) -> None:
        self.valid.clear()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/login"):
            self.login_bodies.append(json.loads(request.content))
            await asyncio.sleep(0)  # let other tasks run while the login is in flight
            if self.login_status == 202:
                return httpx.Response(202, json={"nonce": "n-1"})
            if self.login_status != 200:
                return httpx.Response(
                    self.login_status, json={"errors": [{"message": "Invalid credentials"}]}
                )
            self.logins += 1
            token = f"session-{self.logins}"
            self.valid = {token}
            return httpx.Response(
                200, json={"message": "Login success", "user_token": token, "user_id": 7}
            )
        await asyncio.sleep(0)
        self.tokens_seen.append(request.headers.get("X-Auth-Token"))
        if request.headers.get("X-Auth-Token") in self.valid:
            return httpx.Response(200, json={"data": {"id": 1}})
        return httpx.Response(401, json={"message": "Unauthorized"})


@pytest.fixture
def server(httpx_mock: HTTPXMock) -> FakeLoginServer:
    fake = FakeLoginServer()
    httpx_mock.add_callback(fake, is_reusable=True)
    return fake


@pytest.fixture
async def login_vs() -> AsyncIterator[VoipStudio]:
    async with VoipStudio(email="a@example.com", password="pw", max_concurrency=100) as client:
        yield client


async def test_login_on_first_use_then_token_reused(
    login_vs: VoipStudio, server: FakeLoginServer, httpx_mock: HTTPXMock
) -> None:
    await login_vs.cdrs.get(1)
    await login_vs.cdrs.get(1)

    requests = httpx_mock.get_requests()
    assert [(r.method, r.url.path) for r in requests] == [
        ("POST", "/v1.1/voipstudio/login"),
        ("GET", "/v1.1/voipstudio/cdrs/1"),
        ("GET", "/v1.1/voipstudio/cdrs/1"),
    ]
    assert server.login_bodies == [{"email": "a@example.com", "password": "pw"}]
    assert requests[0].headers["Content-Type"] == "application/json"
    assert "X-Auth-Token" not in requests[0].headers
    assert requests[1].headers["X-Auth-Token"] == "session-1"


async def test_relogin_once_on_401_and_replay(
    login_vs: VoipStudio, server: FakeLoginServer, httpx_mock: HTTPXMock
) -> None:
    await login_vs.cdrs.get(1)
    server.expire()

    assert (await login_vs.cdrs.get(1)).id == 1

    assert server.logins == 2
    assert server.tokens_seen == ["session-1", "session-1", "session-2"]
    assert [r.url.path.rsplit("/", 1)[-1] for r in httpx_mock.get_requests()] == [
        "login",
        "1",
        "1",
        "login",
        "1",
    ]


async def test_second_401_after_relogin_is_raised_not_looped(
    login_vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    logins = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal logins
        if request.url.path.endswith("/login"):
            logins += 1
            return httpx.Response(200, json={"user_token": f"t{logins}", "user_id": 1})
        return httpx.Response(401, json={"message": "Unauthorized"})

    httpx_mock.add_callback(handler, is_reusable=True)

    with pytest.raises(AuthenticationError, match="Unauthorized"):
        await login_vs.cdrs.get(1)

    assert logins == 2  # first use + one re-login
    assert len(httpx_mock.get_requests()) == 4


async def test_wrong_password_raises_authentication_error(
    login_vs: VoipStudio, server: FakeLoginServer, httpx_mock: HTTPXMock
) -> None:
    server.login_status = 401

    with pytest.raises(AuthenticationError, match="Invalid credentials") as info:
        await login_vs.cdrs.get(1)

    assert info.value.path_template == "/login"
    assert [r.url.path for r in httpx_mock.get_requests()] == ["/v1.1/voipstudio/login"]


async def test_100_concurrent_requests_on_an_expired_token_cause_one_login(
    login_vs: VoipStudio, server: FakeLoginServer
) -> None:
    await login_vs.cdrs.get(1)
    server.expire()

    results = await asyncio.gather(*(login_vs.cdrs.get(1) for _ in range(100)))

    assert len(results) == 100
    assert server.logins == 2


async def test_100_concurrent_first_requests_cause_one_login(
    login_vs: VoipStudio, server: FakeLoginServer
) -> None:
    await asyncio.gather(*(login_vs.cdrs.get(1) for _ in range(100)))
    assert server.logins == 1


async def test_two_factor_challenge_and_completion(
    login_vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        method="POST", url=f"{BASE}/login", status_code=202, json={"nonce": "n-1"}
    )
    httpx_mock.add_response(
        method="POST", url=f"{BASE}/login2fa", json={"user_token": "tfa-token", "user_id": 7}
    )
    httpx_mock.add_response(method="GET", url=f"{BASE}/cdrs/1", json={"data": {"id": 1}})

    with pytest.raises(TwoFactorRequiredError) as info:
        await login_vs.cdrs.get(1)
    assert info.value.nonce == "n-1"
    assert "complete_two_factor" in str(info.value)

    await login_vs.complete_two_factor("123456", info.value.nonce)
    assert (await login_vs.cdrs.get(1)).id == 1

    login, second_factor, get = httpx_mock.get_requests()
    assert login.url.path.endswith("/login")
    assert json.loads(second_factor.content) == {"code": "123456", "nonce": "n-1"}
    assert "X-Auth-Token" not in second_factor.headers
    assert "Authorization" not in second_factor.headers
    assert get.headers["X-Auth-Token"] == "tfa-token"


async def test_complete_two_factor_needs_login_credentials(vs: VoipStudio) -> None:
    with pytest.raises(TypeError, match="email= and password="):
        await vs.complete_two_factor("123456", "nonce")


ENV_CASES: list[tuple[dict[str, str], str, str]] = [
    (
        {"VOIPSTUDIO_USER_ID": "123456", "VOIPSTUDIO_API_KEY": "key"},
        "Authorization",
        "Basic " + base64.b64encode(b"123456:key").decode(),
    ),
    ({"VOIPSTUDIO_TOKEN": "tok"}, "X-Auth-Token", "tok"),
    (
        {"VOIPSTUDIO_TOKEN": "tok", "VOIPSTUDIO_USER_ID": "", "VOIPSTUDIO_API_KEY": ""},
        "X-Auth-Token",
        "tok",
    ),
]


@pytest.mark.parametrize(("env", "header", "value"), ENV_CASES)
async def test_from_env(
    httpx_mock: HTTPXMock, env: dict[str, str], header: str, value: str
) -> None:
    httpx_mock.add_response(json={"data": []})
    async with VoipStudio.from_env(
        {**env, "VOIPSTUDIO_BASE_URL": "https://l7api.com/v1.2/voipstudio/"}
    ) as vs:
        await vs.cdrs.list()
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers[header] == value
    assert str(request.url).startswith("https://l7api.com/v1.2/voipstudio/cdrs?")


async def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("USER_ID", "API_KEY", "TOKEN", "BASE_URL"):
        monkeypatch.delenv(f"VOIPSTUDIO_{name}", raising=False)
    monkeypatch.setenv("VOIPSTUDIO_EMAIL", "a@example.com")
    monkeypatch.setenv("VOIPSTUDIO_PASSWORD", "pw")
    async with VoipStudio.from_env() as vs:
        assert "LoginAuth(email='a@example.com'" in repr(vs)
        assert vs.base_url == "https://l7api.com/v1.1/voipstudio/"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "no credentials"),
        ({"user_id": 1, "api_key": "k", "token": "t"}, "contradictory"),
        ({"token": "t", "email": "a@b", "password": "p"}, "contradictory"),
        ({"user_id": 1}, "go together"),
        ({"api_key": "k"}, "go together"),
        ({"email": "a@b"}, "go together"),
        ({"password": "p"}, "go together"),
        ({"user_id": "abc", "api_key": "k"}, "user_id"),
        ({"user_id": 0, "api_key": "k"}, "user_id"),
        ({"user_id": True, "api_key": "k"}, "user_id"),
        ({"user_id": 1, "api_key": ""}, "api_key"),
        ({"token": "  "}, "token"),
        ({"token": "t", "max_retries": -1}, "max_retries"),
        ({"token": "t", "max_concurrency": 0}, "max_concurrency"),
        ({"token": "t", "base_url": "l7api.com"}, "base_url"),
        ({"token": "t", "timeout": httpx.Timeout(None)}, "finite"),
        ({"token": "t", "timeout": httpx.Timeout(5, read=None)}, "finite"),
    ],
)
def test_bad_construction_fails_early(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        VoipStudio(**kwargs)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"VOIPSTUDIO_USER_ID": "1"},
        {"VOIPSTUDIO_TOKEN": "t", "VOIPSTUDIO_EMAIL": "a@b", "VOIPSTUDIO_PASSWORD": "p"},
    ],
)
def test_from_env_missing_or_contradictory(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="VOIPSTUDIO_"):
        VoipStudio.from_env(env)


async def test_concurrent_two_factor_challenge_logs_in_once(
    login_vs: VoipStudio, server: FakeLoginServer, httpx_mock: HTTPXMock
) -> None:
    # Every login attempt e-mails a new code: 50 waiting requests must not cause 50.
    server.login_status = 202

    results = await asyncio.gather(
        *(login_vs.cdrs.get(1) for _ in range(50)), return_exceptions=True
    )

    assert all(isinstance(r, TwoFactorRequiredError) and r.nonce == "n-1" for r in results)
    assert len(httpx_mock.get_requests()) == 1


async def test_concurrent_wrong_password_logs_in_once(
    login_vs: VoipStudio, server: FakeLoginServer, httpx_mock: HTTPXMock
) -> None:
    server.login_status = 401

    results = await asyncio.gather(
        *(login_vs.cdrs.get(1) for _ in range(20)), return_exceptions=True
    )

    assert all(isinstance(r, AuthenticationError) for r in results)
    assert len(httpx_mock.get_requests()) == 1


async def test_a_later_call_logs_in_again_after_a_failure(
    login_vs: VoipStudio, server: FakeLoginServer
) -> None:
    server.login_status = 401
    with pytest.raises(AuthenticationError):
        await login_vs.cdrs.get(1)
    server.login_status = 200
    assert (await login_vs.cdrs.get(1)).id == 1
    assert server.logins == 1
