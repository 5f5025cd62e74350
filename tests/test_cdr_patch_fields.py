"""``vs.cdrs.update()`` sends any Cdr property under its API name and refuses the rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpx import HTTPXMock
from voipstudio_history_client.models import CdrPatch

from voipstudio_async import VoipStudio

SPEC = Path(__file__).resolve().parents[1] / "openapi" / "history.yaml"
OK = {"json": {"data": {"id": 1}, "links": {}}}


def cdr_properties() -> set[str]:
    spec: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return set(spec["components"]["schemas"]["Cdr"]["properties"])


READ_ONLY = ["call_id", "live_id", "parent_live_id", "calldate", "duration", "billsec", "charge",
             "rate", "nb_notes"]  # fmt: skip


@pytest.mark.parametrize("field", READ_ONLY)
async def test_what_the_server_records_is_refused_before_sending(
    vs: VoipStudio, httpx_mock: HTTPXMock, field: str
) -> None:
    # The spec marks them readOnly (openapi/notes.md §9); the fake answers 400 as well.
    with pytest.raises(ValueError, match=rf"unknown field\(s\) \['{field}'\]"):
        await vs.cdrs.update([{"id": 1, field: 5}])
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    "item",
    [
        {"id": 1, "type": "O"},
        {"id": 1, "disposition": "ANSWERED", "t_cause": "Normal Clearing"},
        CdrPatch(id=1, type_="O"),
    ],
)
async def test_any_cdr_property_is_sent_under_its_api_name(
    vs: VoipStudio, httpx_mock: HTTPXMock, item: Any
) -> None:
    httpx_mock.add_response(method="PATCH", **OK)
    result = await vs.cdrs.update([item])
    assert result.ok
    (request,) = httpx_mock.get_requests()
    sent = json.loads(request.content)
    assert sent[0]["id"] == 1 and "type_" not in sent[0]
    assert set(sent[0]) <= cdr_properties()


@pytest.mark.parametrize(
    ("item", "unknown"),
    [
        ({"id": 1, "type_": "O"}, "type_"),  # the Python attribute, not the API's name
        ({"id": 1, "labls": ["vip"]}, "labls"),
        ({"id": 1, "info": "x", "additional_properties": {}}, "additional_properties"),
    ],
)
async def test_names_that_are_not_cdr_properties_are_refused_before_sending(
    vs: VoipStudio, httpx_mock: HTTPXMock, item: dict[str, Any], unknown: str
) -> None:
    with pytest.raises(ValueError, match=rf"unknown field\(s\) \['{unknown}'\]"):
        await vs.cdrs.update([item])
    assert httpx_mock.get_requests() == []


def test_the_allowed_names_are_the_spec_s_writable_cdr_properties() -> None:
    from voipstudio_history_client.models import CdrPatch

    from voipstudio_async._bulk import patch_model_fields

    spec: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    patch, cdr = schemas["CdrPatch"]["properties"], schemas["Cdr"]["properties"]
    writable = [name for name, prop in cdr.items() if not prop.get("readOnly")]
    assert patch_model_fields(CdrPatch) == {"id", *writable}
    # Every Cdr property a client may write (not a closed list of candidates), and only those.
    assert list(patch) == ["id", *writable]
    for name in writable:
        assert patch[name] == cdr[name], name
    assert schemas["CdrPatch"]["additionalProperties"] is False
