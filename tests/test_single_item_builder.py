"""Single objects (``get()``) use the walks' fast item builder, equal to ``from_dict``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from voipstudio_history_client.models import Cdr, CdrItem, Monitor, MonitorItem

from voipstudio_async import APIResponseValidationError, VoipStudio
from voipstudio_async._request.decode import _data_builders

BASE = "https://l7api.com/v1.2/voipstudio"


def _serving(bodies: list[dict[str, Any]]) -> VoipStudio:
    answers = iter(bodies)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(answers))

    return VoipStudio(1, "k", base_url=BASE, transport=httpx.MockTransport(handler))


def _cdr(ident: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "calldate": "2026-01-01 10:00:00",
        "type": "O",
        "src": "+4420",
        "duration": 12,
        "charge": 0.25,
        **extra,
    }


async def test_get_builds_items_fast_after_the_first_and_equal_to_from_dict() -> None:
    bodies = [{"data": _cdr(1)}, {"data": _cdr(2, unknown="kept")}, {"data": _cdr(3)}]
    async with _serving([dict(b) for b in bodies]) as vs:
        got = [await vs.cdrs.get(i) for i in (1, 2, 3)]
    assert _data_builders[CdrItem.from_dict] is not None
    assert got == [CdrItem.from_dict(body).data for body in bodies]
    assert got[1].additional_properties == {"unknown": "kept"}
    assert all(type(cdr) is Cdr for cdr in got)


async def test_every_get_by_id_model_gets_a_builder() -> None:
    # One model of another collection, so the lookup is per envelope, not shared.
    monitor = {"id": 5, "cdr_id": 9, "calldate": "2026-01-01 10:00:00"}
    async with _serving([{"data": monitor}, {"data": monitor}]) as vs:
        first = await vs.monitors.get(5)
        second = await vs.monitors.get(5)
    assert _data_builders[MonitorItem.from_dict] is not None
    assert first == second == MonitorItem.from_dict({"data": monitor}).data
    assert type(second) is Monitor


async def test_drift_after_the_builder_is_chosen_is_reported_with_the_whole_body() -> None:
    broken = {"data": {"calldate": "2026-01-01 10:00:00"}}  # no id
    async with _serving([{"data": _cdr(1)}, {"data": _cdr(2)}, broken]) as vs:
        await vs.cdrs.get(1)
        await vs.cdrs.get(2)
        with pytest.raises(APIResponseValidationError) as caught:
            await vs.cdrs.get(3)
    assert "does not match the spec (KeyError" in str(caught.value)
    assert caught.value.body == broken
