"""``sort=`` takes a plain string, checked against the spec's per-resource enum before sending."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpx import HTTPXMock

from voipstudio_async import VoipStudio

Call = Callable[[VoipStudio, str], Any]
EMPTY = {"json": {"data": [], "total": 0}}

LISTS: list[tuple[str, Call, str]] = [
    ("/cdrs", lambda vs, s: vs.cdrs.list(sort=s), "calldate"),
    ("/cdrs/calltracking", lambda vs, s: vs.cdrs.calltracking_list(sort=s), "root_live_id"),
    ("/calltracking/cdrs", lambda vs, s: vs.calltracking.list(sort=s), "e164"),
    ("/monitors", lambda vs, s: vs.monitors.list(sort=s), "timestamp"),
    ("/msdrs", lambda vs, s: vs.msdrs.list(sort=s), "media_session_id"),
    ("/chats", lambda vs, s: vs.chats.list(sort=s), "visitor_city"),
    ("/voicemessages", lambda vs, s: vs.voicemessages.list(sort=s), "origtime"),
]


@pytest.mark.parametrize(("path", "call", "field"), LISTS)
async def test_a_field_of_the_resource_is_sent_as_a_plain_string(
    vs: VoipStudio, httpx_mock: HTTPXMock, path: str, call: Call, field: str
) -> None:
    httpx_mock.add_response(**EMPTY)
    await call(vs, field)
    (request,) = httpx_mock.get_requests()
    assert request.url.path.endswith(path)
    assert request.url.params["sort"] == field


@pytest.mark.parametrize(("path", "call", "field"), LISTS)
@pytest.mark.parametrize("bad", ["nosuch", "", "type_", "labels", "Calldate"])
async def test_other_names_are_refused_before_sending(
    vs: VoipStudio, httpx_mock: HTTPXMock, path: str, call: Call, field: str, bad: str
) -> None:
    # "labels" is a list (no resource sorts by it); "Calldate" is not a field name.
    with pytest.raises(ValueError, match=r"sort must be one of \[.*'id'"):
        await call(vs, bad)
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("cdr_field", ["calldate", "billsec", "is_root"])
async def test_call_tracking_numbers_are_not_sorted_by_call_record_fields(
    vs: VoipStudio, httpx_mock: HTTPXMock, cdr_field: str
) -> None:
    # /calltracking/cdrs lists tracked numbers (the reference's example), not calls.
    with pytest.raises(ValueError, match=r"sort must be one of \[.*'e164'"):
        await vs.calltracking.list(sort=cdr_field)
    assert httpx_mock.get_requests() == []


async def test_iterators_and_the_csv_export_check_sort_too(
    vs: VoipStudio, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="sort must be one of"):
        vs.cdrs.iterate(sort="duraton")
    with pytest.raises(ValueError, match="sort must be one of"):
        await vs.users.export_cdrs_csv(1, tmp_path, sort="duraton")
    assert httpx_mock.get_requests() == []
