"""Bulk PATCH, id DELETE and collection DELETE engines: exact requests, per-item outcomes,
and nothing sent for invalid, empty or unconfirmed input."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

import httpx
import pytest
from _support import PREFIX, only_request
from pytest_httpx import HTTPXMock
from voipstudio_history_client.api.cdrs import delete_all_cdrs, update_cdrs
from voipstudio_history_client.api.chatmsgs import delete_all_chatmsgs, delete_chatmsgs
from voipstudio_history_client.api.monitors import delete_all_monitors, delete_monitors
from voipstudio_history_client.api.statements import delete_all_statements
from voipstudio_history_client.api.voicemessages import (
    delete_all_voicemessages,
    delete_voicemessages,
    update_voicemessages,
)
from voipstudio_history_client.models import CdrPatch, VoicemessagePatch

from voipstudio_async._bulk import (
    BulkResult,
    DeleteAllResult,
    ItemOutcome,
    bulk_delete,
    bulk_patch,
    delete_all,
)
from voipstudio_async._errors import (
    APIConnectionError,
    APITimeoutError,
    BulkOperationError,
    InternalServerError,
    NotFoundError,
)
from voipstudio_async._request.requester import Requester

# ``requester`` (pytest-httpx, no sleeping) comes from tests/conftest.py.


def _cdrs_kwargs(body: list[CdrPatch]) -> dict[str, Any]:
    return update_cdrs._get_kwargs(body=body)


def _vm_kwargs(body: list[VoicemessagePatch]) -> dict[str, Any]:
    return update_voicemessages._get_kwargs(body=body)


async def patch_cdrs(requester: Requester, items: Any, **options: Any) -> BulkResult[None]:
    return await bulk_patch(
        requester,
        items,
        build_kwargs=_cdrs_kwargs,
        model_cls=CdrPatch,
        path_template="/cdrs",
        **options,
    )


async def patch_voicemessages(requester: Requester, items: Any, **options: Any) -> BulkResult[None]:
    return await bulk_patch(
        requester,
        items,
        build_kwargs=_vm_kwargs,
        model_cls=VoicemessagePatch,
        path_template="/voicemessages",
        **options,
    )


# --- bulk PATCH ------------------------------------------------------------------------


async def test_update_cdrs_sends_one_json_array(
    requester: Requester, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": [{"id": 1}, {"id": 2}], "links": {}})
    result = await patch_cdrs(
        requester, [{"id": 1, "labels": ["vip"]}, CdrPatch(id=2, info="called back")]
    )
    request = only_request(httpx_mock)
    assert (request.method, request.url.raw_path) == ("PATCH", PREFIX + b"/cdrs")
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == [
        {"id": 1, "labels": ["vip"]},
        {"id": 2, "info": "called back"},
    ]
    assert result.outcomes == (ItemOutcome(id=1, ok=True), ItemOutcome(id=2, ok=True))
    assert result.ok and len(result.succeeded) == 2 and result.failed == []
    result.raise_for_failures()


async def test_update_voicemessages_sends_one_json_array(
    requester: Requester, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": {"id": 570, "folder": 2}, "links": {}})
    result = await patch_voicemessages(
        requester, [VoicemessagePatch(id=570, folder="Old"), {"id": 8192, "folder": 2}]
    )
    request = only_request(httpx_mock)
    assert (request.method, request.url.raw_path) == ("PATCH", PREFIX + b"/voicemessages")
    assert json.loads(request.content) == [{"id": 570, "folder": "Old"}, {"id": 8192, "folder": 2}]
    assert [o.id for o in result] == [570, 8192] and result.ok


async def test_thousand_items_with_failing_chunks_report_each_item_once_in_order(
    requester: Requester, httpx_mock: HTTPXMock
) -> None:
    ids = [1000 - i for i in range(1000)]  # not sorted: order must follow the input
    failing_500 = {ids[250], ids[720]}  # chunks 2 and 7
    timed_out = ids[480]  # chunk 4: ambiguous, must not be replayed
    seen_bodies: list[list[int]] = []

    def respond(request: httpx.Request) -> httpx.Response:
        chunk = [item["id"] for item in json.loads(request.content)]
        seen_bodies.append(chunk)
        if timed_out in chunk:
            raise httpx.ReadTimeout("read timed out", request=request)
        if failing_500 & set(chunk):
            return httpx.Response(500, json={"message": "boom"})
        return httpx.Response(200, json={"data": [], "links": {}})

    httpx_mock.add_callback(respond, is_reusable=True)
    result = await patch_cdrs(
        requester, [{"id": i, "info": f"note {i}"} for i in ids], chunk_size=100, concurrency=4
    )

    assert len(seen_bodies) == 10  # no chunk sent twice: 500 and timeout are not replayed
    assert sorted(i for body in seen_bodies for i in body) == sorted(ids)
    assert [o.id for o in result.outcomes] == ids
    failed_chunks = {2, 4, 7}
    for index, outcome in enumerate(result.outcomes):
        chunk = index // 100
        assert outcome.ok is (chunk not in failed_chunks)
        if chunk == 4:
            assert isinstance(outcome.error, APITimeoutError)
        elif chunk in failed_chunks:
            assert isinstance(outcome.error, InternalServerError)
        else:
            assert outcome.error is None
    assert len(result.failed) == 300 and len(result.succeeded) == 700
    with pytest.raises(BulkOperationError) as caught:
        result.raise_for_failures()
    assert caught.value.result is result
    assert "300 of 1000" in str(caught.value)


async def test_identical_duplicates_are_sent_once_and_reported_at_each_position(
    requester: Requester, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": [], "links": {}})
    result = await patch_voicemessages(
        requester,
        [{"id": 5, "folder": 1}, {"id": 6, "folder": 1}, VoicemessagePatch(id=5, folder=1)],
    )
    request = only_request(httpx_mock)
    assert json.loads(request.content) == [{"id": 5, "folder": 1}, {"id": 6, "folder": 1}]
    assert [o.id for o in result] == [5, 6, 5] and result.ok


async def test_empty_input_raises_and_sends_nothing(
    requester: Requester, httpx_mock: HTTPXMock
) -> None:
    with pytest.raises(ValueError, match="items is empty"):
        await patch_cdrs(requester, [])
    with pytest.raises(ValueError, match="items is empty"):
        await patch_voicemessages(requester, iter(()))
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"id": 0, "info": "x"}], "positive int"),
        ([{"id": -3, "info": "x"}], "positive int"),
        ([{"id": True, "info": "x"}], "positive int"),
        ([{"id": "7", "info": "x"}], "positive int"),
        ([{"info": "x"}], "positive int"),
        ([{"id": 1, "info": "x", "nope": 1}], "unknown field"),
        ([{"id": 1}], "no field to update"),
        ([{"id": 1, "info": "a"}, {"id": 1, "info": "b"}], "different values"),
    ],
)
async def test_invalid_cdr_items_send_nothing(
    requester: Requester, httpx_mock: HTTPXMock, items: list[Mapping[str, Any]], message: str
) -> None:
    # A valid item first: validation covers every item before anything is sent.
    with pytest.raises(ValueError, match=message):
        await patch_cdrs(requester, [{"id": 99, "info": "fine"}, *items])
    assert httpx_mock.get_requests() == []


async def test_invalid_voicemessage_items_send_nothing(
    requester: Requester, httpx_mock: HTTPXMock
) -> None:
    with pytest.raises(ValueError, match=r"item 1 \(id 2\): unknown field\(s\) \['is_new'\]") as c:
        await patch_voicemessages(
            requester, [{"id": 1, "folder": 1}, {"id": 2, "is_new": False}, {"id": 0}]
        )
    assert "item 2: id must be a positive int" in str(c.value)  # all problems are listed
    with pytest.raises(TypeError, match="expected a mapping"):
        await patch_voicemessages(requester, [CdrPatch(id=1, info="x")])
    with pytest.raises(ValueError, match="chunk_size"):
        await patch_voicemessages(requester, [{"id": 1, "folder": 1}], chunk_size=0)
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (httpx.ReadTimeout("read timed out"), APITimeoutError),
        (httpx.RemoteProtocolError("peer closed"), APIConnectionError),
    ],
    ids=["read-timeout", "connection-lost"],
)
async def test_patch_is_not_replayed_after_an_ambiguous_failure(
    requester: Requester,
    httpx_mock: HTTPXMock,
    error: httpx.TransportError,
    raised: type[Exception],
) -> None:
    httpx_mock.add_exception(error)
    result = await patch_cdrs(requester, [{"id": 1, "info": "x"}, {"id": 2, "info": "y"}])
    assert len(httpx_mock.get_requests()) == 1
    assert not result.ok
    assert all(isinstance(o.error, raised) for o in result.failed)
    assert [o.id for o in result.failed] == [1, 2]


async def test_patch_is_retried_when_it_was_certainly_not_sent(
    requester: Requester, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"))
    httpx_mock.add_response(json={"data": [], "links": {}})
    result = await patch_cdrs(requester, [{"id": 1, "info": "x"}])
    assert len(httpx_mock.get_requests()) == 2 and result.ok


# --- DELETE by ids -----------------------------------------------------------------------


class IdDelete(NamedTuple):
    collection: str
    build: Callable[[list[int]], dict[str, Any]]
    template: str

    def of(self, requester: Requester) -> Callable[..., Awaitable[BulkResult[None]]]:
        """``bulk_delete`` on this collection: call it with the ids (and options)."""
        return functools.partial(
            bulk_delete, requester, build_kwargs=self.build, path_template=self.template
        )


ID_DELETES = [
    IdDelete("monitors", lambda ids: delete_monitors._get_kwargs(id=ids), "/monitors/{id}"),
    IdDelete(
        "voicemessages", lambda ids: delete_voicemessages._get_kwargs(id=ids), "/voicemessages/{id}"
    ),
    IdDelete("chatmsgs", lambda ids: delete_chatmsgs._get_kwargs(ids=ids), "/chatmsgs/{ids}"),
]
each_id_delete = pytest.mark.parametrize("op", ID_DELETES, ids=lambda op: op.collection)


@each_id_delete
async def test_delete_ids_joins_ids_with_commas(
    requester: Requester, httpx_mock: HTTPXMock, op: IdDelete
) -> None:
    httpx_mock.add_response(status_code=204)
    result = await op.of(requester)([59, 197, 459])
    request = only_request(httpx_mock)
    assert (request.method, request.url.raw_path, request.content) == (
        "DELETE",
        PREFIX + f"/{op.collection}/59,197,459".encode(),
        b"",
    )
    assert [(o.id, o.ok) for o in result] == [(59, True), (197, True), (459, True)]


async def test_delete_chunks_long_id_lists_and_reports_per_id(
    requester: Requester, httpx_mock: HTTPXMock
) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        ids = request.url.raw_path.rsplit(b"/", 1)[1].split(b",")
        return httpx.Response(404 if b"150" in ids else 204)

    httpx_mock.add_callback(respond, is_reusable=True)
    ids = [*range(1, 251), 3]  # a repeated id is deleted once, reported twice
    result = await bulk_delete(
        requester,
        ids,
        build_kwargs=lambda chunk: delete_monitors._get_kwargs(id=chunk),
        path_template="/monitors/{id}",
    )
    paths = sorted(r.url.raw_path for r in httpx_mock.get_requests())
    chunks = (range(1, 101), range(101, 201), range(201, 251))
    # The chunk with the missing id is narrowed: its ids are deleted one by one.
    singles = [[i] for i in range(101, 201)]
    expected = sorted(
        PREFIX + b"/monitors/" + ",".join(map(str, chunk)).encode() for chunk in (*chunks, *singles)
    )
    assert paths == expected
    assert [o.id for o in result] == ids
    assert [o.id for o in result.failed] == [150]
    assert all(isinstance(o.error, NotFoundError) for o in result.failed)
    assert max(len(p) for p in paths) < 500


@each_id_delete
async def test_delete_of_no_ids_sends_nothing(
    requester: Requester, httpx_mock: HTTPXMock, op: IdDelete
) -> None:
    delete = op.of(requester)
    for empty in ([], (), iter([])):
        with pytest.raises(ValueError, match="empty"):
            await delete(empty)
    with pytest.raises(TypeError):
        await delete("1,2")
    for bad in ([True], [0], [1, -2], [1.0]):
        with pytest.raises(ValueError, match="positive int"):
            await delete(bad)
    assert httpx_mock.get_requests() == []


async def test_delete_refuses_a_builder_that_drops_the_ids(
    requester: Requester, httpx_mock: HTTPXMock
) -> None:
    result = await bulk_delete(
        requester,
        [1, 2],
        build_kwargs=lambda _: delete_all_monitors._get_kwargs(),
        path_template="/monitors/{id}",
    )
    assert httpx_mock.get_requests() == []
    assert all(isinstance(o.error, RuntimeError) for o in result.failed) and len(result) == 2


# --- collection-wide DELETE --------------------------------------------------------------

DELETE_ALLS: dict[str, Callable[[], dict[str, Any]]] = {
    "cdrs": delete_all_cdrs._get_kwargs,
    "monitors": delete_all_monitors._get_kwargs,
    "voicemessages": delete_all_voicemessages._get_kwargs,
    "chatmsgs": delete_all_chatmsgs._get_kwargs,
    "statements": delete_all_statements._get_kwargs,
}


async def delete_all_of(requester: Requester, collection: str, **options: Any) -> DeleteAllResult:
    return await delete_all(
        requester,
        build_kwargs=DELETE_ALLS[collection],
        path_template=f"/{collection}",
        **options,
    )


@pytest.mark.parametrize("collection", DELETE_ALLS)
@pytest.mark.parametrize("status", [202, 204])
async def test_delete_all_with_confirm_sends_one_delete(
    requester: Requester, httpx_mock: HTTPXMock, collection: str, status: int
) -> None:
    httpx_mock.add_response(status_code=status)
    result = await delete_all_of(requester, collection, confirm=True)
    request = only_request(httpx_mock)
    assert (request.method, request.url.raw_path, request.content) == (
        "DELETE",
        PREFIX + f"/{collection}".encode(),
        b"",
    )
    assert result == DeleteAllResult(status)
    assert result.accepted is (status == 202)


@pytest.mark.parametrize("collection", DELETE_ALLS)
async def test_delete_all_without_confirm_sends_nothing(
    requester: Requester, httpx_mock: HTTPXMock, collection: str
) -> None:
    for confirm in (False, "yes", 1):
        with pytest.raises(ValueError, match="confirm=True"):
            await delete_all_of(requester, collection, confirm=confirm)
    with pytest.raises(ValueError, match="confirm=True"):
        await delete_all_of(requester, collection)
    assert httpx_mock.get_requests() == []


async def test_delete_all_is_not_replayed_after_a_read_timeout(
    requester: Requester, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("read timed out"))
    with pytest.raises(APITimeoutError):
        await delete_all_of(requester, "cdrs", confirm=True)
    assert len(httpx_mock.get_requests()) == 1


async def test_delete_all_is_not_replayed_after_a_server_error(
    requester: Requester, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(status_code=503)
    with pytest.raises(InternalServerError):
        await delete_all(
            requester,
            build_kwargs=delete_all_cdrs._get_kwargs,
            path_template="/cdrs",
            confirm=True,
        )
    assert len(httpx_mock.get_requests()) == 1
