"""Deleting ids whose DELETE timed out after the server carried it out, and chunks in which
only some ids are missing: against the in-process fake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from _support import client_of

from voipstudio_async import VoipStudio
from voipstudio_async._errors import NotFoundError
from voipstudio_async.testing import FakeVoipStudio


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=3, cdrs=10, monitors=60, voicemessages=5, msdrs=1, chats=1)


@pytest.fixture
async def vs(fake: FakeVoipStudio) -> AsyncIterator[VoipStudio]:
    async with client_of(fake) as client:

        async def no_sleep(_: float) -> None:
            return None

        client._requester._sleep = no_sleep
        # Half of all requests fail here: a retry budget would rightly stop retrying.
        client._requester.budget = None
        yield client


def done_then_timeout(fake: FakeVoipStudio, every: int) -> Callable[[str, str], None]:
    """A hook: every ``every``-th id DELETE is carried out, then its answer times out."""
    seen = 0

    def hook(method: str, path: str) -> None:
        nonlocal seen
        if method != "DELETE":
            return
        seen += 1
        if seen % every == 1:
            fake.delete("monitors", [int(i) for i in path.rsplit("/", 1)[1].split(",")])
            raise httpx.ReadTimeout("the answer never came")

    return hook


async def test_ids_deleted_by_an_attempt_that_timed_out_are_reported_deleted(
    fake: FakeVoipStudio, vs: VoipStudio
) -> None:
    ids = fake.ids("monitors")[:40]
    fake.on_request(done_then_timeout(fake, every=2))
    result = await vs.monitors.delete(ids, chunk_size=2)
    assert [o for o in result if not o.ok] == []
    assert not set(ids) & set(fake.ids("monitors"))
    statuses = [r.status for r in fake.requests if r.method == "DELETE"]
    assert statuses.count(404) >= 10  # the retries found the ids gone


async def test_a_timed_out_single_id_delete_answered_404_on_retry_is_deleted(
    fake: FakeVoipStudio, vs: VoipStudio
) -> None:
    item = fake.ids("monitors")[0]
    fake.on_request(done_then_timeout(fake, every=2))
    result = await vs.monitors.delete([item])
    assert result.ok
    assert item not in fake.ids("monitors")


async def test_a_chunk_with_a_missing_id_fails_only_that_id(
    fake: FakeVoipStudio, vs: VoipStudio
) -> None:
    ids = fake.ids("monitors")[:5]
    fake.delete("monitors", [ids[2]])
    result = await vs.monitors.delete(ids)
    assert [(o.id, o.ok) for o in result] == [(i, i != ids[2]) for i in ids]
    assert isinstance(result.failed[0].error, NotFoundError)
    assert not set(ids) & set(fake.ids("monitors"))


async def test_a_plain_404_for_one_id_still_fails(fake: FakeVoipStudio, vs: VoipStudio) -> None:
    item = fake.ids("monitors")[0]
    fake.delete("monitors", [item])
    result = await vs.monitors.delete([item])
    assert [(o.id, type(o.error)) for o in result] == [(item, NotFoundError)]
