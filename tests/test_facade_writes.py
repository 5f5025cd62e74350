"""The 15 write, delete and download operations through the facade.

Each operation: the exact request (method, raw path, body) and the result, through
pytest-httpx. Then what must never send anything (empty deletes, unconfirmed
collection deletes, bad ids), recordings verified against the Monitor's size, and
``download_many`` against the in-process fake. README's operation table is checked too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from _support import client_of, files_in, mypy_strict, sha256
from pytest_httpx import HTTPXMock
from voipstudio_history_client.models import CdrPatch, VoicemessagePatch

import voipstudio_async
from voipstudio_async import (
    BulkResult,
    DeleteAllResult,
    DownloadResult,
    DownloadStream,
    IncompleteDownloadError,
    ItemOutcome,
    NotFoundError,
    VoipStudio,
)
from voipstudio_async.testing import FakeVoipStudio
from voipstudio_async.types import Monitor

PREFIX = "/v1.1/voipstudio"
ROOT = Path(__file__).resolve().parents[1]

Call = Callable[[VoipStudio, Path], Awaitable[Any]]
Check = Callable[[Any, Path], None]


def _bulk_ok(*ids: int) -> Check:
    def check(result: Any, _: Path) -> None:
        assert isinstance(result, BulkResult)
        assert result.ok
        assert [(o.id, o.ok, o.error) for o in result] == [(i, True, None) for i in ids]

    return check


def _deleted_all(status: int) -> Check:
    def check(result: Any, _: Path) -> None:
        assert result == DeleteAllResult(status)
        assert result.accepted is (status == 202)

    return check


def _saved(name: str, content: bytes) -> Check:
    def check(result: Any, directory: Path) -> None:
        assert isinstance(result, DownloadResult)
        assert result.path == directory / name
        assert result.path.read_bytes() == content
        assert (result.size, result.sha256) == (len(content), sha256(content))
        assert files_in(directory) == [name]  # no temporary left

    return check


MP3 = b"ID3\x03" + bytes(range(256)) * 40
PCAP = b"\xd4\xc3\xb2\xa1" + b"\x00" * 500
CSV = b"id,duration\n1,61\n2,90\n"
FILTER_QUERY = (
    "filter=%5B%7B%22property%22%3A%22duration%22%2C%22operator%22%3A%22gt%22"
    "%2C%22value%22%3A60%7D%5D"
)

# (name, call, method, raw path + query, JSON body sent (None: no body), response, check)
Write = tuple[str, Call, str, str, Any, dict[str, Any], Check]


def _delete(name: str, call: Call, raw_path: str, *ids: int) -> Write:
    """A DELETE by ids, answered 204: every id reported deleted."""
    return (name, call, "DELETE", raw_path, None, {"status_code": 204}, _bulk_ok(*ids))


def _delete_all(name: str, call: Call, raw_path: str, status: int) -> Write:
    """A confirmed collection DELETE, answered ``status``."""
    return (name, call, "DELETE", raw_path, None, {"status_code": status}, _deleted_all(status))


def _download(
    name: str, call: Call, raw_path: str, content: bytes, content_type: str, saved_as: str
) -> Write:
    """A GET of a file, saved under ``saved_as`` in the directory the call was given."""
    response = {"content": content, "headers": {"content-type": content_type}}
    return (name, call, "GET", raw_path, None, response, _saved(saved_as, content))


PCAP_TYPE = "application/vnd.tcpdump.pcap"

WRITES: list[Write] = [
    (
        "update_cdrs",
        lambda vs, _: vs.cdrs.update(
            [{"id": 42, "labels": ["vip"]}, CdrPatch(id=43, info="called back")]
        ),
        "PATCH",
        "/cdrs",
        [{"id": 42, "labels": ["vip"]}, {"id": 43, "info": "called back"}],
        {"json": {"data": [{"id": 42}, {"id": 43}], "links": {}}},
        _bulk_ok(42, 43),
    ),
    (
        "update_voicemessages",
        lambda vs, _: vs.voicemessages.move([11, 12], folder="Work"),
        "PATCH",
        "/voicemessages",
        [{"id": 11, "folder": "Work"}, {"id": 12, "folder": "Work"}],
        {"json": {"data": [{"id": 11}, {"id": 12}], "links": {}}},
        _bulk_ok(11, 12),
    ),
    _delete(
        "delete_monitors", lambda vs, _: vs.monitors.delete([1, 2, 3]), "/monitors/1,2,3", 1, 2, 3
    ),
    _delete(
        "delete_voicemessages",
        lambda vs, _: vs.voicemessages.delete([4, 5]),
        "/voicemessages/4,5",
        4,
        5,
    ),
    _delete("delete_chatmsgs", lambda vs, _: vs.chatmsgs.delete([6, 7]), "/chatmsgs/6,7", 6, 7),
    _delete_all("delete_all_cdrs", lambda vs, _: vs.cdrs.delete_all(confirm=True), "/cdrs", 204),
    _delete_all(
        "delete_all_monitors", lambda vs, _: vs.monitors.delete_all(confirm=True), "/monitors", 202
    ),
    _delete_all(
        "delete_all_voicemessages",
        lambda vs, _: vs.voicemessages.delete_all(confirm=True),
        "/voicemessages",
        202,
    ),
    _delete_all(
        "delete_all_chatmsgs", lambda vs, _: vs.chatmsgs.delete_all(confirm=True), "/chatmsgs", 204
    ),
    _delete_all(
        "delete_all_statements",
        lambda vs, _: vs.statements.delete_all(confirm=True),
        "/statements",
        204,
    ),
    _download(
        "download_monitor_mp3",
        lambda vs, d: vs.monitors.download(9, d),
        "/monitors/9.mp3",
        MP3,
        "audio/mpeg",
        "monitor-9.mp3",
    ),
    _download(
        "download_voicemessage_mp3",
        lambda vs, d: vs.voicemessages.download(11, d),
        "/voicemessages/11.mp3",
        MP3,
        "audio/mpeg",
        "voicemessage-11.mp3",
    ),
    _download(
        "download_cdr_pcap",
        lambda vs, d: vs.cdrs.download_pcap(42, d),
        "/cdrs/42.pcap",
        PCAP,
        PCAP_TYPE,
        "cdr-42.pcap",
    ),
    _download(
        "download_msdr_pcap",
        lambda vs, d: vs.msdrs.download_pcap(8, d),
        "/msdrs/8.pcap",
        PCAP,
        PCAP_TYPE,
        "msdr-8.pcap",
    ),
    _download(
        "export_user_cdrs_csv",
        lambda vs, d: vs.users.export_cdrs_csv(
            123456, d, filter=[("duration", "gt", 60)], sort="calldate", direction="DESC"
        ),
        f"/users/123456/cdrs.csv?{FILTER_QUERY}&sort=calldate&dir=DESC",
        CSV,
        "text/csv",
        "user-123456-cdrs.csv",
    ),
]


def test_table_covers_the_15_write_and_download_operations() -> None:
    assert len({name for name, *_ in WRITES}) == 15


@pytest.mark.parametrize(
    ("call", "method", "raw_path", "body", "response", "check"),
    [pytest.param(*row[1:], id=row[0]) for row in WRITES],
)
async def test_write_operation(
    vs: VoipStudio,
    httpx_mock: HTTPXMock,
    tmp_path: Path,
    call: Call,
    method: str,
    raw_path: str,
    body: Any,
    response: dict[str, Any],
    check: Check,
) -> None:
    httpx_mock.add_response(**response)

    result = await call(vs, tmp_path)

    request = httpx_mock.get_request()
    assert request is not None
    assert request.method == method
    assert request.url.host == "l7api.com"
    assert request.url.raw_path.decode() == PREFIX + raw_path
    if body is None:
        assert request.content == b""
    else:
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content) == body
    check(result, tmp_path)


# -- more of the same verbs ----------------------------------------------------------------


async def test_voicemessages_update_takes_mappings_and_models(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": [], "links": {}})
    result = await vs.voicemessages.update(
        [{"id": 3, "folder": "Work"}, VoicemessagePatch(id=4, folder=2)]
    )
    request = httpx_mock.get_request()
    assert request is not None
    assert json.loads(request.content) == [{"id": 3, "folder": "Work"}, {"id": 4, "folder": 2}]
    assert [o.id for o in result.succeeded] == [3, 4]


async def test_a_404_chunk_is_narrowed_to_its_missing_ids(
    vs: VoipStudio, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=re.compile(r".*/monitors/1,.*"), status_code=204)
    not_found = {"status_code": 404, "json": {"message": "Not found"}}
    httpx_mock.add_response(url=re.compile(r".*/monitors/4,.*"), **not_found)
    for present in (4, 6):
        httpx_mock.add_response(url=re.compile(rf".*/monitors/{present}$"), status_code=204)
    httpx_mock.add_response(url=re.compile(r".*/monitors/5$"), **not_found)
    result = await vs.monitors.delete(range(1, 7), chunk_size=3, concurrency=1)
    paths = [r.url.raw_path.decode() for r in httpx_mock.get_requests()]
    assert paths == [
        PREFIX + "/monitors/1,2,3",
        PREFIX + "/monitors/4,5,6",
        *(PREFIX + f"/monitors/{i}" for i in (4, 5, 6)),
    ]
    assert [o.id for o in result.succeeded] == [1, 2, 3, 4, 6]
    assert [o.id for o in result.failed] == [5]
    assert all(isinstance(o.error, NotFoundError) for o in result.failed)


@pytest.mark.parametrize(
    ("open_stream", "raw_path"),
    [
        (lambda vs: vs.monitors.stream(9), "/monitors/9.mp3"),
        (lambda vs: vs.voicemessages.stream(11), "/voicemessages/11.mp3"),
        (lambda vs: vs.cdrs.stream_pcap(42), "/cdrs/42.pcap"),
        (lambda vs: vs.msdrs.stream_pcap(8), "/msdrs/8.pcap"),
    ],
    ids=["monitors.stream", "voicemessages.stream", "cdrs.stream_pcap", "msdrs.stream_pcap"],
)
async def test_stream(
    vs: VoipStudio,
    httpx_mock: HTTPXMock,
    open_stream: Callable[[VoipStudio], Any],
    raw_path: str,
) -> None:
    httpx_mock.add_response(content=MP3, headers={"content-type": "audio/mpeg"})
    received = b""
    async with open_stream(vs) as body:
        assert isinstance(body, DownloadStream)
        assert (body.status_code, body.content_length) == (200, len(MP3))
        assert body.content_type == "audio/mpeg"
        async for chunk in body:
            received += chunk
    assert received == MP3
    request = httpx_mock.get_request()
    assert request is not None
    assert (request.method, request.url.raw_path.decode()) == ("GET", PREFIX + raw_path)


async def test_download_to_a_file_path_reports_monotonic_progress(
    vs: VoipStudio, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    httpx_mock.add_response(content=MP3)
    seen: list[tuple[int, int | None]] = []
    dest = tmp_path / "call.mp3"
    result = await vs.monitors.download(9, dest, on_progress=lambda d, t: seen.append((d, t)))
    assert result.path == dest and dest.read_bytes() == MP3
    assert seen[-1] == (len(MP3), len(MP3))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


# -- nothing is sent -----------------------------------------------------------------------

DELETES: list[tuple[str, Callable[[VoipStudio], Any]]] = [
    ("monitors", lambda vs: vs.monitors.delete),
    ("voicemessages", lambda vs: vs.voicemessages.delete),
    ("chatmsgs", lambda vs: vs.chatmsgs.delete),
]
DELETE_ALLS: list[tuple[str, Callable[[VoipStudio], Any]]] = [
    ("cdrs", lambda vs: vs.cdrs.delete_all),
    ("monitors", lambda vs: vs.monitors.delete_all),
    ("voicemessages", lambda vs: vs.voicemessages.delete_all),
    ("chatmsgs", lambda vs: vs.chatmsgs.delete_all),
    ("statements", lambda vs: vs.statements.delete_all),
]


@pytest.mark.parametrize("verb", [v for _, v in DELETES], ids=[n for n, _ in DELETES])
@pytest.mark.parametrize("empty", [[], (), iter([])], ids=["list", "tuple", "iterator"])
async def test_delete_of_no_ids_sends_nothing(
    vs: VoipStudio, httpx_mock: HTTPXMock, verb: Callable[[VoipStudio], Any], empty: Any
) -> None:
    with pytest.raises(ValueError, match="ids is empty"):
        await verb(vs)(empty)
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("verb", [v for _, v in DELETE_ALLS], ids=[n for n, _ in DELETE_ALLS])
@pytest.mark.parametrize("confirm", [None, False, "yes", 1])
async def test_delete_all_without_confirm_sends_nothing(
    vs: VoipStudio, httpx_mock: HTTPXMock, verb: Callable[[VoipStudio], Any], confirm: Any
) -> None:
    kwargs = {} if confirm is None else {"confirm": confirm}
    with pytest.raises(ValueError, match="confirm=True"):
        await verb(vs)(**kwargs)
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("empty", [[], (), iter([])], ids=["list", "tuple", "iterator"])
async def test_empty_updates_raise_and_send_nothing(
    vs: VoipStudio, httpx_mock: HTTPXMock, empty: Any
) -> None:
    # As delete([]) (issue 22 item 7): an empty batch is refused, not a silent no-op.
    items = list(empty)
    with pytest.raises(ValueError, match="items is empty: nothing to update"):
        await vs.cdrs.update(iter(items))
    with pytest.raises(ValueError, match="items is empty: nothing to update"):
        await vs.voicemessages.update(iter(items))
    with pytest.raises(ValueError, match="ids is empty: nothing to move"):
        await vs.voicemessages.move(iter(items), folder="Work")
    assert httpx_mock.get_requests() == []


BAD_IDS: list[Any] = [True, False, 0, -1, "7", "", "..", 1.0, None]


def _one_id_calls(bad: Any, tmp_path: Path) -> list[Callable[[VoipStudio], Awaitable[Any]]]:
    return [
        lambda vs: vs.monitors.download(bad, tmp_path),
        lambda vs: vs.voicemessages.download(bad, tmp_path),
        lambda vs: vs.cdrs.download_pcap(bad, tmp_path),
        lambda vs: vs.msdrs.download_pcap(bad, tmp_path),
        lambda vs: vs.users.export_cdrs_csv(bad, tmp_path),
        lambda vs: vs.monitors.delete([1, bad]),
        lambda vs: vs.voicemessages.delete([bad]),
        lambda vs: vs.chatmsgs.delete([bad, 2]),
        lambda vs: vs.voicemessages.move([1, bad], folder="Work"),
        lambda vs: vs.cdrs.update([{"id": bad, "info": "x"}]),
        lambda vs: vs.voicemessages.update([{"id": bad, "folder": "Work"}]),
        lambda vs: vs.monitors.download_many([1, bad], tmp_path),
        lambda vs: vs.voicemessages.download_many([bad], tmp_path),
        lambda vs: vs.monitors.download(Monitor(id=bad, size=1), tmp_path),
        lambda vs: vs.monitors.download_many([Monitor(id=bad)], tmp_path),
    ]


def _stream_calls(bad: Any) -> list[Callable[[VoipStudio], Any]]:
    return [
        lambda vs: vs.monitors.stream(bad),
        lambda vs: vs.voicemessages.stream(bad),
        lambda vs: vs.cdrs.stream_pcap(bad),
        lambda vs: vs.msdrs.stream_pcap(bad),
    ]


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
async def test_bad_ids_are_rejected_before_sending(
    vs: VoipStudio, httpx_mock: HTTPXMock, tmp_path: Path, bad: Any
) -> None:
    for call in _one_id_calls(bad, tmp_path):
        with pytest.raises(ValueError, match="positive int"):
            await call(vs)
    for open_stream in _stream_calls(bad):
        with pytest.raises(ValueError, match="positive int"):
            open_stream(vs)  # at the call, before `async with`
    assert httpx_mock.get_requests() == []
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda vs: vs.monitors.delete("1,2"),
        lambda vs: vs.monitors.delete(7),
        lambda vs: vs.voicemessages.move("12", folder="Work"),
        lambda vs: vs.monitors.download_many("12", "."),
    ],
    ids=["delete-str", "delete-int", "move-str", "download_many-str"],
)
async def test_a_string_or_an_int_is_not_a_list_of_ids(
    vs: VoipStudio, httpx_mock: HTTPXMock, call: Callable[[VoipStudio], Any]
) -> None:
    with pytest.raises(TypeError):
        await call(vs)
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda vs, d: vs.voicemessages.move([1], folder=""), "folder"),
        (lambda vs, d: vs.voicemessages.move([1], folder=True), "folder"),
        (lambda vs, d: vs.cdrs.update([{"id": 1, "nosuch": 1}]), "unknown field"),
        (lambda vs, d: vs.cdrs.update([{"id": 1}]), "no field to update"),
        (
            lambda vs, d: vs.cdrs.update([{"id": 1, "info": "a"}, {"id": 1, "info": "b"}]),
            "different values",
        ),
        (lambda vs, d: vs.monitors.download(1, d, expected_size=-1), "expected_size"),
        (
            lambda vs, d: vs.users.export_cdrs_csv(1, d, filter=[("duration", "between", 1)]),
            "operator",
        ),
        (lambda vs, d: vs.users.export_cdrs_csv(1, d, direction="UP"), "direction"),
        (lambda vs, d: vs.users.export_cdrs_csv(1, d, sort=""), "sort"),
        (lambda vs, d: vs.monitors.delete([1], chunk_size=0), "chunk_size"),
        (lambda vs, d: vs.monitors.download_many([1], d, concurrency=0), "concurrency"),
    ],
)
async def test_other_bad_input_is_rejected_before_sending(
    vs: VoipStudio, httpx_mock: HTTPXMock, tmp_path: Path, call: Call, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await call(vs, tmp_path)
    assert httpx_mock.get_requests() == []
    assert files_in(tmp_path) == []


# -- recordings verified against the Monitor's size ------------------------------------------


async def test_a_monitor_model_brings_its_size(
    vs: VoipStudio, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    httpx_mock.add_response(content=MP3)
    result = await vs.monitors.download(Monitor(id=9, size=len(MP3)), tmp_path)
    assert result.path == tmp_path / "monitor-9.mp3" and result.size == len(MP3)
    request = httpx_mock.get_request()
    assert request is not None and request.url.raw_path.decode() == PREFIX + "/monitors/9.mp3"


@pytest.mark.parametrize(
    "download",
    [
        lambda vs, d: vs.monitors.download(Monitor(id=9, size=len(MP3) + 1), d),
        lambda vs, d: vs.monitors.download(9, d, expected_size=len(MP3) - 1),
        # An explicit expected_size wins over the model's.
        lambda vs, d: vs.monitors.download(Monitor(id=9, size=len(MP3)), d, expected_size=5),
        lambda vs, d: vs.voicemessages.download(11, d, expected_size=5),
    ],
    ids=["monitor-size", "expected_size", "override", "voicemessage"],
)
async def test_a_size_mismatch_raises_and_leaves_no_file(
    vs: VoipStudio, httpx_mock: HTTPXMock, tmp_path: Path, download: Call
) -> None:
    httpx_mock.add_response(content=MP3)
    with pytest.raises(IncompleteDownloadError):
        await download(vs, tmp_path)
    assert files_in(tmp_path) == []


async def test_stream_checks_the_monitor_size(vs: VoipStudio, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(content=MP3)
    async with vs.monitors.stream(Monitor(id=9, size=len(MP3) + 10)) as body:
        assert body.total == len(MP3) + 10
        with pytest.raises(IncompleteDownloadError):
            async for _ in body:
                pass


# -- against the in-process fake -------------------------------------------------------------


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=5, cdrs=50, monitors=12, voicemessages=8, chats=4, msdrs=10)


@pytest.fixture
async def live(fake: FakeVoipStudio) -> AsyncIterator[VoipStudio]:
    async with client_of(fake) as client:
        yield client


async def test_recording_verified_against_the_fake_monitor_size(
    fake: FakeVoipStudio, live: VoipStudio, tmp_path: Path
) -> None:
    monitor = await live.monitors.get(3)
    assert monitor.size == fake.expected_size("monitor_mp3", 3)
    result = await live.monitors.download(monitor, tmp_path)
    assert result.sha256 == fake.expected_sha256("monitor_mp3", 3)

    dest = tmp_path / "monitor-3.mp3"
    before = dest.read_bytes()
    monitor.size = fake.expected_size("monitor_mp3", 3) + 1  # stale metadata
    with pytest.raises(IncompleteDownloadError):
        await live.monitors.download(monitor, dest)
    assert dest.read_bytes() == before  # the complete file survives the failed re-download
    assert files_in(tmp_path) == ["monitor-3.mp3"]


async def test_cut_body_leaves_no_file(
    fake: FakeVoipStudio, live: VoipStudio, tmp_path: Path
) -> None:
    fake.cut_body("/monitors/4.mp3", after_bytes=1_000, times=5)
    with pytest.raises(IncompleteDownloadError):
        await live.monitors.download(4, tmp_path)
    assert files_in(tmp_path) == []


async def test_monitors_download_many_against_the_fake(
    fake: FakeVoipStudio, live: VoipStudio, tmp_path: Path
) -> None:
    models = [m async for m in live.monitors.iterate(max_items=3)]
    items: list[int | Monitor] = [*models, 7, 8]
    seen: dict[int, int] = {}

    result = await live.monitors.download_many(
        items, tmp_path, concurrency=2, on_progress=lambda i, d, t: seen.__setitem__(i, d)
    )

    ids = [m.id for m in models] + [7, 8]
    assert [o.id for o in result] == ids and result.ok
    for outcome in result:
        assert isinstance(outcome, ItemOutcome)
        assert outcome.value is not None and not outcome.value.skipped
        assert outcome.value.path == tmp_path / f"monitor-{outcome.id}.mp3"
        assert outcome.value.sha256 == fake.expected_sha256("monitor_mp3", outcome.id)
        assert hashlib.sha256(outcome.value.path.read_bytes()).hexdigest() == (
            fake.expected_sha256("monitor_mp3", outcome.id)
        )
        assert seen[outcome.id] == fake.expected_size("monitor_mp3", outcome.id)
    assert fake.max_in_flight <= 2

    fake.reset_log()
    again = await live.monitors.download_many(items, tmp_path)
    assert all(o.value is not None and o.value.skipped for o in again)
    assert fake.requests == []


async def test_voicemessages_download_many_against_the_fake(
    fake: FakeVoipStudio, live: VoipStudio, tmp_path: Path
) -> None:
    first = await live.voicemessages.get(1)
    result = await live.voicemessages.download_many([first, 2], tmp_path / "vm")
    assert result.ok and [o.id for o in result] == [1, 2]
    for outcome in result:
        assert outcome.value is not None
        assert outcome.value.path.name == f"voicemessage-{outcome.id}.mp3"
        assert outcome.value.sha256 == fake.expected_sha256("voicemessage_mp3", outcome.id)


async def test_download_many_names_files_and_reports_items_as_asked(
    fake: FakeVoipStudio, live: VoipStudio, tmp_path: Path
) -> None:
    landed: list[tuple[int, str]] = []

    async def on_item(outcome: ItemOutcome[DownloadResult]) -> None:
        assert outcome.ok and outcome.value is not None and outcome.value.path.is_file()
        landed.append((outcome.id, outcome.value.path.name))

    result = await live.monitors.download_many(
        [1, 2], tmp_path, file_name=lambda i: f"call-{i}.mp3", on_item=on_item
    )
    assert result.ok and sorted(landed) == [(1, "call-1.mp3"), (2, "call-2.mp3")]
    assert files_in(tmp_path) == ["call-1.mp3", "call-2.mp3"]
    for outcome in result:
        assert outcome.value is not None
        assert outcome.value.sha256 == fake.expected_sha256("monitor_mp3", outcome.id)


async def test_writes_change_the_fake(fake: FakeVoipStudio, live: VoipStudio) -> None:
    moved = await live.voicemessages.move([1, 2], folder="Archive")
    assert moved.ok
    rows = [fake.get("voicemessages", i) for i in (1, 2)]
    assert [row and row["folder"] for row in rows] == ["Archive"] * 2

    updated = await live.cdrs.update([{"id": 5, "labels": ["vip"], "info": "ok"}])
    assert updated.ok
    row = fake.get("cdrs", 5)
    assert row is not None and (row["labels"], row["info"]) == (["vip"], "ok")

    before = fake.count("monitors")
    deleted = await live.monitors.delete([1, 2, 999])  # 404 for the chunk, then one by one
    assert [o.ok for o in deleted] == [True, True, False]
    assert fake.count("monitors") == before - 2
    deleted = await live.monitors.delete([3, 4])
    assert deleted.ok and fake.count("monitors") == before - 4

    assert (await live.monitors.delete_all(confirm=True)).accepted
    assert fake.count("monitors") == 0
    assert not (await live.cdrs.delete_all(confirm=True)).accepted


async def test_csv_export_against_the_fake(
    fake: FakeVoipStudio, live: VoipStudio, tmp_path: Path
) -> None:
    user_id = fake.credentials.user_id
    result = await live.users.export_cdrs_csv(user_id, tmp_path, sort="id", direction="ASC")
    lines = result.path.read_text().splitlines()
    assert result.path.name == f"user-{user_id}-cdrs.csv"
    assert lines[0].startswith("id,")
    request = fake.requests[-1]
    assert (request.path, request.query) == (f"/users/{user_id}/cdrs.csv", "sort=id&dir=ASC")


# -- the public surface ----------------------------------------------------------------------


def test_new_types_are_exported() -> None:
    names = ("BulkResult", "ItemOutcome", "DeleteAllResult", "DownloadResult", "DownloadStream")
    for name in names:
        assert name in voipstudio_async.__all__
        assert getattr(voipstudio_async, name).__module__.startswith("voipstudio_async.")


TYPING_SNIPPET = """
from pathlib import Path
from typing import assert_type

