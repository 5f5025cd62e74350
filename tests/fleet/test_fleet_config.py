"""The accounts file, the plan's refusals and the fake's many accounts (no cluster)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx
import pytest

from voipstudio_async import AuthenticationError, VoipStudio
from voipstudio_async.fleet import (
    Account,
    AccountsFileError,
    FleetPlanError,
    SecretUnavailableError,
    SyncJob,
    load_accounts,
    plan,
)
from voipstudio_async.testing import FakeAccounts

SECRET = "sentinel-secret-value-0123456789"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accounts.toml"
    path.write_text(text)
    return path


def test_accounts_file_every_kind_of_credentials(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "globex").write_text(SECRET + "\n")
    path = _write(
        tmp_path,
        'base_url = "http://127.0.0.1:9/v1.1/voipstudio"\n'
        '[[accounts]]\nname = "acme"\nuser_id = 12\nsecret_env = "ACME_KEY"\n'
        '[[accounts]]\nname = "globex"\nemail = "ops@globex.example"\nsecret_file = "s/globex"\n'
        '[[accounts]]\nname = "initech"\nsecret_env = "INITECH_TOKEN"\n'
        'base_url = "https://other.example/v1.1/voipstudio"\n',
    )
    acme, globex, initech = load_accounts(path)
    assert (acme.user_id, acme.secret_env, acme.base_url) == (
        12,
        "ACME_KEY",
        "http://127.0.0.1:9/v1.1/voipstudio",
    )
    assert globex.secret_file == str(tmp_path / "s" / "globex")
    assert globex.read_secret() == SECRET  # the trailing newline dropped
    assert initech.base_url == "https://other.example/v1.1/voipstudio"
    assert initech.read_secret({"INITECH_TOKEN": SECRET}) == SECRET
    assert SECRET not in repr([acme, globex, initech])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no \\[\\[accounts\\]\\]"),
        ("accounts = 3\n", "no \\[\\[accounts\\]\\]"),
        ("[[accounts]]\nname = 'a'\n", "exactly one of secret_env"),
        ("[[accounts]]\nname = 'a'\nsecret_env = 'A'\nsecret_file = '/x'\n", "exactly one"),
        ("[[accounts]]\nsecret_env = 'A'\n", "has no name"),
        ("[[accounts]]\nname = 'Acme Corp'\nsecret_env = 'A'\n", "lowercase letters"),
        ("[[accounts]]\nname = 'a'\nsecret_env = 'A'\nsecret = 'x'\n", "unknown key 'secret'"),
        ("[[accounts]]\nname = 'a'\nuser_id = 0\nsecret_env = 'A'\n", "positive integer"),
        ("[[accounts]]\nname = 'a'\nuser_id = 'x'\nsecret_env = 'A'\n", "positive integer"),
        ("[[accounts]]\nname = 'a'\nuser_id = 1\nemail = 'a@b'\nsecret_env = 'A'\n", "not both"),
        ("[[accounts]]\nname = 'a'\nsecret_env = 'A'\nbase_url = 'ftp://x'\n", "http\\(s\\)"),
        (
            "[[accounts]]\nname = 'a'\nsecret_env = 'A'\n[[accounts]]\nname = 'a'\n"
            "secret_env = 'B'\n",
            "two accounts are named 'a'",
        ),
        ("colour = 'blue'\n", "unknown key 'colour'"),
        ("[[accounts]\n", "not a TOML file"),
    ],
)
def test_accounts_file_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(AccountsFileError, match=message):
        load_accounts(_write(tmp_path, text))


def test_missing_accounts_file(tmp_path: Path) -> None:
    with pytest.raises(AccountsFileError, match="No such file"):
        load_accounts(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("account", "message"),
    [
        (Account("a", 1, secret_env="FLEET_TEST_UNSET"), "FLEET_TEST_UNSET is not set"),
        (Account("a", 1, secret_file="/nonexistent/secret"), "cannot read /nonexistent/secret"),
    ],
)
def test_an_unavailable_secret_is_named_not_shown(account: Account, message: str) -> None:
    with pytest.raises(SecretUnavailableError, match=message):
        account.client({"OTHER": SECRET})


def test_an_empty_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "k").write_text("\n")
    with pytest.raises(SecretUnavailableError, match="is empty"):
        Account("a", 1, secret_file=str(tmp_path / "k")).read_secret()


_TWO = [Account("acme", 1, secret_env="A"), Account("globex", 2, secret_env="B")]


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (SyncJob("duckdb:///lake/all.duckdb"), "one writing process per file"),
        (SyncJob("duckdb:///lake/all.duckdb", dataset="{account}"), "one writing process"),
        (SyncJob("postgresql://u@127.0.0.1/db", dataset="shared"), "dataset shared"),
        (SyncJob("s3://bucket/lake", dataset="d"), "put \\{account\\} in the URL"),
        (SyncJob("mysql://x/{account}"), "unsupported destination"),
        (SyncJob("duckdb:///lake/{account}.duckdb", dataset="{account}"), "catalog"),
    ],
)
def test_plan_refuses_shared_or_bad_destinations(job: SyncJob, message: str) -> None:
    with pytest.raises(FleetPlanError, match=message):
        plan(job, _TWO)


@pytest.mark.parametrize(
    ("url", "dataset", "expected"),
    [
        ("duckdb:///lake/{account}.duckdb", None, ["voipstudio", "voipstudio"]),
        ("postgresql://u@127.0.0.1/db", None, ["voipstudio_acme", "voipstudio_globex"]),
        ("postgresql://u@127.0.0.1/db", "raw_{account}", ["raw_acme", "raw_globex"]),
        ("s3://bucket/{account}", None, ["voipstudio", "voipstudio"]),
    ],
)
def test_plan_gives_each_account_its_own_place(
    url: str, dataset: str | None, expected: list[str]
) -> None:
    job = SyncJob(url, dataset=dataset)
    plan(job, _TWO)
    assert [job.dataset_for(a.name) for a in _TWO] == expected


def test_plan_refuses_no_accounts() -> None:
    with pytest.raises(AccountsFileError, match="no accounts"):
        plan(SyncJob("duckdb:///lake/{account}.duckdb"), [])


# -- the fake's many accounts ----------------------------------------------------------------


def _client(fleet: FakeAccounts, **credentials: object) -> VoipStudio:
    return VoipStudio(
        base_url=fleet.base_url,
        transport=httpx.ASGITransport(app=fleet.app),
        max_retries=0,
        **credentials,  # type: ignore[arg-type]
    )


async def test_fake_accounts_answer_with_their_own_data_by_every_sign_in() -> None:
    fleet = FakeAccounts(3, seed=2)
    counts = set()
    for name in fleet:
        fake = fleet[name]
        creds = fake.credentials
        for way in (
            {"user_id": creds.user_id, "api_key": creds.api_key},
            {"email": creds.email, "password": creds.password},
        ):
            async with _client(fleet, **way) as vs:
                ids = [cdr.id async for cdr in vs.cdrs.iterate()]
            assert ids == fake.ids("cdrs"), (name, sorted(way))
        counts.add(fake.count("cdrs"))
    assert len(counts) == 3  # each account its own history
    first, second = (fleet[n] for n in list(fleet)[:2])
    wrong = {"user_id": first.credentials.user_id, "api_key": second.credentials.api_key}
    async with _client(fleet, **wrong) as vs:
        with pytest.raises(AuthenticationError):
            await vs.cdrs.list(limit=1)


def test_fake_accounts_are_stable_and_do_not_depend_on_n() -> None:
    small, large = FakeAccounts(2, seed=4), FakeAccounts(5, seed=4)
    for name in small:
        assert small[name].credentials == large[name].credentials
        assert small[name].records("cdrs")[:3] == large[name].records("cdrs")[:3]
    users = [uid for name in large for uid in large[name].user_ids]
    assert len(users) == len(set(users))


def test_fake_accounts_file_holds_no_secret(tmp_path: Path) -> None:
    fleet = FakeAccounts(3)
    path = fleet.write_accounts_file(tmp_path / "fleet.toml", "http://127.0.0.1:1/v1.1/voipstudio")
    text = path.read_text()
    accounts = load_accounts(path)
    assert [a.name for a in accounts] == list(fleet)
    for account in accounts:
        key = fleet[account.name].credentials.api_key
        assert key not in text
        assert account.read_secret() == key
        assert (Path(account.secret_file or "").stat().st_mode & 0o777) == 0o600


def test_redis_url_shares_each_accounts_limit_under_its_user_id(tmp_path: Path) -> None:
    """``--redis-url``: each account's client keeps its limit in Redis under the account's
    own key (its user id), the key every other user of that account shares."""
    import redis
    from _redis import RedisServer

    from voipstudio_async.fleet import ArchiveJob, RunSettings, run_account
    from voipstudio_async.testing import LoopbackServer

    server = RedisServer(tmp_path)  # started
    fleet = FakeAccounts(2, seed=8)
    try:
        with LoopbackServer(fleet) as base_url:
            accounts = load_accounts(fleet.write_accounts_file(tmp_path / "a.toml", base_url))
            job = ArchiveJob(
                str(tmp_path / "out" / "{account}"), datetime(2026, 1, 1), datetime(2027, 1, 1)
            )
            settings = RunSettings("redis", redis_url=server.url)
            results = [run_account(account, job, settings) for account in accounts]
        assert [r.status for r in results] == ["ok", "ok"], [r.error for r in results]
        keys = {key.decode() for key in redis.Redis.from_url(server.url).keys("*")}
        for account in accounts:
            assert any(str(account.user_id) in key for key in keys), keys
    finally:
        server.stop()
