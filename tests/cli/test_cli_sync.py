"""``voipstudio sync``: loads incrementally, reports per table, fails in one line (exit 2)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from cli_helpers import without_progress

from voipstudio_async.cli import EXIT_OK, EXIT_USAGE, run
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread


@pytest.fixture(autouse=True)
def _dlt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dlt's working state in the test's directory; no usage reporting."""
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def account() -> FakeVoipStudio:
    return FakeVoipStudio(seed=5, cdrs=1500, monitors=20, voicemessages=10, chats=4, msdrs=6)


@pytest.fixture
def environ(account: FakeVoipStudio) -> Iterator[dict[str, str]]:
    """Credentials for the fake served on loopback (the sync builds its own clients)."""
    creds = account.credentials
    with serve_in_thread(account) as base_url:
        yield {
            "VOIPSTUDIO_BASE_URL": base_url,
            "VOIPSTUDIO_USER_ID": str(creds.user_id),
            "VOIPSTUDIO_API_KEY": creds.api_key,
        }


async def voipstudio(*argv: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run(list(argv), stdout=out, stderr=err, environ=environ or {})
    return code, out.getvalue(), err.getvalue()


async def test_sync_then_incremental_rerun(
    tmp_path: Path, account: FakeVoipStudio, environ: dict[str, str]
) -> None:
    code, out, err = await voipstudio("sync", "--to", "duckdb:///calls.duckdb", environ=environ)
    assert (code, without_progress(err)) == (EXIT_OK, "")
    assert "cdrs           1500 new, 0 updated" in out
    assert "-> duckdb:///calls.duckdb (dataset voipstudio)" in out

    account.insert("cdrs", 4)
    code, out, err = await voipstudio(
        "sync",
        "--to",
        "duckdb:///calls.duckdb",
        "--resources",
        "cdrs",
        "--lookback",
        "0",
        "--dataset",
        "history",
        environ=environ,
    )
    assert code == EXIT_OK, err
    # A new dataset starts empty: everything, for the one table asked for.
    assert out.splitlines()[0] == "cdrs           1504 new, 0 updated"
    code, out, _ = await voipstudio("sync", "--to", "duckdb:///calls.duckdb", environ=environ)
    assert "cdrs           4 new, 0 updated" in out
    assert "monitors       0 new, 0 updated" in out
    with duckdb.connect(str(tmp_path / "calls.duckdb"), read_only=True) as con:
        for dataset in ("voipstudio", "history"):
            total, distinct = con.execute(
                f"select count(*), count(distinct id) from {dataset}.cdrs"
            ).fetchone() or (0, 0)
            assert total == distinct == 1504


async def test_fake_account(tmp_path: Path) -> None:
    code, out, _ = await voipstudio(
        "sync", "--fake", "--resources", "chats,msdrs", "--to", "duckdb:///fake.duckdb"
    )
    assert code == EXIT_OK
    assert "chats          10 new, 0 updated" in out and "msdrs          100 new" in out


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://db/x", "unsupported destination 'mysql://db/x'"),
        ("voipstudio.duckdb", "is not a URL"),
        ("duckdb://", "expected duckdb:///path/to/file.duckdb"),
        ("postgresql://me:hunter2@db:port/x", "bad host or port"),
        ("postgresql://me:hunter2@db:5432", "expected postgresql://user:password@host:port"),
        ("s3://", "expected s3://bucket/prefix"),
    ],
)
async def test_bad_urls_are_one_line_errors(url: str, message: str) -> None:
    code, out, err = await voipstudio("sync", "--fake", "--to", url)
    assert code == EXIT_USAGE and out == ""
    assert err.count("\n") == 1 and message in err
    assert "hunter2" not in err


async def test_unreachable_database_is_one_line_without_the_password(
    caplog: pytest.LogCaptureFixture, environ: dict[str, str]
) -> None:
    import socket

    with socket.socket() as probe:  # a free loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://loader:s3cr%40t-pw@127.0.0.1:{port}/warehouse"
    with caplog.at_level(logging.DEBUG):
        code, out, err = await voipstudio("sync", "-vv", "--to", url, environ=environ)
    assert code == EXIT_USAGE
    errors = [line for line in err.splitlines() if line.startswith("voipstudio: error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    assert f"postgresql://loader:***@127.0.0.1:{port}/warehouse" in err
    assert "refused" in err.lower()
    everything = out + err + caplog.text
    assert "s3cr" not in everything and "s3cr%40t-pw" not in everything


@pytest.mark.parametrize(
    "argv",
    [["--lookback", "7"], ["--lookback", "-1d"], ["--resources", "cdrs,calls"], ["--dataset", ""]],
)
async def test_bad_options_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = await voipstudio("sync", "--fake", *argv)
    # argparse prints its usage errors on the process's stderr.
    assert code == EXIT_USAGE and "error" in err + capsys.readouterr().err


async def test_missing_credentials_are_a_usage_error() -> None:
    code, _, err = await voipstudio("sync", "--to", "duckdb:///x.duckdb", environ={})
    assert code == EXIT_USAGE and "credentials" in err


async def test_the_defaults_load_and_can_be_queried(tmp_path: Path) -> None:
    """The default file and dataset together: DuckDB names a file's catalog after its stem,
    so a stem equal to the dataset would make ``dataset.table`` ambiguous."""
    code, out, err = await voipstudio("sync", "--fake", "--resources", "chats")
    assert (code, without_progress(err)) == (EXIT_OK, ""), err
    assert "-> duckdb:///voipstudio_history.duckdb (dataset voipstudio)" in out
    database = tmp_path / "voipstudio_history.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from voipstudio.chats").fetchone() == (10,)


async def test_a_file_named_like_the_dataset_is_refused_up_front(tmp_path: Path) -> None:
    code, out, err = await voipstudio(
        "sync", "--fake", "--to", "duckdb:///data/History.duckdb", "--dataset", "history"
    )
    assert code == EXIT_USAGE and out == ""
    assert err.count("\n") == 1 and "History.duckdb" in err and "--dataset" in err
    assert not (tmp_path / "data").exists()