from voipstudio_async import (
    BulkResult, DeleteAllResult, DownloadResult, DownloadStream, VoipStudio,
)
from voipstudio_async.types import Monitor


async def check(vs: VoipStudio, m: Monitor, d: Path) -> None:
    assert_type(await vs.cdrs.update([{"id": 1, "info": "x"}]), BulkResult[None])
    assert_type(await vs.voicemessages.update([{"id": 1, "folder": "W"}]), BulkResult[None])
    assert_type(await vs.voicemessages.move([1], folder="W"), BulkResult[None])
    assert_type(await vs.monitors.delete([1]), BulkResult[None])
    assert_type(await vs.voicemessages.delete([1]), BulkResult[None])
    assert_type(await vs.chatmsgs.delete([1]), BulkResult[None])
    assert_type(await vs.cdrs.delete_all(confirm=True), DeleteAllResult)
    assert_type(await vs.monitors.delete_all(confirm=True), DeleteAllResult)
    assert_type(await vs.voicemessages.delete_all(confirm=True), DeleteAllResult)
    assert_type(await vs.chatmsgs.delete_all(confirm=True), DeleteAllResult)
    assert_type(await vs.statements.delete_all(confirm=True), DeleteAllResult)
    assert_type(await vs.monitors.download(1, d), DownloadResult)
    assert_type(await vs.monitors.download(m, d), DownloadResult)
    assert_type(await vs.voicemessages.download(1, "x.mp3"), DownloadResult)
    assert_type(await vs.cdrs.download_pcap(1, d), DownloadResult)
    assert_type(await vs.msdrs.download_pcap(1, d), DownloadResult)
    assert_type(await vs.users.export_cdrs_csv(1, d, direction="DESC"), DownloadResult)
    many = await vs.monitors.download_many([1, m], d)
    assert_type(many, BulkResult[DownloadResult])
    assert_type(await vs.voicemessages.download_many([1], d), BulkResult[DownloadResult])
    async with vs.monitors.stream(m) as body:
        assert_type(body, DownloadStream)
    async with vs.voicemessages.stream(1) as body:
        assert_type(body, DownloadStream)
    async with vs.cdrs.stream_pcap(1) as body:
        assert_type(body, DownloadStream)
    async with vs.msdrs.stream_pcap(1) as body:
        assert_type(body, DownloadStream)
    for outcome in many:
        assert_type(outcome.value, DownloadResult | None)
"""


def test_write_verbs_are_precisely_typed(tmp_path: Path) -> None:
    mypy_strict(TYPING_SNIPPET, tmp_path)


# -- README: the operation table covers all 34 operations --------------------------------------
# (README's examples themselves run in tests/test_readme.py.)

README = ROOT / "README.md"


def test_readme_operation_table_covers_the_34_operations() -> None:
    text = README.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(GET|PATCH|DELETE) (/[^`]*)` \| `vs\.", text, re.M)
    assert len(rows) == len(set(rows)) == 34
