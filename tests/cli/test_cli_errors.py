"""User errors: one clear line on stderr, no traceback, exit code 2, nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import PERIOD, Cli, files

from voipstudio_async import VoipStudio
from voipstudio_async.cli._args import parse_filter
from voipstudio_async.testing import FakeVoipStudio


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "2026-13-01", "--until", "2026-09-01"], "invalid date '2026-13-01'"),
        (["--since", "yesterday", "--until", "2026-09-01"], "invalid date 'yesterday'"),
        (["--since", "2026-09-01", "--until", "2026-09-01"], "--until (2026-09-01 00:00:00) must"),
        ([*PERIOD, "--filter", "duration>60"], "invalid filter 'duration>60'"),
        ([*PERIOD, "--filter", "duration:between:1"], "unknown operator 'between'"),
        ([*PERIOD, "--filter", "nosuch:eq:1"], "cdrs have no field 'nosuch'"),
        (["--until", "2026-09-01"], "the following arguments are required: --since"),
    ],
)
async def test_bad_dates_and_filters(
    cli: Cli,
    fake: FakeVoipStudio,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    result = await cli("cdrs", "export", *argv, "-o", str(tmp_path / "x.csv"))
    err = result.err + capsys.readouterr().err  # argparse writes to sys.stderr itself
    assert result.code == 2
    assert message in err
    assert "Traceback" not in err
    assert fake.requests == []
    assert files(tmp_path) == []


def test_filter_syntax() -> None:
    assert parse_filter("duration:gt:60").to_json() == {
        "property": "duration",
        "operator": "gt",
        "value": 60,
    }
    assert parse_filter("src:like:+44").value == "+44"
    assert parse_filter("dst:eq:0044123").value == "0044123"  # phone numbers stay text
    assert parse_filter("charge:lt:0.5").value == 0.5
    assert parse_filter("calldate:gte:2026-08-01 10:00:00").value == "2026-08-01 10:00:00"


async def test_missing_credentials(cli: Cli, tmp_path: Path) -> None:
    result = await cli(
        "cdrs", "export", *PERIOD, "-o", str(tmp_path / "x.csv"), client=None, environ={}
    )
    assert result.code == 2
    assert "no credentials in the environment" in result.err
    assert "VOIPSTUDIO_USER_ID" in result.err and "Traceback" not in result.err


async def test_rejected_credentials(fake: FakeVoipStudio, tmp_path: Path) -> None:
    async with VoipStudio(
        user_id=fake.credentials.user_id,
        api_key="wrong",
        base_url=fake.base_url,
        transport=fake.transport(),
    ) as wrong:
        result = await Cli(wrong)("monitors", "download", *PERIOD, "--dest", str(tmp_path))
    assert result.code == 2
    assert "the API refused the credentials: 401" in result.err
    assert "wrong" not in result.err


async def test_unwritable_dest(cli: Cli, fake: FakeVoipStudio, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    for command in (["archive"], ["monitors", "download"], ["voicemessages", "download"]):
        result = await cli(*command, *PERIOD, "--dest", str(blocker / "archive"))
        assert result.code == 2, command
        assert f"cannot write to {blocker / 'archive'}" in result.err
        assert "Traceback" not in result.err
    assert [r.path for r in fake.requests] == []


async def test_output_in_a_missing_directory(cli: Cli, tmp_path: Path) -> None:
    result = await cli("cdrs", "export", *PERIOD, "-o", str(tmp_path / "nope" / "x.csv"))
    assert result.code == 2
    assert "does not exist" in result.err


async def test_api_error_is_one_line_and_exit_1(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    fake.fail("/monitors", 500)
    result = await cli("monitors", "download", *PERIOD, "--dest", str(tmp_path))
    assert result.code == 1
    assert result.err.startswith("voipstudio: error: API error: 500")
    assert len(result.err.strip().splitlines()) == 1


async def test_verbose_logs_retries(cli: Cli, fake: FakeVoipStudio, tmp_path: Path) -> None:
    fake.fail("/cdrs", 503, times=1)
    quiet = await cli("cdrs", "export", *PERIOD, "-o", str(tmp_path / "a.csv"), "-q")
    assert quiet.code == 0 and quiet.out == "" and quiet.err == ""
    fake.fail("/cdrs", 503, times=1)
    loud = await cli("cdrs", "export", *PERIOD, "-o", str(tmp_path / "b.csv"), "-v")
    assert loud.code == 0
    assert "retrying GET /cdrs after 503" in loud.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cdrs", "list", "--limit", "6000"], "limit must be an int between 1 and 5000"),
        (["cdrs", "list", "--filter", "duration:eq:long"], "the API rejected the request: 400"),
    ],
)
async def test_values_the_sdk_or_the_api_refuse(cli: Cli, argv: list[str], message: str) -> None:
    result = await cli(*argv)
    assert result.code == 2
    assert message in result.err and "Traceback" not in result.err
