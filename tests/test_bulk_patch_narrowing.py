"""A PATCH chunk answered 404 (one unknown id) is narrowed as ``delete`` narrows: its items
are sent one by one and only the unknown ids fail. This rests on the server applying
nothing of a PATCH it answers 404, which the fake does (docs/design.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _support import client_of

from voipstudio_async import NotFoundError, VoipStudio
from voipstudio_async.testing import FakeVoipStudio

UNKNOWN = 999_999


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=6, cdrs=12, voicemessages=12)


def _move(ids: list[int]) -> Callable[[VoipStudio, int], Any]:
    return lambda vs, chunk: vs.voicemessages.move(ids, folder="Work", chunk_size=chunk)


def _update_vm(ids: list[int]) -> Callable[[VoipStudio, int], Any]:
    items = [{"id": i, "folder": "Work"} for i in ids]
    return lambda vs, chunk: vs.voicemessages.update(items, chunk_size=chunk)


def _update_cdr(ids: list[int]) -> Callable[[VoipStudio, int], Any]:
    items = [{"id": i, "info": "checked"} for i in ids]
    return lambda vs, chunk: vs.cdrs.update(items, chunk_size=chunk)


CALLS = {
    "voicemessages.move": (_move, "voicemessages", "folder", "Work"),
    "voicemessages.update": (_update_vm, "voicemessages", "folder", "Work"),
    "cdrs.update": (_update_cdr, "cdrs", "info", "checked"),
}


@pytest.mark.parametrize("chunk", [2, 3, 100])
@pytest.mark.parametrize("where", ["first", "middle", "last", "two"])
@pytest.mark.parametrize("call", list(CALLS))
async def test_one_unknown_id_fails_alone(
    fake: FakeVoipStudio, call: str, where: str, chunk: int
) -> None:
    make, kind, field, value = CALLS[call]
    known = fake.ids(kind)[:5]
    unknown = [UNKNOWN, UNKNOWN + 1] if where == "two" else [UNKNOWN]
    at = {"first": 0, "middle": 2, "last": 5, "two": 1}[where]
    ids = [*known[:at], unknown[0], *known[at:], *unknown[1:]]
    async with client_of(fake) as vs:
        result = await make(ids)(vs, chunk)
    assert [o.id for o in result] == ids
    for outcome in result:
        if outcome.id in unknown:
            assert not outcome.ok and isinstance(outcome.error, NotFoundError)
        else:
            assert outcome.ok, outcome.error
    for ident in known:
        assert (fake.get(kind, ident) or {})[field] == value


async def test_the_fake_applies_nothing_of_a_patch_it_answers_404(fake: FakeVoipStudio) -> None:
    creds = fake.credentials
    first = next(r["id"] for r in fake.records("voicemessages") if r["folder"] != "Work")
    before = fake.get("voicemessages", first)
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url=fake.base_url, auth=(str(creds.user_id), creds.api_key)
    ) as http:
        response = await http.patch(
            fake.base_url + "/voicemessages",
            json=[{"id": first, "folder": "Work"}, {"id": UNKNOWN, "folder": "Work"}],
        )
    assert response.status_code == 404
    assert fake.get("voicemessages", first) == before
