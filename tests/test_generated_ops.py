"""Each kind of generated operation sends exactly the request the API expects.

These call the generated functions directly (no facade), through pytest-httpx, to pin
what the spec and the custom template produce: raw paths, query strings, bodies and
parsed results.
"""

from __future__ import annotations

import json

import httpx
from pytest_httpx import HTTPXMock
from voipstudio_history_client import Client
from voipstudio_history_client.api.cdrs import get_cdr, get_cdr_trace, list_cdrs
from voipstudio_history_client.api.chatmsgs import delete_chatmsgs
from voipstudio_history_client.api.monitors import (
    delete_all_monitors,
    delete_monitors,
    download_monitor_mp3,
)
from voipstudio_history_client.api.voicemessages import update_voicemessages
from voipstudio_history_client.models import CdrItem, CdrList, VoicemessagePatch
from voipstudio_history_client.types import File

BASE = "https://l7api.com/v1.1/voipstudio"
CDR = {"id": 42, "calldate": "2026-01-02 03:04:05", "type": "O", "disposition": "ANSWERED"}


def client() -> Client:
    return Client(base_url=BASE)


async def test_collection_get_sends_page_limit_filter_sort_dir(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": [CDR], "total": 1})
    flt = json.dumps([{"property": "duration", "operator": "gt", "value": 60}])
    response = await list_cdrs.asyncio_detailed(
        client=client(), page=2, limit=50, filter_=flt, sort="calldate", dir_="DESC"
    )
    request = httpx_mock.get_request()
    assert request is not None
    assert request.method == "GET"
    assert request.url.raw_path == (
        b"/v1.1/voipstudio/cdrs?page=2&limit=50"
        b"&filter=%5B%7B%22property%22%3A+%22duration%22%2C+%22operator%22%3A+%22gt%22"
        b"%2C+%22value%22%3A+60%7D%5D&sort=calldate&dir=DESC"
    )
    assert json.loads(request.url.params["filter"]) == json.loads(flt)
    assert isinstance(response.parsed, CdrList)
    assert response.parsed.total == 1
    assert response.parsed.data[0].type_ == "O"


async def test_collection_get_sends_no_parameter_it_was_not_given(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": [], "total": 0})
    await list_cdrs.asyncio_detailed(client=client())
    request = httpx_mock.get_request()
    assert request is not None
    assert request.url.raw_path == b"/v1.1/voipstudio/cdrs"


async def test_item_get_parses_envelope(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": CDR, "links": {}})
    parsed = await get_cdr.asyncio(42, client=client())
    request = httpx_mock.get_request()
    assert request is not None
    assert (request.method, request.url.raw_path) == ("GET", b"/v1.1/voipstudio/cdrs/42")
    assert isinstance(parsed, CdrItem)
    assert parsed.data.id == 42 and parsed.data.calldate == "2026-01-02 03:04:05"


async def test_binary_get_returns_bytes_and_can_stream(httpx_mock: HTTPXMock) -> None:
    audio = b"ID3" + bytes(range(256)) * 64
    httpx_mock.add_response(content=audio, headers={"Content-Type": "audio/mpeg"})
    parsed = await download_monitor_mp3.asyncio(7, client=client())
    assert isinstance(parsed, File)
    assert parsed.payload.read() == audio

    httpx_mock.add_response(stream=httpx.ByteStream(audio), headers={"Content-Type": "audio/mpeg"})
    async with download_monitor_mp3.asyncio_stream(7, client=client()) as response:
        assert not response.is_stream_consumed
        received = b"".join([chunk async for chunk in response.aiter_bytes()])
    assert received == audio
    requests = httpx_mock.get_requests()
    assert [r.url.raw_path for r in requests] == [b"/v1.1/voipstudio/monitors/7.mp3"] * 2


async def test_text_get_returns_str(httpx_mock: HTTPXMock) -> None:
    trace = "INVITE sip:44203846719@example SIP/2.0\r\n"
    httpx_mock.add_response(text=trace, headers={"Content-Type": "text/plain"})
    parsed = await get_cdr_trace.asyncio(58, client=client())
    request = httpx_mock.get_request()
    assert request is not None
    assert request.url.raw_path == b"/v1.1/voipstudio/cdrs/58.trace"
    assert parsed == trace


async def test_bulk_patch_sends_json_array_of_id_objects(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"data": {"id": 570, "folder": 2}, "links": {}})
    body = [VoicemessagePatch(id=570, folder="Old"), VoicemessagePatch(id=8192, folder=2)]
    response = await update_voicemessages.asyncio_detailed(client=client(), body=body)
    request = httpx_mock.get_request()
    assert request is not None
    assert (request.method, request.url.raw_path) == ("PATCH", b"/v1.1/voipstudio/voicemessages")
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == [{"id": 570, "folder": "Old"}, {"id": 8192, "folder": 2}]
    assert response.status_code == 200


async def test_ids_delete_joins_ids_with_raw_commas(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=204)
    httpx_mock.add_response(status_code=204)
    first = await delete_monitors.asyncio_detailed([59, 197, 459], client=client())
    second = await delete_chatmsgs.asyncio_detailed([38], client=client())
    paths = [(r.method, r.url.raw_path) for r in httpx_mock.get_requests()]
    assert paths == [
        ("DELETE", b"/v1.1/voipstudio/monitors/59,197,459"),
        ("DELETE", b"/v1.1/voipstudio/chatmsgs/38"),
    ]
    assert first.status_code == second.status_code == 204


async def test_collection_delete_reports_202(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=202)
    response = await delete_all_monitors.asyncio_detailed(client=client())
    request = httpx_mock.get_request()
    assert request is not None
    assert (request.method, request.url.raw_path) == ("DELETE", b"/v1.1/voipstudio/monitors")
    assert request.content == b""
    assert response.status_code == 202 and response.parsed is None
