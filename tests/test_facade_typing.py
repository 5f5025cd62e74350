"""Public return types are the precise generated models (checked by mypy --strict)."""

from __future__ import annotations

from pathlib import Path

from _support import mypy_strict

SNIPPET = """
from collections.abc import AsyncIterator
from typing import assert_type

from voipstudio_async import Page, VoipStudio
from voipstudio_async.types import (
    CallTrackingCdr, CallTrackingNumber, Cdr, CdrDictionary, CdrNote, Chat, MediaSessionDictionary,
    Monitor, Msdr, MsdrDictionary, SmsDictionary, Voicemessage,
)


async def check(vs: VoipStudio) -> None:
    assert_type(await vs.cdrs.get(1), Cdr)
    assert_type(await vs.cdrs.list(), Page[Cdr])
    assert_type(vs.cdrs.iterate(), AsyncIterator[Cdr])
    assert_type(vs.cdrs.iterate_consistent(), AsyncIterator[Cdr])
    assert_type(await vs.cdrs.notes(1), list[CdrNote])
    assert_type(await vs.cdrs.trace(1), str)
    assert_type(await vs.cdrs.dictionaries(), CdrDictionary)
    assert_type(await vs.cdrs.calltracking_list(), Page[CallTrackingCdr])
    assert_type(vs.cdrs.calltracking_iterate(), AsyncIterator[CallTrackingCdr])
    assert_type(await vs.monitors.get(1), Monitor)
    assert_type(await vs.msdrs.get(1), Msdr)
    assert_type(await vs.msdrs.trace(1), str)
    assert_type(await vs.msdrs.dictionaries(), MsdrDictionary)
    assert_type(await vs.chats.get(1), Chat)
    assert_type(await vs.voicemessages.get(1), Voicemessage)
    assert_type(await vs.calltracking.list(), Page[CallTrackingNumber])
    assert_type(await vs.sms.dictionaries(), SmsDictionary)
    assert_type(await vs.mediasessions.dictionaries(), MediaSessionDictionary)
    page = await vs.monitors.list()
    assert_type(page.items, list[Monitor])
    await vs.cdrs.list(filter=[("duration", "gt", 60)], sort="calldate", direction="DESC")
"""


def test_public_return_types_are_precise(tmp_path: Path) -> None:
    mypy_strict(SNIPPET, tmp_path)
