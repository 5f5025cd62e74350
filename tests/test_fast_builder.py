"""The walks' fast item builder is in use for every list model, resolved annotations included."""

from __future__ import annotations

import datetime
import logging
import re
import subprocess
import sys
from typing import Any

import attrs
import pytest
import voipstudio_history_client.models as models

from voipstudio_async._fields import json_names, type_names
from voipstudio_async._request.decode import _PLAIN_TYPES, _make_builder


def _item_classes() -> dict[str, type]:
    """Every generated model's item class declared as ``data: list[Item]``."""
    found: dict[str, type] = {}
    for name in dir(models):
        cls = getattr(models, name)
        if isinstance(cls, type) and attrs.has(cls) and "data" in attrs.fields_dict(cls):
            declared = attrs.fields_dict(cls)["data"].type
            match = re.search(r"list\[(\w+)\]", str(declared))
            # A list of scalars (`{"data": ["a", "b"]}`) has no item model to build.
            item = getattr(models, match.group(1), None) if match else None
            if isinstance(item, type) and attrs.has(item):
                found[name] = item
    return found


ITEMS = _item_classes()


def test_the_list_models_are_found() -> None:
    assert {"CdrList", "MonitorList", "VoicemessageList", "ChatList", "MsdrList"} <= set(ITEMS)


@pytest.mark.parametrize("envelope", sorted(ITEMS))
def test_the_fast_builder_is_in_use_for_every_list_model(envelope: str) -> None:
    item = ITEMS[envelope]
    unsupported = [
        f"{f.name} ({f.type})"
        for f in attrs.fields(item)
        if f.init and not (type_names(f.type) or {"?"}) <= _PLAIN_TYPES
    ]
    assert _make_builder(item) is not None, (
        f"{item.__name__} (the items of {envelope}) is built by from_dict (walks 3x slower):"
        f" field(s) {', '.join(unsupported) or '?'} have a type the fast builder does not"
        " build. In the spec, prefer a plain type (a date as `type: string` with"
        " `x-voipstudio-date: true`, not `format: date-time`); or teach"
        " voipstudio_async/_request/decode._make_builder that type."
    )


# Run apart: resolving types changes the classes for the rest of the process.
_RESOLVED = """
import attrs, voipstudio_history_client.models as m
from voipstudio_async._request.decode import _data_item_class, _make_builder
attrs.resolve_types(m.Cdr)
attrs.resolve_types(m.CdrList, localns={"Cdr": m.Cdr})
assert not isinstance(attrs.fields_dict(m.Cdr)["calldate"].type, str)
row = {"id": 7, "calldate": "2026-01-01 00:00:00", "type": "O", "labels": ["a"], "x": 1}
build = _make_builder(m.Cdr)
assert build is not None, "builder off after resolve_types"
assert build(dict(row)) == m.Cdr.from_dict(row)
page = m.CdrList.from_dict({"data": [row], "total": 1})
assert _data_item_class(page, page.data[0]) is m.Cdr
print("ok")
"""


def test_resolved_annotations_keep_the_fast_builder() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _RESOLVED], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


@attrs.define
class _Dated:
    id: int
    when: datetime.datetime
    additional_properties: dict[str, Any] = attrs.field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "when": self.when, **self.additional_properties}


def test_an_unsupported_field_type_is_named_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="voipstudio_async"):
        assert _make_builder(_Dated) is None
    assert "fast builder off for _Dated: field when" in caplog.text


def test_items_built_from_complete_rows_each_own_their_additional_properties() -> None:
    Cdr = models.Cdr
    build = _make_builder(Cdr)
    assert build is not None
    row = {name: None for name in json_names(Cdr).values()} | {"id": 1}
    first, second = build(dict(row)), build(dict(row))
    assert first == second == Cdr.from_dict(row)
    first.additional_properties["note"] = "mine"
    assert second.additional_properties == {}
