"""Messages that say what happened: the real wait of a retry after a 429, the id of a
missing item."""

from __future__ import annotations

import pytest
from cli_helpers import Cli

from voipstudio_async.testing import FakeVoipStudio


@pytest.mark.parametrize("retry_after", [1, 2, 7])
async def test_a_throttled_retry_shows_the_server_s_wait(
    cli: Cli, fake: FakeVoipStudio, sleeps: list[float], retry_after: int
) -> None:
    fake.fail("/cdrs", 429, times=1, retry_after=retry_after)
    result = await cli("cdrs", "list", "-v")
    assert result.code == 0, result.err
    assert f"retrying GET /cdrs after 429 (retry 1 of 5) in {retry_after:.2f}s" in result.err


@pytest.mark.parametrize("collection", ["cdrs", "monitors", "voicemessages"])
@pytest.mark.parametrize("item_id", [987654321, 2**40])
async def test_a_missing_item_is_named_by_its_id(cli: Cli, collection: str, item_id: int) -> None:
    result = await cli(collection, "get", str(item_id))
    assert result.code == 1
    assert f"(GET /{collection}/{item_id})" in result.err
    assert "{id}" not in result.err
