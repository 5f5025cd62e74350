"""Quick looks (``list``, ``get``) and ``voicemessages move``."""

from __future__ import annotations

import json

import pytest
from cli_helpers import Cli, period_ids

from voipstudio_async.testing import FakeVoipStudio


async def test_list_json(cli: Cli, fake: FakeVoipStudio) -> None:
    result = await cli(
        "monitors",
        "list",
        "--since",
        "2026-07-01",
        "--until",
        "2026-09-01",
        "--json",
        "--limit",
        "3",
        "--sort",
        "duration",
        "--desc",
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    in_period = period_ids(fake, "monitors", "timestamp")
    assert data["total"] == len(in_period)
    durations = [item["duration"] for item in data["items"]]
    assert len(durations) == 3 and durations == sorted(durations, reverse=True)


async def test_list_table(cli: Cli, fake: FakeVoipStudio) -> None:
    result = await cli("cdrs", "list", "--limit", "2", "--filter", "disposition:eq:BUSY")
    assert result.code == 0, result.err
    assert "disposition" in result.out and "BUSY" in result.out
    busy = sum(r["disposition"] == "BUSY" for r in fake.records("cdrs"))
    assert f"2 shown, {busy} matching" in result.out


@pytest.mark.parametrize("collection", ["cdrs", "monitors", "voicemessages"])
async def test_get(cli: Cli, fake: FakeVoipStudio, collection: str) -> None:
    as_json = await cli(collection, "get", "5", "--json")
    assert as_json.code == 0, as_json.err
    assert json.loads(as_json.out) == fake.get(collection, 5)  # type: ignore[arg-type]
    table = await cli(collection, "get", "5")
    assert table.code == 0 and "field" in table.out


async def test_get_missing(cli: Cli) -> None:
    result = await cli("monitors", "get", "999999")
    assert result.code == 1
    assert "404" in result.err and "Traceback" not in result.err


async def test_move(cli: Cli, fake: FakeVoipStudio) -> None:
    result = await cli("voicemessages", "move", "--ids", "1,2", "--ids", "3", "--folder", "Work")
    assert result.code == 0, result.err
    assert [fake.get("voicemessages", i)["folder"] for i in (1, 2, 3)] == ["Work"] * 3  # type: ignore[index]
    assert "3 moved to Work" in result.out


async def test_move_unknown_id_fails(cli: Cli, fake: FakeVoipStudio) -> None:
    result = await cli("voicemessages", "move", "--ids", "1,999999", "--folder", "Old")
    assert result.code == 1
    assert "failed voicemail 999999" in result.err


async def test_fake_option_builds_its_own_account() -> None:
    result = await Cli(None)("cdrs", "list", "--fake", "--json", "--limit", "1", client=None)  # type: ignore[arg-type]
    assert result.code == 0, result.err
    assert json.loads(result.out)["total"] == 20_000
