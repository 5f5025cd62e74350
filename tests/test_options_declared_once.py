"""Client options are declared once (``ClientOptions``): the public signature, ``from_env``
and the request core follow that declaration, and a test fails when one drifts."""

from __future__ import annotations

import contextlib
import inspect
import math
import re
import ssl
import typing
from collections.abc import AsyncIterator
from typing import Any

import attrs
import httpx
import pytest

from voipstudio_async import RateLimit, RetryBudget, VoipStudio
from voipstudio_async._options import ClientArgs, ClientOptions

OPTIONS = [field for field in attrs.fields(ClientOptions) if field.init]
NAMES = [field.name for field in OPTIONS]
ENV = {"VOIPSTUDIO_TOKEN": "t"}


def _fresh_samples() -> dict[str, Any]:
    """One valid value other than the default for every option (new objects per call)."""
    return {
        "timeout": httpx.Timeout(7.0, connect=2.0),
        "max_retries": 5,
        "max_retry_after": 3.5,
        "max_concurrency": 3,
        "http_client": httpx.AsyncClient(),
        "transport": httpx.MockTransport(lambda request: httpx.Response(200)),
        "http_backend": "aiohttp",
        "rate_limit": RateLimit(requests_per_second=5.0),
        "retry_budget": RetryBudget(ratio=0.5),
        "deadline": 12.0,
        "verify": ssl.create_default_context(),
        "proxy": "http://127.0.0.1:3128",
        "trust_env": False,
        "user_agent": "myapp/1.2",
    }


def _init_options() -> dict[str, inspect.Parameter]:
    params = inspect.signature(VoipStudio.__init__).parameters
    credentials = {"self", "user_id", "api_key", "token", "email", "password", "base_url"}
    return {name: param for name, param in params.items() if name not in credentials}


def test_every_option_has_a_sample_here() -> None:
    # A new option must be added to the reachability tests below.
    assert sorted(_fresh_samples()) == sorted(NAMES)


def test_the_signature_lists_exactly_the_declared_options() -> None:
    params = _init_options()
    assert list(params) == NAMES
    init_hints = typing.get_type_hints(VoipStudio.__init__)
    option_hints = typing.get_type_hints(ClientOptions)
    for field in OPTIONS:
        param = params[field.name]
        assert param.kind is inspect.Parameter.KEYWORD_ONLY, field.name
        assert param.default is field.default, field.name
        assert init_hints[field.name] == option_hints[field.name], field.name


def test_from_env_types_the_same_options() -> None:
    assert list(ClientArgs.__annotations__) == NAMES
    assert typing.get_type_hints(ClientArgs) == {
        name: hint for name, hint in typing.get_type_hints(ClientOptions).items() if name in NAMES
    }


def test_the_docstring_describes_every_option() -> None:
    # getdoc: Python 3.13 strips a docstring's indentation at compile time, 3.11 does not.
    documented = set(re.findall(r"^\s{4}(\w+):", inspect.getdoc(VoipStudio) or "", re.MULTILINE))
    assert set(NAMES) <= documented


@contextlib.asynccontextmanager
async def _built(name: str, value: Any, *, from_env: bool) -> AsyncIterator[VoipStudio]:
    options = {name: value}
    client = VoipStudio.from_env(ENV, **options) if from_env else VoipStudio(token="t", **options)
    try:
        yield client
    finally:
        await client.aclose()
        if isinstance(value, httpx.AsyncClient):
            await value.aclose()


@pytest.mark.parametrize("from_env", [False, True], ids=["VoipStudio", "from_env"])
@pytest.mark.parametrize("name", NAMES)
async def test_every_option_reaches_the_client(name: str, from_env: bool) -> None:
    value = _fresh_samples()[name]
    async with _built(name, value, from_env=from_env) as vs:
        assert getattr(vs._options, name) == value
        assert vs._requester.options is vs._options


async def test_the_request_core_runs_on_the_options() -> None:
    samples = _fresh_samples()
    keys = ("timeout", "max_retries", "max_retry_after", "max_concurrency", "deadline")
    async with VoipStudio(
        token="t", rate_limit=None, retry_budget=None, **{key: samples[key] for key in keys}
    ) as vs:
        requester = vs._requester
        assert requester.timeout == samples["timeout"]
        assert requester.retries.max_retries == 5
        assert requester.retries.max_retry_after == 3.5
        assert requester._gate._value == 3
        assert requester.default_deadline == 12.0
        assert requester.limiter is None and requester.budget is None


