"""Table shapes from the spec: one Arrow schema per resource, and rows to Arrow batches.

Column types follow the generated models' field types (ids and counts ``bigint``,
amounts ``double``, codes that are ``int | str`` as text, lists as JSON), and the
date fields the spec describes as ``YYYY-MM-DD HH:MM:SS`` become UTC timestamps. A
date that does not parse (the API's ``0000-00-00 00:00:00``) loads as NULL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import attrs
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.data_types.typing import TDataType
from dlt.common.schema.typing import TColumnSchema
from voipstudio_history_client.models import Cdr, Chat, Monitor, Msdr, Voicemessage
from voipstudio_history_client.types import UNSET

from .._fields import dated_by, json_names

__all__ = ["DATE_FIELDS", "RESOURCES", "ResourceName", "TableShape", "shape"]

ResourceName = Literal["cdrs", "monitors", "voicemessages", "chats", "msdrs"]
RESOURCES: tuple[ResourceName, ...] = ("cdrs", "monitors", "voicemessages", "chats", "msdrs")

_MODELS: dict[ResourceName, type] = {
    "cdrs": Cdr,
    "monitors": Monitor,
    "voicemessages": Voicemessage,
    "chats": Chat,
    "msdrs": Msdr,
}

DATE_FIELDS: dict[ResourceName, str] = {name: dated_by(model) for name, model in _MODELS.items()}
"""Each resource's date field (the spec's ``x-voipstudio-dated-by``)."""

_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# Microseconds: the precision dlt maps to every destination without a warning.
TIMESTAMP = pa.timestamp("us", tz="UTC")

Kind = Literal["int", "float", "bool", "text", "code", "date", "list"]

_ARROW: dict[Kind, pa.DataType] = {
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "text": pa.string(),
    "code": pa.string(),
    "date": TIMESTAMP,
    # JSON text: every destination takes it (PostgreSQL's loader cannot take Arrow lists).
    "list": pa.string(),
}

_DLT: dict[Kind, TDataType] = {
    "int": "bigint",
    "float": "double",
    "bool": "bool",
    "text": "text",
    "code": "text",
    "date": "timestamp",
    "list": "json",
}


def _kind(annotation: str) -> Kind:
    parts = {part.strip() for part in annotation.split("|")} - {"None", "Unset"}
    if parts == {"int", "str"}:
        return "code"
    if parts == {"list[str]"}:
        return "list"
    if len(parts) == 1:
        only = parts.pop()
        if only in ("int", "float", "bool"):
            return only  # type: ignore[return-value]
        if only == "str":
            return "text"
    raise TypeError(f"no column type for a field typed {annotation!r}")


@dataclass(frozen=True, slots=True)
class TableShape:
    """A resource's columns, in the model's field order (``id`` first).

    ``attributes`` are the model's attribute names (``type_``), ``fields`` the API's
    (``type``), which name the columns.
    """

    name: ResourceName
    attributes: tuple[str, ...]
    fields: tuple[str, ...]
    kinds: tuple[Kind, ...]
    date_field: str
    schema: pa.Schema

    @property
    def date_index(self) -> int:
        return self.fields.index(self.date_field)

    def dlt_columns(self) -> dict[str, TColumnSchema]:
        """dlt column hints: ``id`` the non-null key, lists as ``json``."""
        return {
            name: {"data_type": _DLT[kind], "nullable": name != "id"}
            for name, kind in zip(self.fields, self.kinds, strict=True)
        }

    def to_arrow(self, rows: Sequence[tuple[Any, ...]]) -> pa.Table:
        """Rows of raw field values (``UNSET`` allowed) as one Arrow table."""
        if not rows:
            return self.schema.empty_table()
        columns: list[pa.Array] = []
        # Transposed in C, and a column is copied in Python only when it needs a change:
        # per-cell Python work is what limits a sync's rate.
        for kind, column in zip(self.kinds, zip(*rows, strict=True), strict=True):
            values: Sequence[Any] = column
            if UNSET in column:
                values = [None if v is UNSET else v for v in column]
            if kind == "code":
                values = [None if v is None else str(v) for v in values]
            elif kind == "list":
                values = [None if v is None else json.dumps(v) for v in values]
            if kind == "date":
                text = pa.array(values, type=pa.string())
                parsed = pc.strptime(text, format=_DATE_FORMAT, unit="us", error_is_null=True)
                columns.append(parsed.cast(TIMESTAMP))
            else:
                columns.append(pa.array(values, type=_ARROW[kind]))
        return pa.Table.from_arrays(columns, schema=self.schema)


def shape(name: ResourceName) -> TableShape:
    """The table shape of one resource, derived from its generated model."""
    model = _MODELS[name]
    attributes = tuple(f.name for f in attrs.fields(model) if f.name != "additional_properties")
    types = {f.name: f.type for f in attrs.fields(model)}
    names = json_names(model)
    fields = tuple(names[a] for a in attributes)
    date_field = DATE_FIELDS[name]
    kinds: tuple[Kind, ...] = tuple(
        "date" if field == date_field else _kind(str(types[attr]))
        for attr, field in zip(attributes, fields, strict=True)
    )
    schema = pa.schema(
        [
            pa.field(field, _ARROW[kind], nullable=field != "id")
            for field, kind in zip(fields, kinds, strict=True)
        ]
    )
    return TableShape(name, attributes, fields, kinds, date_field, schema)
