"""Ids the API cannot hold (above 2**63-1) and filter properties a collection does not
have are refused locally, before anything is sent, naming what is valid."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _support import client_of

from voipstudio_async import NotFoundError, VoipStudio
from voipstudio_async.testing import FakeVoipStudio

TOO_BIG = [2**63, 2**64, 10**30]
LARGEST = 2**63 - 1

ID_CALLS: dict[str, Callable[[VoipStudio, int, Path], Any]] = {
    "cdrs.get": lambda vs, i, tmp: vs.cdrs.get(i),
    "monitors.get": lambda vs, i, tmp: vs.monitors.get(i),
    "voicemessages.get": lambda vs, i, tmp: vs.voicemessages.get(i),
    "chats.get": lambda vs, i, tmp: vs.chats.get(i),
    "msdrs.get": lambda vs, i, tmp: vs.msdrs.get(i),
    "monitors.delete": lambda vs, i, tmp: vs.monitors.delete([1, i]),
    "monitors.download": lambda vs, i, tmp: vs.monitors.download(i, tmp),
    "cdrs.update": lambda vs, i, tmp: vs.cdrs.update([{"id": i, "info": "x"}]),
    "voicemessages.move": lambda vs, i, tmp: vs.voicemessages.move([i], folder="INBOX"),
}


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=4, cdrs=20, monitors=3, voicemessages=3, chats=2, msdrs=2)


@pytest.mark.parametrize("too_big", TOO_BIG)
@pytest.mark.parametrize("call", list(ID_CALLS))
async def test_an_id_above_the_largest_is_refused_before_sending(
    fake: FakeVoipStudio, tmp_path: Path, call: str, too_big: int
) -> None:
    async with client_of(fake) as vs:
        with pytest.raises(ValueError, match=r"2\*\*63-1|between") as caught:
            await ID_CALLS[call](vs, too_big, tmp_path)
    assert str(too_big) in str(caught.value)
    assert fake.requests == []


@pytest.mark.parametrize("call", ["cdrs.get", "monitors.get", "voicemessages.get"])
async def test_the_largest_id_is_still_sent(
    fake: FakeVoipStudio, tmp_path: Path, call: str
) -> None:
    async with client_of(fake) as vs:
        with pytest.raises(NotFoundError):
            await ID_CALLS[call](vs, LARGEST, tmp_path)
    assert len(fake.requests) == 1


WALKS: dict[str, Callable[[VoipStudio, Any], Any]] = {
    "cdrs.list": lambda vs, f: vs.cdrs.list(filter=f),
    "cdrs.iterate": lambda vs, f: vs.cdrs.iterate(filter=f),
    "cdrs.iterate_consistent": lambda vs, f: vs.cdrs.iterate_consistent(filter=f),
    "monitors.list": lambda vs, f: vs.monitors.list(filter=f),
    "voicemessages.iterate": lambda vs, f: vs.voicemessages.iterate(filter=f),
    "chats.list": lambda vs, f: vs.chats.list(filter=f),
    "msdrs.list": lambda vs, f: vs.msdrs.list(filter=f),
    "users.export_cdrs_csv": lambda vs, f: vs.users.export_cdrs_csv(1, "unused.csv", filter=f),
}


async def _called(result: Any, *, walk: bool = False) -> None:
    """Await a call; a walk (refused at the call) is run through when ``walk``."""
    if hasattr(result, "__await__"):
        await result
    elif walk:
        [item async for item in result]


@pytest.mark.parametrize(
    "conditions",
    [
        [("no_such_field", "eq", 1)],
        [("duration", "gt", 5), ("Duration", "gt", 5)],  # names are case-sensitive
        [("type_", "eq", "O")],  # the Python attribute, not the JSON name
    ],
)
@pytest.mark.parametrize("walk", list(WALKS))
async def test_an_unknown_filter_property_is_refused_naming_the_fields(
    fake: FakeVoipStudio, walk: str, conditions: list[Any]
) -> None:
    async with client_of(fake) as vs:
        with pytest.raises(ValueError, match=r"filter property must be one of id, ") as caught:
            await _called(WALKS[walk](vs, conditions))
    assert repr(conditions[-1][0]) in str(caught.value)
    assert fake.requests == []


@pytest.mark.parametrize("walk", ["cdrs.list", "cdrs.iterate", "cdrs.iterate_consistent"])
async def test_known_filter_properties_are_sent(fake: FakeVoipStudio, walk: str) -> None:
    conditions = [("duration", "gte", 0), ("type", "eq", "O")]
    async with client_of(fake) as vs:
        await _called(WALKS[walk](vs, conditions), walk=True)
    assert fake.requests
