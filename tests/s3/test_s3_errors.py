"""Destinations the command refuses: one line, exit 2, before any request to VoIPstudio."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from _moto import AWS_SECRET
from s3_helpers import PERIOD, voipstudio

from voipstudio_async import VoipStudio
from voipstudio_async.cli._errors import UserError
from voipstudio_async.cli._storage import S3Location, parse_destination
from voipstudio_async.testing import FakeVoipStudio

COMMANDS = [
    ["archive", *PERIOD, "--dest"],
    ["monitors", "download", *PERIOD, "--dest"],
    ["voicemessages", "download", *PERIOD, "--dest"],
    ["cdrs", "export", *PERIOD, "-o"],
]


def _one_line_usage_error(result: Any, fake: FakeVoipStudio, *words: str) -> None:
    assert result.code == 2
    assert len(result.err.splitlines()) == 1, result.err
    assert all(word in result.err for word in words), result.err
    assert fake.requests == []


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("url", ["gs://bucket/x", "https://example.com/x", "S3A://bucket/x"])
async def test_other_schemes_are_refused(
    client: VoipStudio, fake: FakeVoipStudio, command: list[str], url: str
) -> None:
    result = await voipstudio(client, *command, url)
    _one_line_usage_error(result, fake, "unsupported destination", "s3://")


@pytest.mark.parametrize("command", COMMANDS)
async def test_without_the_extra_s3_is_refused_naming_it(
    client: VoipStudio, fake: FakeVoipStudio, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "aiobotocore.session", None)  # its import fails
    result = await voipstudio(client, *command, "s3://bucket/key")
    _one_line_usage_error(result, fake, "voipstudio-async[s3]")


@pytest.mark.parametrize("command", COMMANDS)
async def test_a_missing_bucket_is_refused_without_the_secret(
    client: VoipStudio, fake: FakeVoipStudio, command: list[str]
) -> None:
    result = await voipstudio(client, "-vv", *command, "s3://no-such-bucket-here/key")
    _one_line_usage_error(result, fake, "s3://no-such-bucket-here/key")
    assert AWS_SECRET not in result.err + result.out


async def test_the_endpoint_option_overrides_the_environment(
    client: VoipStudio, fake: FakeVoipStudio, bucket: str, moto_endpoint: str, monkeypatch: Any
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    dest = f"s3://{bucket}/x.csv"
    refused = await voipstudio(client, "cdrs", "export", *PERIOD, "-o", dest)
    assert refused.code == 2 and fake.requests == []
    result = await voipstudio(
        client, "cdrs", "export", *PERIOD, "-o", dest, "--s3-endpoint-url", moto_endpoint
    )
    assert result.code == 0, result.err


@pytest.mark.parametrize(
    "endpoint", ["ftp://127.0.0.1:1", "127.0.0.1:9000", "http://user:pw@127.0.0.1:9000"]
)
async def test_a_bad_endpoint_or_one_without_s3_is_refused(
    client: VoipStudio, fake: FakeVoipStudio, tmp_path: Path, endpoint: str
) -> None:
    bad = await voipstudio(
        client, "archive", *PERIOD, "--dest", "s3://b-1/x", "--s3-endpoint-url", endpoint
    )
    _one_line_usage_error(bad, fake, "--s3-endpoint-url")
    assert "pw" not in bad.err
    local = await voipstudio(
        client, "archive", *PERIOD, "--dest", str(tmp_path), "--s3-endpoint-url", "http://h:1"
    )
    _one_line_usage_error(local, fake, "s3:// destinations only")


def test_destinations_parse() -> None:
    assert parse_destination("archive/2026") == Path("archive/2026")
    assert parse_destination("file:///srv/archive") == Path("/srv/archive")
    assert parse_destination("file://localhost/srv/a%20b") == Path("/srv/a b")
    assert parse_destination("s3://my-bucket") == S3Location("my-bucket", "")
    assert parse_destination("s3://my-bucket/a/b/") == S3Location("my-bucket", "a/b")
    assert parse_destination("s3://b-1/k.csv", is_object=True) == S3Location("b-1", "k.csv")
    assert str(S3Location("b-1", "a").child("m")) == "s3://b-1/a/m"


@pytest.mark.parametrize(
    ("text", "is_object"),
    [
        ("s3://", False),
        ("s3://Bad_Bucket/x", False),
        ("s3://b-1", True),
        ("s3://b-1/a//b", False),
        ("s3://b-1/a/../b", False),
        ("s3://b-1/a?x=1", False),
        ("file://otherhost/x", False),
        ("ftp://b/x", False),
    ],
)
def test_malformed_destinations_are_user_errors(text: str, is_object: bool) -> None:
    with pytest.raises(UserError):
        parse_destination(text, is_object=is_object)
