"""Usage: global options anywhere, options that need each other, bounds, help texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import PERIOD, Cli, files

from voipstudio_async.cli._args import parse_args
from voipstudio_async.testing import FakeVoipStudio


async def test_global_options_before_the_command(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    quiet = await cli("-q", "cdrs", "export", *PERIOD, "-o", str(tmp_path / "a.csv"))
    assert quiet.code == 0 and quiet.out == "" and quiet.err == ""
    fake.fail("/cdrs", 503, times=1)
    loud = await cli("-v", "cdrs", "export", *PERIOD, "-o", str(tmp_path / "b.csv"))
    assert loud.code == 0 and "retrying GET /cdrs after 503" in loud.err


def test_global_options_parse_in_either_place() -> None:
    before = parse_args(["--fake", "-vv", "monitors", "list"])
    after = parse_args(["monitors", "list", "--fake", "-vv"])
    neither = parse_args(["monitors", "list"])
    assert (before.fake, before.verbose, before.quiet) == (True, 2, False)
    assert (after.fake, after.verbose, after.quiet) == (True, 2, False)
    assert (neither.fake, neither.verbose, neither.quiet) == (False, 0, False)


async def test_fake_before_the_command() -> None:
    result = await Cli(None)("--fake", "cdrs", "list", "--json", "--limit", "1", client=None)  # type: ignore[arg-type]
    assert result.code == 0, result.err
    assert json.loads(result.out)["total"] == 20_000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["archive", *PERIOD, "--dest", "d", "--dry-run"], "--dry-run shows what --purge or"),
        (["archive", *PERIOD, "--dest", "d", "--yes"], "--yes answers the --purge question"),
        (["archive", *PERIOD, "--dest", "d", "-y", "--move-voicemails", "Old"], "needs --purge"),
        (["-q", "cdrs", "list", "-v"], "-q/--quiet and -v/--verbose exclude each other"),
        (
            ["monitors", "download", *PERIOD, "--dest", "d", "--concurrency", "1000000"],
            "expected at most 256 downloads at once, got '1000000'",
        ),
        (
            ["archive", *PERIOD, "--dest", "d", "--concurrency", "0"],
            "expected a positive integer, got '0'",
        ),
    ],
)
async def test_usage_errors(
    cli: Cli,
    fake: FakeVoipStudio,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = await cli(*argv)
    err = result.err + capsys.readouterr().err  # argparse writes to sys.stderr itself
    assert result.code == 2
    assert message in err.splitlines()[-1]
    assert fake.requests == []
    assert files(tmp_path) == []


def test_concurrency_bounds() -> None:
    argv = ["monitors", "download", *PERIOD, "--dest", "d"]
    assert parse_args(argv).concurrency == 8
    assert parse_args([*argv, "--concurrency", "256"]).concurrency == 256


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["cdrs", "list", "--help"], "Show one page of the CDRs that match"),
        (["voicemessages", "list", "--help"], "--limit N"),
        (["monitors", "get", "--help"], "Show every field of one of the recordings"),
        (["monitors", "get", "--help"], "the id (a positive integer)"),
    ],
)
def test_list_and_get_have_help(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 0
    assert expected in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "no credentials in the environment: set VOIPSTUDIO_USER_ID and VOIPSTUDIO_API_KEY"),
        (
            {"VOIPSTUDIO_TOKEN": "t", "VOIPSTUDIO_USER_ID": "1", "VOIPSTUDIO_API_KEY": "k"},
            "contradictory credentials: VOIPSTUDIO_USER_ID/VOIPSTUDIO_API_KEY and "
            "VOIPSTUDIO_TOKEN are all set",
        ),
        ({"VOIPSTUDIO_USER_ID": "1"}, "go together: VOIPSTUDIO_API_KEY is not set"),
        ({"VOIPSTUDIO_PASSWORD": "p"}, "go together: VOIPSTUDIO_EMAIL is not set"),
    ],
)
async def test_credential_problems_name_the_variables(
    cli: Cli, environ: dict[str, str], message: str
) -> None:
    result = await cli("cdrs", "list", client=None, environ=environ)
    assert result.code == 2
    assert message in result.err
    assert "=" not in result.err.replace("--", "")  # no Python keyword arguments (user_id=)
    assert len(result.err.strip().splitlines()) == 1
