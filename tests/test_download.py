"""Atomic downloads, ``stream()`` and ``download_many`` through pytest-httpx: exact requests
for the five binary operations, verification, cleanup on failure and cancellation."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest
from _support import BASE, PREFIX, files_in, only_request, sha256
from pytest_httpx import HTTPXMock
from voipstudio_history_client.api.cdrs import download_cdr_pcap
from voipstudio_history_client.api.monitors import download_monitor_mp3
from voipstudio_history_client.api.msdrs import download_msdr_pcap
from voipstudio_history_client.api.users import export_user_cdrs_csv
from voipstudio_history_client.api.voicemessages import download_voicemessage_mp3

from voipstudio_async._bulk import BulkResult, ItemOutcome
from voipstudio_async._download import DownloadResult, download, download_many, stream
from voipstudio_async._errors import (
    APIConnectionError,
    APIResponseValidationError,
    IncompleteDownloadError,
    NotFoundError,
)
from voipstudio_async._request.requester import Requester

AUDIO = b"ID3" + bytes(range(256)) * 1000
MONITOR_MP3 = "/monitors/{id}.mp3"

# ``requester`` (pytest-httpx, no sleeping) comes from tests/conftest.py.


async def download_monitor(
    requester: Requester, dest: Path | str, item_id: int = 5, **options: Any
) -> DownloadResult:
    """``download`` of monitor ``item_id``'s MP3, saved as ``monitor-<id>.mp3`` by default."""
    options.setdefault("default_name", f"monitor-{item_id}.mp3")
    return await download(
        requester,
        download_monitor_mp3._get_kwargs(id=item_id),
        dest,
        path_template=MONITOR_MP3,
        **options,
    )


def _monitor_kwargs(item_id: int) -> dict[str, Any]:
    return download_monitor_mp3._get_kwargs(id=item_id)


async def download_monitors(
    requester: Requester, ids: Iterable[Any], dest_dir: Path, **options: Any
) -> BulkResult[DownloadResult]:
    """``download_many`` of monitor MP3s, each saved as ``monitor-<id>.mp3`` by default."""
    options.setdefault("file_name", lambda i: f"monitor-{i}.mp3")
    return await download_many(
        requester,
        ids,
        dest_dir,
        build_kwargs=_monitor_kwargs,
        path_template=MONITOR_MP3,
        **options,
    )


class StallingStream(httpx.AsyncByteStream):
    """Sends ``first`` and then never finishes; records whether it was closed."""

    def __init__(self, first: bytes) -> None:
        self.first = first
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        self.closed = True


class BrokenStream(httpx.AsyncByteStream):
    """Sends ``first`` and then fails the way a reset connection does."""

    def __init__(self, first: bytes, error: Exception) -> None:
        self.first = first
        self.error = error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        raise self.error


DOWNLOADS: list[tuple[Callable[[], dict[str, Any]], str, bytes, str]] = [
    (
        lambda: download_monitor_mp3._get_kwargs(id=5),
        "/monitors/{id}.mp3",
        b"/monitors/5.mp3",
        "monitor-5.mp3",
    ),
    (
        lambda: download_voicemessage_mp3._get_kwargs(id=570),
        "/voicemessages/{id}.mp3",
        b"/voicemessages/570.mp3",
        "voicemessage-570.mp3",
    ),
    (
        lambda: download_cdr_pcap._get_kwargs(id=58),
        "/cdrs/{id}.pcap",
        b"/cdrs/58.pcap",
        "cdr-58.pcap",
    ),
    (
        lambda: download_msdr_pcap._get_kwargs(id=9),
        "/msdrs/{id}.pcap",
        b"/msdrs/9.pcap",
        "msdr-9.pcap",
    ),
    (
        lambda: export_user_cdrs_csv._get_kwargs(
            id=77,
            filter_='[{"property":"duration","operator":"gt","value":60}]',
            sort="calldate",
            dir_="DESC",
        ),
        "/users/{id}/cdrs.csv",
        b"/users/77/cdrs.csv?filter=%5B%7B%22property%22%3A%22duration%22%2C%22operator%22"
        b"%3A%22gt%22%2C%22value%22%3A60%7D%5D&sort=calldate&dir=DESC",
        "user-77-cdrs.csv",
    ),
]