BAD_OPTIONS: dict[str, list[Any]] = {
    "timeout": ["5", math.inf, 0, -1, httpx.Timeout(None)],
    "max_retries": ["x", -1, True, 1.5],
    "max_retry_after": ["x", -1, math.nan, math.inf, None],
    "max_concurrency": [0, "3", False, 2.0],
    "http_client": ["client"],
    "transport": [],  # any object httpx can send through; tests pass stand-ins
    "http_backend": ["curl", None],
    "rate_limit": [20, "adaptive"],
    "retry_budget": [0.2],
    "deadline": ["x", 0, -1, math.inf],
    "verify": [False, "/nonexistent/ca.pem"],
    "proxy": [12],
    "trust_env": ["yes", 1],
    "user_agent": [12, "", "my\r\napp"],
}


def test_every_option_has_bad_samples_here() -> None:
    assert sorted(BAD_OPTIONS) == sorted(NAMES)


@pytest.mark.parametrize(
    ("name", "bad"),
    [(name, bad) for name, values in BAD_OPTIONS.items() for bad in values],
    ids=repr,
)
def test_a_bad_option_is_refused_naming_it(name: str, bad: Any) -> None:
    with pytest.raises((ValueError, TypeError)) as caught:
        VoipStudio(token="t", **{name: bad})
    assert re.match(rf"{name}\b", str(caught.value)), str(caught.value)
    with pytest.raises(type(caught.value), match=rf"^{name}\b"):
        VoipStudio.from_env(ENV, **{name: bad})


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: RateLimit(requests_per_second="x"), "requests_per_second"),
        (lambda: RateLimit(requests_per_second=math.nan), "requests_per_second"),
        (lambda: RateLimit(requests_per_second=5, burst="2"), "burst"),
        (lambda: RateLimit(requests_per_second=5, burst=0), "burst"),
        (lambda: RetryBudget(ratio="x"), "ratio"),
        (lambda: RetryBudget(ratio=-0.1), "ratio"),
        (lambda: RetryBudget(window=0), "window"),
        (lambda: RetryBudget(window=math.inf), "window"),
        (lambda: RetryBudget(floor=-1), "floor"),
        (lambda: RetryBudget(floor=1.5), "floor"),
    ],
)
def test_rate_limit_and_budget_arguments_read_the_same(make: Any, name: str) -> None:
    with pytest.raises(ValueError, match=rf"^{name} must be .*, got "):
        make()


@pytest.mark.parametrize(
    ("env_url", "given", "expected"),
    [
        (None, None, "https://l7api.com/v1.1/voipstudio/"),
        ("https://env.example/v1", None, "https://env.example/v1/"),
        (None, "https://kw.example/v2", "https://kw.example/v2/"),
        ("https://env.example/v1", "https://kw.example/v2", "https://kw.example/v2/"),
    ],
)
async def test_from_env_keywords_override_the_environment(
    env_url: str | None, given: str | None, expected: str
) -> None:
    env = {**ENV, **({"VOIPSTUDIO_BASE_URL": env_url} if env_url else {})}
    kwargs: dict[str, Any] = {} if given is None else {"base_url": given}
    async with VoipStudio.from_env(env, max_retries=4, **kwargs) as vs:
        assert vs.base_url == expected
        assert vs.max_retries == 4


@pytest.mark.parametrize(
    ("env", "kwargs", "auth"),
    [
        ({"VOIPSTUDIO_USER_ID": "7", "VOIPSTUDIO_API_KEY": "k"}, {"token": "t"}, "TokenAuth"),
        (ENV, {"email": "a@example.com", "password": "p"}, "LoginAuth"),
        ({}, {"user_id": 7, "api_key": "k"}, "BasicAuth"),
        ({"VOIPSTUDIO_EMAIL": "a@example.com", "VOIPSTUDIO_PASSWORD": "p"}, {}, "LoginAuth"),
    ],
)
async def test_from_env_credential_keywords_replace_the_variables(
    env: dict[str, str], kwargs: dict[str, Any], auth: str
) -> None:
    async with VoipStudio.from_env(env, **kwargs) as vs:
        assert type(vs._requester.auth).__name__ == auth
