"""Unusable destinations are refused (exit 2, naming the path) before any request is sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import PERIOD, Cli

from voipstudio_async.testing import FakeVoipStudio


@pytest.mark.parametrize(
    ("blocked", "argv"),
    [
        ("cdrs.csv", ["archive", *PERIOD, "--dest", "{dest}"]),
        ("cdrs.jsonl", ["archive", *PERIOD, "--cdrs-format", "jsonl", "--dest", "{dest}"]),
        ("monitors/manifest.jsonl", ["archive", *PERIOD, "--dest", "{dest}"]),
        ("voicemessages/manifest.jsonl", ["archive", *PERIOD, "--dest", "{dest}"]),
        ("manifest.jsonl", ["voicemessages", "download", *PERIOD, "--dest", "{dest}"]),
        ("manifest.jsonl", ["monitors", "download", *PERIOD, "--dest", "{dest}"]),
    ],
)
async def test_a_directory_where_a_file_goes_is_refused_before_any_request(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path, blocked: str, argv: list[str]
) -> None:
    dest = tmp_path / "archive"
    (dest / blocked).mkdir(parents=True)
    fake.reset_log()
    result = await cli(*(arg.format(dest=dest) for arg in argv))
    assert result.code == 2, result.err
    assert str(dest / blocked) in result.err
    assert fake.requests == []