@pytest.mark.parametrize(("build", "template", "raw_path", "name"), DOWNLOADS)
async def test_download_sends_the_exact_request_and_writes_the_file(
    requester: Requester,
    httpx_mock: HTTPXMock,
    tmp_path: Path,
    build: Callable[[], dict[str, Any]],
    template: str,
    raw_path: bytes,
    name: str,
) -> None:
    httpx_mock.add_response(content=AUDIO, headers={"Content-Type": "application/octet-stream"})
    result = await download(requester, build(), tmp_path, path_template=template, default_name=name)
    request = only_request(httpx_mock)
    assert (request.method, request.url.raw_path, request.content) == (
        "GET",
        PREFIX + raw_path,
        b"",
    )
    assert "range" not in request.headers
    assert result == DownloadResult(
        path=tmp_path / name,
        size=len(AUDIO),
        sha256=sha256(AUDIO),
        content_type="application/octet-stream",
    )
    assert (tmp_path / name).read_bytes() == AUDIO
    assert files_in(tmp_path) == [name]


async def test_download_to_a_file_path_ignores_server_names(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    httpx_mock.add_response(
        content=AUDIO, headers={"Content-Disposition": 'attachment; filename="../../evil.mp3"'}
    )
    dest = tmp_path / "mine.mp3"
    result = await download_monitor(requester, str(dest))
    assert result.path == dest and dest.read_bytes() == AUDIO
    assert files_in(tmp_path) == ["mine.mp3"]

    httpx_mock.add_response(content=b"second")
    again = await download_monitor(requester, dest, fsync=True)
    assert again.size == 6 and dest.read_bytes() == b"second"
    assert files_in(tmp_path) == ["mine.mp3"]
    with pytest.raises(ValueError, match="plain file name"):
        await download_monitor(requester, tmp_path, default_name="../x.mp3")


async def test_progress_is_monotonic_and_ends_at_the_total(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    calls: list[tuple[int, int | None]] = []
    httpx_mock.add_response(content=AUDIO)

    async def on_progress(done: int, total: int | None) -> None:
        calls.append((done, total))

    await download_monitor(
        requester,
        tmp_path,
        default_name="a.mp3",
        on_progress=on_progress,
        chunk_size=64 * 1024,
        expected_size=len(AUDIO),
    )
    assert len(calls) == 4  # 256,003 bytes in 64 KiB chunks
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert calls[-1] == (len(AUDIO), len(AUDIO))
    assert {t for _, t in calls} == {len(AUDIO)}

    # No Content-Length (chunked): the total is unknown until the end.
    sync_calls: list[tuple[int, int | None]] = []
    httpx_mock.add_response(stream=httpx.ByteStream(AUDIO))
    await download_monitor(
        requester,
        tmp_path,
        item_id=6,
        default_name="b.mp3",
        on_progress=lambda done, total: sync_calls.append((done, total)),
    )
    assert sync_calls == [(len(AUDIO), None), (len(AUDIO), len(AUDIO))]


async def test_empty_body_reports_zero_of_zero(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    calls: list[tuple[int, int | None]] = []
    httpx_mock.add_response(content=b"")
    result = await download(
        requester,
        export_user_cdrs_csv._get_kwargs(id=1),
        tmp_path,
        path_template="/users/{id}/cdrs.csv",
        default_name="cdrs.csv",
        on_progress=lambda done, total: calls.append((done, total)),
    )
    assert result.size == 0 and result.sha256 == sha256(b"")
    assert calls == [(0, 0)]


async def test_short_body_raises_and_leaves_no_file(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    httpx_mock.add_response(
        stream=httpx.ByteStream(AUDIO[:1000]), headers={"Content-Length": str(len(AUDIO))}
    )
    with pytest.raises(IncompleteDownloadError) as caught:
        await download_monitor(requester, tmp_path)
    assert (caught.value.expected, caught.value.received) == (len(AUDIO), 1000)
    assert files_in(tmp_path) == []


async def test_body_not_matching_the_monitor_size_is_rejected(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    httpx_mock.add_response(content=AUDIO)
    with pytest.raises(IncompleteDownloadError) as caught:
        await download_monitor(requester, tmp_path, expected_size=len(AUDIO) + 10)
    assert (caught.value.expected, caught.value.received) == (len(AUDIO) + 10, len(AUDIO))
    assert files_in(tmp_path) == []


async def test_gzip_body_is_checked_on_wire_bytes_and_saved_decoded(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    csv = b"id,calldate\n" + b"42,2026-01-02 03:04:05\n" * 5000
    wire = gzip.compress(csv)
    httpx_mock.add_response(
        stream=httpx.ByteStream(wire),
        headers={"Content-Encoding": "gzip", "Content-Length": str(len(wire))},
    )
    result = await download(
        requester,
        export_user_cdrs_csv._get_kwargs(id=1),
        tmp_path / "cdrs.csv",
        path_template="/users/{id}/cdrs.csv",
        default_name="cdrs.csv",
    )
    assert (tmp_path / "cdrs.csv").read_bytes() == csv
    assert result.size == len(csv) and result.sha256 == sha256(csv)


@pytest.mark.parametrize(
    ("respond", "error"),
    [
        (
            {"stream": httpx.ByteStream(b"abc"), "headers": {"Content-Length": "100"}},
            IncompleteDownloadError,
        ),
        ({"status_code": 404, "json": {"message": "Resource not found"}}, NotFoundError),
        ({"status_code": 202, "json": {"message": "queued"}}, APIResponseValidationError),
        ({"stream": BrokenStream(b"abc", httpx.ReadError("reset"))}, APIConnectionError),
    ],
)
async def test_failed_redownload_leaves_the_existing_file_untouched(
    requester: Requester,
    httpx_mock: HTTPXMock,
    tmp_path: Path,
    respond: dict[str, Any],
    error: type[Exception],
) -> None:
    dest = tmp_path / "monitor-5.mp3"
    dest.write_bytes(b"the good copy")
    httpx_mock.add_response(**respond)
    with pytest.raises(error):
        await download_monitor(requester, tmp_path)
    assert dest.read_bytes() == b"the good copy"
    assert files_in(tmp_path) == ["monitor-5.mp3"]


async def test_cancelled_download_leaves_no_temporary_file(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    body = StallingStream(AUDIO)
    httpx_mock.add_response(stream=body, headers={"Content-Length": str(10 * len(AUDIO))})
    (tmp_path / "monitor-5.mp3").write_bytes(b"old")
    progressed = asyncio.Event()
    task = asyncio.create_task(
        download_monitor(
            requester, tmp_path, on_progress=lambda done, total: progressed.set(), chunk_size=1024
        )
    )
    await progressed.wait()
    assert len(files_in(tmp_path)) == 2  # the temporary file exists while downloading
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert files_in(tmp_path) == ["monitor-5.mp3"]
    assert (tmp_path / "monitor-5.mp3").read_bytes() == b"old"
    assert body.closed


async def test_stream_exposes_headers_and_chunks_and_closes(
    requester: Requester, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(content=AUDIO, headers={"Content-Type": "audio/mpeg"})
    async with stream(
        requester,
        download_voicemessage_mp3._get_kwargs(id=570),
        path_template="/voicemessages/{id}.mp3",
        chunk_size=100_000,
    ) as body:
        assert body.status_code == 200
        assert body.content_length == len(AUDIO) == body.total
        assert body.content_type == "audio/mpeg"
        assert body.headers["content-type"] == "audio/mpeg"
        chunks = [chunk async for chunk in body]
    assert [len(c) for c in chunks] == [100_000, 100_000, 56_003]
    assert b"".join(chunks) == AUDIO and body.bytes_received == len(AUDIO)
    assert body.response.is_closed
    request = only_request(httpx_mock)
    assert request.url.raw_path == PREFIX + b"/voicemessages/570.mp3"


async def test_stream_closes_on_error_and_on_cancellation(
    requester: Requester, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(content=AUDIO)
    with pytest.raises(RuntimeError, match="caller failed"):
        async with stream(
            requester, download_monitor_mp3._get_kwargs(id=1), path_template="/m"
        ) as body:
            raise RuntimeError("caller failed")
    assert body.response.is_closed

    stalling = StallingStream(b"x" * 10)
    httpx_mock.add_response(stream=stalling)
    first_chunk = asyncio.Event()

    async def consume() -> None:
        async with stream(
            requester, download_monitor_mp3._get_kwargs(id=2), path_template="/m"
        ) as body:
            async for _ in body.iter_bytes(1):
                first_chunk.set()

    task = asyncio.create_task(consume())
    await first_chunk.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stalling.closed


async def test_a_body_that_does_not_decode_raises_a_connection_error(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    httpx_mock.add_response(
        stream=httpx.ByteStream(b"not gzip at all"), headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(APIConnectionError, match="DecodingError") as caught:
        await download_monitor(requester, tmp_path)
    assert isinstance(caught.value.__cause__, httpx.DecodingError)
    assert files_in(tmp_path) == []


async def test_stream_raises_on_a_short_body(requester: Requester, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(stream=httpx.ByteStream(b"abc"), headers={"Content-Length": "10"})
    async with stream(
        requester, download_cdr_pcap._get_kwargs(id=1), path_template="/cdrs/{id}.pcap"
    ) as body:
        with pytest.raises(IncompleteDownloadError):
            async for _ in body:
                pass


# --- download_many -----------------------------------------------------------------------


async def test_download_many_reports_each_id_and_never_raises_for_one(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        item_id = int(request.url.path.rsplit("/", 1)[1].removesuffix(".mp3"))
        if item_id == 3:
            return httpx.Response(404, json={"message": "Resource not found"})
        return httpx.Response(200, content=b"audio %d" % item_id)

    httpx_mock.add_callback(respond, is_reusable=True)
    progress: list[tuple[int, int, int | None]] = []
    result = await download_monitors(
        requester,
        [4, 3, 1, 4],
        tmp_path / "out",
        on_progress=lambda i, done, total: progress.append((i, done, total)),
    )
    assert [o.id for o in result] == [4, 3, 1, 4]
    assert [o.ok for o in result] == [True, False, True, True]
    assert isinstance(result.outcomes[1].error, NotFoundError)
    assert result.outcomes[0].value is not None
    assert result.outcomes[0].value.path == tmp_path / "out" / "monitor-4.mp3"
    assert files_in(tmp_path / "out") == ["monitor-1.mp3", "monitor-4.mp3"]
    assert len(httpx_mock.get_requests()) == 3  # the repeated id is fetched once
    assert sorted(progress) == [(1, 7, 7), (4, 7, 7)]


async def test_download_many_reports_each_final_outcome_to_on_item_as_it_lands(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    (tmp_path / "monitor-1.mp3").write_bytes(b"kept")  # skipped
    httpx_mock.add_response(url=BASE + "/monitors/2.mp3", content=b"fresh")
    httpx_mock.add_response(url=BASE + "/monitors/3.mp3", status_code=404, json={})
    seen: list[tuple[int, bool, bool, bool]] = []

    async def on_item(outcome: ItemOutcome[DownloadResult]) -> None:
        # Final when reported: a landed file is already in place under its name.
        landed = outcome.value is not None and outcome.value.path.read_bytes() != b""
        skipped = outcome.value is not None and outcome.value.skipped
        seen.append((outcome.id, outcome.ok, skipped, landed))

    result = await download_monitors(requester, [2, 1, 3, 2], tmp_path, on_item=on_item)
    assert sorted(seen) == [(1, True, True, True), (2, True, False, True), (3, False, False, False)]
    assert [o.id for o in result] == [2, 1, 3, 2]

    sync_seen: list[int] = []
    again = await download_monitors(
        requester, [1, 2], tmp_path, on_item=lambda o: sync_seen.append(o.id)
    )
    assert again.ok and sorted(sync_seen) == [1, 2]


async def test_an_on_item_error_stops_download_many_and_propagates(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    httpx_mock.add_response(url=BASE + "/monitors/1.mp3", content=b"one")
    httpx_mock.add_response(url=BASE + "/monitors/2.mp3", stream=StallingStream(b"two"))

    second_started = asyncio.Event()

    async def on_item(outcome: ItemOutcome[DownloadResult]) -> None:
        await second_started.wait()
        raise OSError("manifest is full")

    with pytest.raises(OSError, match="manifest is full"):
        await download_monitors(
            requester,
            [1, 2],
            tmp_path,
            concurrency=2,
            on_item=on_item,
            on_progress=lambda i, done, total: second_started.set() if i == 2 else None,
            chunk_size=3,
        )
    assert files_in(tmp_path) == ["monitor-1.mp3"]  # the stalled download left no temporary


async def test_download_many_skips_complete_files_and_refetches_wrong_sizes(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    (tmp_path / "monitor-1.mp3").write_bytes(b"12345")  # complete: size matches
    (tmp_path / "monitor-2.mp3").write_bytes(b"12")  # truncated by someone else
    (tmp_path / "monitor-3.mp3").write_bytes(b"abc")  # no size known: kept
    httpx_mock.add_response(url=BASE + "/monitors/2.mp3", content=b"67890")
    progress: list[tuple[int, int, int | None]] = []
    result = await download_monitors(
        requester,
        [1, 2, 3],
        tmp_path,
        expected_sizes={1: 5, 2: 5},
        on_progress=lambda i, done, total: progress.append((i, done, total)),
    )
    assert sorted(progress) == [(1, 5, 5), (2, 5, 5), (3, 3, 3)]
    assert result.ok
    values = [o.value for o in result]
    assert [v.skipped if v else None for v in values] == [True, False, True]
    assert [v.sha256 if v else None for v in values] == [
        sha256(b"12345"),
        sha256(b"67890"),
        sha256(b"abc"),
    ]
    assert (tmp_path / "monitor-2.mp3").read_bytes() == b"67890"
    assert len(httpx_mock.get_requests()) == 1


async def test_download_many_retries_a_broken_body_from_byte_zero(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    httpx_mock.add_response(stream=BrokenStream(AUDIO[:5000], httpx.ReadError("reset")))
    httpx_mock.add_response(
        stream=httpx.ByteStream(AUDIO[:100]), headers={"Content-Length": str(len(AUDIO))}
    )
    httpx_mock.add_response(content=AUDIO)
    progress: list[int] = []
    result = await download_monitors(
        requester,
        [7],
        tmp_path,
        on_progress=lambda _, done, total: progress.append(done),
        chunk_size=1000,
    )
    assert result.ok
    requests = httpx_mock.get_requests()
    assert len(requests) == 3 and all("range" not in r.headers for r in requests)
    assert (tmp_path / "monitor-7.mp3").read_bytes() == AUDIO
    assert progress == sorted(progress) and progress[-1] == len(AUDIO)


async def test_download_many_gives_up_when_the_retry_rules_do(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    # Body retries follow the client's one retry policy: max_retries=1 allows two bodies.
    requester.retries.max_retries = 1
    for _ in range(2):
        httpx_mock.add_response(stream=httpx.ByteStream(b"ab"), headers={"Content-Length": "9"})
    result = await download_monitors(requester, [7], tmp_path)
    assert isinstance(result.outcomes[0].error, IncompleteDownloadError)
    assert files_in(tmp_path) == []


async def test_download_many_does_not_retry_what_the_requester_already_retried(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    # The Requester (max_retries=2) tries a dead host 3 times; download_many adds none.
    httpx_mock.add_exception(httpx.ConnectError("refused"), is_reusable=True)
    result = await download_monitors(requester, [7], tmp_path)
    assert isinstance(result.outcomes[0].error, APIConnectionError)
    assert len(httpx_mock.get_requests()) == 3
    assert files_in(tmp_path) == []


async def test_download_many_of_nothing_sends_nothing(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    result = await download_monitors(requester, [], tmp_path)
    assert len(result) == 0 and result.ok
    with pytest.raises(ValueError, match="its own file name"):
        await download_monitors(requester, [1, 2], tmp_path, file_name=lambda i: "same.mp3")
    with pytest.raises(ValueError, match="positive int"):
        await download_monitors(requester, [1, True], tmp_path)
    assert httpx_mock.get_requests() == []


async def test_cancelled_download_many_leaves_no_temporary_files(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    streams = [StallingStream(AUDIO) for _ in range(3)]
    for body in streams:
        httpx_mock.add_response(stream=body)
    started: set[int] = set()
    all_started = asyncio.Event()

    def on_progress(item_id: int, done: int, total: int | None) -> None:
        started.add(item_id)
        if len(started) == 3:
            all_started.set()

    task = asyncio.create_task(
        download_monitors(
            requester, [1, 2, 3], tmp_path, concurrency=3, on_progress=on_progress, chunk_size=1024
        )
    )
    await all_started.wait()
    assert len(files_in(tmp_path)) == 3
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert files_in(tmp_path) == []
    assert all(body.closed for body in streams)


async def test_download_many_resumes_with_range_when_the_server_advertises_it(
    requester: Requester, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    ranges = {"Accept-Ranges": "bytes", "ETag": '"v1"'}
    httpx_mock.add_response(
        stream=BrokenStream(AUDIO[:5000], httpx.RemoteProtocolError("peer closed")),
        headers={**ranges, "Content-Length": str(len(AUDIO))},
    )
    httpx_mock.add_response(
        status_code=206,
        content=AUDIO[5000:],
        headers={**ranges, "Content-Range": f"bytes 5000-{len(AUDIO) - 1}/{len(AUDIO)}"},
        match_headers={"Range": "bytes=5000-", "If-Range": '"v1"'},
    )
    progress: list[tuple[int, int | None]] = []
    result = await download_monitors(
        requester,
        [7],
        tmp_path,
        expected_sizes={7: len(AUDIO)},
        on_progress=lambda _, done, total: progress.append((done, total)),
        chunk_size=1000,
    )
    value = result.outcomes[0].value
    assert value is not None, result.outcomes[0].error
    assert (value.size, value.sha256) == (len(AUDIO), sha256(AUDIO))
    assert (tmp_path / "monitor-7.mp3").read_bytes() == AUDIO
    assert files_in(tmp_path) == ["monitor-7.mp3"]
    dones = [done for done, _ in progress]
    assert dones == sorted(set(dones)) and dones[4] == 5000 and dones[5] == 6000
    assert progress[-1] == (len(AUDIO), len(AUDIO))


@pytest.mark.parametrize(
    ("first_headers", "sends_range"),
    [
        # Ranges advertised, but the retry answers 200 with the whole body.
        ({"Accept-Ranges": "bytes", "ETag": '"v1"'}, True),
        # A weak ETag and no Last-Modified: nothing makes a range safe.
        ({"Accept-Ranges": "bytes", "ETag": 'W/"v1"'}, False),
        # Gzipped: ranges would address the compressed bytes.
        ({"Accept-Ranges": "bytes", "ETag": '"v1"', "Content-Encoding": "gzip"}, False),
    ],
)
async def test_download_many_restarts_from_zero_when_a_range_is_not_honoured_or_unsafe(
    requester: Requester,
    httpx_mock: HTTPXMock,
    tmp_path: Path,
    first_headers: dict[str, str],
    sends_range: bool,
) -> None:
    first_body = (
        gzip.compress(AUDIO)[:3000] if "Content-Encoding" in first_headers else AUDIO[:3000]
    )
    httpx_mock.add_response(
        stream=BrokenStream(first_body, httpx.ReadError("reset")), headers=first_headers
    )
    httpx_mock.add_response(content=AUDIO)
    result = await download_monitors(requester, [7], tmp_path, chunk_size=1000)
    assert result.ok, result.outcomes[0].error
    assert ("range" in httpx_mock.get_requests()[1].headers) is sends_range
    assert (tmp_path / "monitor-7.mp3").read_bytes() == AUDIO
    assert files_in(tmp_path) == ["monitor-7.mp3"]
