"""The write and download engines against the stateful fake server (in process): what
lands on disk is byte-for-byte what the fake serves, and deletes really delete."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from _support import client_of, files_in
from voipstudio_history_client.api.monitors import delete_monitors, download_monitor_mp3
from voipstudio_history_client.api.voicemessages import update_voicemessages
from voipstudio_history_client.models import VoicemessagePatch

from voipstudio_async._bulk import bulk_delete, bulk_patch
from voipstudio_async._download import download_many
from voipstudio_async._request.requester import Requester
from voipstudio_async.testing import FakeVoipStudio


async def no_sleep(_: float) -> None:
    return None


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=3, cdrs=10, monitors=12, voicemessages=6)


@pytest.fixture
async def requester(fake: FakeVoipStudio) -> AsyncIterator[Requester]:
    async with client_of(fake) as vs:
        vs._requester._sleep = no_sleep  # body retries wait through the Requester
        yield vs._requester


def _monitor_kwargs(item_id: int) -> dict[str, Any]:
    return download_monitor_mp3._get_kwargs(id=item_id)


def _mp3_gets(fake: FakeVoipStudio) -> list[tuple[str, str | None]]:
    return [
        (r.path, r.headers.get("range"))
        for r in fake.requests
        if r.method == "GET" and r.path.endswith(".mp3")
    ]


@pytest.mark.parametrize("ranges", [False, True])
async def test_download_many_survives_cut_bodies(
    fake: FakeVoipStudio, requester: Requester, tmp_path: Path, ranges: bool
) -> None:
    fake.ranges = ranges
    big = fake.add_monitor(size=3_000_000)
    fake.cut_body(f"/monitors/{big}.mp3", after_bytes=1_000_000, times=1)
    ids = [big, 1, 2, 3]
    result = await download_many(
        requester,
        ids,
        tmp_path,
        build_kwargs=_monitor_kwargs,
        path_template="/monitors/{id}.mp3",
        file_name=lambda i: f"monitor-{i}.mp3",
        expected_sizes={i: fake.expected_size("monitor_mp3", i) for i in ids},
    )
    assert result.ok, [o.error for o in result.failed]
    for outcome in result:
        assert outcome.value is not None
        assert outcome.value.sha256 == fake.expected_sha256("monitor_mp3", outcome.id)
    retry = [r for r in _mp3_gets(fake) if r[0].endswith(f"/monitors/{big}.mp3")]
    # The fake sends no ETag or Last-Modified, so even with Accept-Ranges nothing makes a
    # spliced body safe: the retry starts again from byte 0.
    assert [range_header for _, range_header in retry] == [None, None]
    assert files_in(tmp_path) == sorted(f"monitor-{i}.mp3" for i in ids)


async def test_bulk_engines_change_the_fakes_state(
    fake: FakeVoipStudio, requester: Requester
) -> None:
    moved = await bulk_patch(
        requester,
        [{"id": 1, "folder": 2}, {"id": 2, "folder": 2}],
        build_kwargs=lambda body: update_voicemessages._get_kwargs(body=body),
        model_cls=VoicemessagePatch,
        path_template="/voicemessages",
        chunk_size=1,
    )
    assert moved.ok
    assert [(fake.get("voicemessages", i) or {}).get("folder") for i in (1, 2)] == [2, 2]

    deleted = await bulk_delete(
        requester,
        [4, 5, 6],
        build_kwargs=lambda ids: delete_monitors._get_kwargs(id=ids),
        path_template="/monitors/{id}",
        chunk_size=2,
    )
    assert deleted.ok and [o.id for o in deleted] == [4, 5, 6]
    assert [fake.get("monitors", i) for i in (4, 5, 6)] == [None, None, None]
    assert fake.get("monitors", 3) is not None
