"""Client options are declared once (``ClientOptions``): the public signature, ``from_env``
and the request core follow that declaration, and a test fails when one drifts."""

from __future__ import annotations

import ast
import contextlib
import inspect
import math
import re
import shutil
import ssl
import subprocess
import sys
import typing
from collections.abc import AsyncIterator
from pathlib import Path
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


# -- the parts written from the declaration (tools/derive_options.py, `make generate`) -----

ROOT = Path(__file__).resolve().parents[1]
DERIVE = [sys.executable, str(ROOT / "tools" / "derive_options.py")]
DOC = '    """What it does,\n    in one sentence."""\n'


def _derive(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DERIVE, *map(str, args)], capture_output=True, text=True, check=False)


def test_the_derived_parts_are_current() -> None:
    result = _derive("--check")
    assert result.returncode == 0, result.stderr


def _copies(tmp_path: Path) -> tuple[Path, Path]:
    package = tmp_path / "voipstudio_async"
    package.mkdir()
    for name in ("_options.py", "_client.py"):
        shutil.copy(ROOT / "voipstudio_async" / name, package / name)
    return package / "_options.py", package / "_client.py"


def _declare(options: Path, field: str, imports: tuple[str, str] | None = None) -> None:
    """Add ``field`` as the last option of the copy (and an import ``(after, line)``)."""
    text = options.read_text(encoding="utf-8")
    at = text.index("    default_timeout: httpx.Timeout = attrs.field(init=False")
    text = text[:at] + field + text[at:]
    if imports is not None:
        after, line = imports
        text = text.replace(after, after + line, 1)
    options.write_text(text, encoding="utf-8")


def _init_params(client_text: str) -> dict[str, tuple[str, str]]:
    """``VoipStudio.__init__``'s keyword-only parameters: annotation and default as written."""
    cls = next(
        node
        for node in ast.parse(client_text).body
        if isinstance(node, ast.ClassDef) and node.name == "VoipStudio"
    )
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    args = init.args
    return {
        a.arg: (ast.unparse(a.annotation) if a.annotation else "", ast.unparse(d) if d else "")
        for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    }


def _ruff_clean(*paths: Path) -> None:
    config = ["--config", str(ROOT / "pyproject.toml"), "--no-cache"]
    for command in (["check", *config], ["format", "--check", *config]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, *map(str, paths)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


# The shapes a new option's declaration takes: a default and a type the options already
# use, a plain default, a constant of _constants not used yet, a type from a module not
# imported yet, a Literal (quoted strings).
NEW_OPTIONS = {
    "known names": (
        "    pool_size: int = attrs.field(default=DEFAULT_MAX_CONCURRENCY, "
        "validator=_checked(check_int))\n" + DOC,
        None,
        ("int", "DEFAULT_MAX_CONCURRENCY"),
        [],
    ),
    "a plain default": ("    verbose: bool = False\n" + DOC, None, ("bool", "False"), []),
    "a new constant": (
        "    page_limit: int | None = attrs.field(default=DEFAULT_LIST_LIMIT)\n" + DOC,
        ("    DEFAULT_HTTP_BACKEND,\n", "    DEFAULT_LIST_LIMIT,\n"),
        ("int | None", "DEFAULT_LIST_LIMIT"),
        ["    DEFAULT_LIST_LIMIT,\n"],
    ),
    "a new module": (
        "    keepalive: timedelta | None = None\n" + DOC,
        ("from collections.abc import Callable\n", "from datetime import timedelta\n"),
        ("timedelta | None", "None"),
        ["import ssl\nfrom datetime import timedelta\n\nimport httpx\n"],
    ),
    "a literal type": (
        '    mode: Literal["fast", "safe"] = attrs.field(\n'
        '        default="safe",\n'
        '        validator=_checked(lambda v, n: check_choice(v, n, ("fast", "safe"))),\n'
        "    )\n" + DOC,
        None,
        ("Literal['fast', 'safe']", "'safe'"),
        ["from typing import Literal\n"],
    ),
}


@pytest.mark.parametrize("shape", list(NEW_OPTIONS))
def test_a_declared_option_is_stale_until_generated_then_everywhere(
    tmp_path: Path, shape: str
) -> None:
    field, imports, (annotation, default), client_imports = NEW_OPTIONS[shape]
    name = field.split(":")[0].strip()
    options, client = _copies(tmp_path)
    _declare(options, field, imports)
    stale = _derive("--check", "--options", options, "--client", client)
    assert stale.returncode == 1, stale.stderr
    assert "_options.py" in stale.stderr and "_client.py" in stale.stderr
    assert "run `make generate`" in stale.stderr
    assert _derive("--options", options, "--client", client).returncode == 0
    assert _derive("--check", "--options", options, "--client", client).returncode == 0
    client_text, options_text = client.read_text(), options.read_text()
    params = _init_params(client_text)
    assert list(params)[-1] == name and params[name] == (annotation, default)
    assert f"        {name}: What it does, in one sentence.\n" in client_text
    args = options_text[options_text.index("class ClientArgs") :]
    assert re.search(rf"^    {name}: ", args, re.M)
    assert [line for line in client_imports if line not in client_text] == []
    _ruff_clean(options, client)


def test_a_removed_option_leaves_no_trace(tmp_path: Path) -> None:
    options, client = _copies(tmp_path)
    text = options.read_text()
    start = text.index("    retry_budget: RetryBudget | None = attrs.field(")
    end = text.index("    deadline: float | None = attrs.field(")
    options.write_text(text[:start] + text[end:])
    assert _derive("--options", options, "--client", client).returncode == 0
    client_text = client.read_text()
    assert "retry_budget" not in _init_params(client_text)
    assert "        retry_budget:" not in client_text  # neither a parameter nor a doc entry
    assert "RetryBudget" not in client_text  # nor its now unused import
    assert "    retry_budget: RetryBudget | None\n" not in options.read_text()
    _ruff_clean(client)


@pytest.mark.parametrize(
    ("field", "error"),
    [
        ("    extra: int = attrs.field(default=3)\n", "describe it in a docstring below it"),
        ('    extra: int = 3\n    """ """\n', "describe it in a docstring below it"),
        ("    extra: int = attrs.field(validator=_checked(check_int))\n" + DOC, "needs a default"),
        ("    extra: Decimal | None = None\n" + DOC, "uses Decimal, which _options.py does not"),
        ('    extra: int = 3\n    """a \\\\d"""\n', "no backslash"),
    ],
    ids=["no doc", "blank doc", "no default", "unknown name", "backslash"],
)
def test_a_declaration_that_cannot_be_derived_says_what_to_change(
    tmp_path: Path, field: str, error: str
) -> None:
    options, client = _copies(tmp_path)
    before = client.read_text()
    _declare(options, field)
    result = _derive("--options", options, "--client", client)
    assert result.returncode == 2 and error in result.stderr, result.stderr
    assert client.read_text() == before  # nothing half-written
