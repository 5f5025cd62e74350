"""Table shapes from the spec: one Arrow schema per resource, and rows to Arrow batches.

Column types follow what the spec says of each field, as ``_fields.field_kinds`` reads it
from the generated model (ids and counts ``bigint``, amounts ``double``, codes that are
``int | str`` as text, arrays and objects as JSON), and every field the spec marks
``x-voipstudio-date`` (``YYYY-MM-DD HH:MM:SS``) becomes a UTC timestamp; a date that does
not parse (the API's ``0000-00-00 00:00:00``) loads as NULL. Formats the generator types
(``date-time``, ``date``, ``uuid``) get a timestamp, a date and a text column. A field of
any other shape loads as JSON, with one warning naming it, rather than failing the sync.

dlt compares each Arrow table with the declared column hints (and warns on every sync when
they differ) and has no Arrow type that means JSON except a nested one. So the hints are
read from what is built: an array of scalars (``labels``) is an Arrow list, a ``json``
column on every destination; any other JSON shape (objects, nested models, unions) has no
fixed Arrow type and is JSON text declared ``json`` (so dlt notes the difference for such
a field, which the History spec has none of), or ``text`` on Delta.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
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

from .._fields import dated_by, field_kinds, json_names, type_names

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

Kind = Literal["int", "float", "bool", "text", "code", "uuid", "date", "timestamp", "day", "json"]
"""A column's type: ``code`` an ``int | str``, ``uuid`` a generated ``UUID`` (both text),
``date`` a spec date string, ``timestamp``/``day`` a generated ``datetime``/``date``,
``json`` any array or object."""

_ARROW: dict[Kind, pa.DataType] = {
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "text": pa.string(),
    "code": pa.string(),
    "uuid": pa.string(),
    "date": TIMESTAMP,
    "timestamp": TIMESTAMP,
    "day": pa.date32(),
    # JSON text, for the shapes no Arrow type holds; arrays of scalars get `_LIST_ITEMS`.
    "json": pa.string(),
}
# Arrays of these item types are built as Arrow lists (dlt loads them as `json`).
_LIST_ITEMS: dict[str, pa.DataType] = {
    "list[str]": pa.string(),
    "list[int]": pa.int64(),
    "list[float]": pa.float64(),
    "list[bool]": pa.bool_(),
}

_DLT: dict[Kind, TDataType] = {
    "int": "bigint",
    "float": "double",
    "bool": "bool",
    "text": "text",
    "code": "text",
    "uuid": "text",
    "date": "timestamp",
    "timestamp": "timestamp",
    "day": "date",
    "json": "text",
}

# `_fields` kinds that name a column type; its "object" (anything else) is refined below.
_BY_FIELD_KIND: dict[str, Kind] = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "text",
    "code": "code",
    "date": "date",
    "list": "json",
}
# What the generator makes of the string formats it types.
_BY_TYPE: dict[str, Kind] = {"datetime": "timestamp", "date": "day", "UUID": "uuid"}
_logger = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()


def _is_json(part: str) -> bool:
    """An array, a mapping or a nested generated model: JSON, as the API sends it."""
    if part.startswith(("list[", "dict[")) or part in ("list", "dict", "Any"):
        return True
    return part.isidentifier() and part[0].isupper() and part not in ("File", "UUID")


def column_kind(model: type, field: str, field_kind: str, annotation: object) -> Kind:
    """The column type of one field: from its ``_fields`` kind, its generated type when that
    kind is "object", and JSON (with one warning per field) for a shape nothing names."""
    if field_kind in _BY_FIELD_KIND:
        return _BY_FIELD_KIND[field_kind]
    names = type_names(annotation) or frozenset({str(annotation)})
    parts = {name.rsplit(".", 1)[-1] for name in names} - {"None", "Unset"}
    if len(parts) == 1 and (only := next(iter(parts))) in _BY_TYPE:
        return _BY_TYPE[only]
    if parts and all(_is_json(part) for part in parts):
        return "json"
    if (model.__name__, field) not in _warned:
        _warned.add((model.__name__, field))
        _logger.warning(
            "%s.%s has a type no column type is defined for (%s); it is loaded as JSON",
            model.__name__,
            field,
            " | ".join(sorted(names)),
        )
    return "json"


def _arrow_type(kind: Kind, annotation: object) -> pa.DataType:
    """The Arrow type a column is built as: a list for an array of scalars, else by kind."""
    if kind == "json":
        parts = (type_names(annotation) or frozenset()) - {"None", "Unset"}
        if len(parts) == 1 and (items := _LIST_ITEMS.get(next(iter(parts)))) is not None:
            return pa.list_(items)
    return _ARROW[kind]


def _jsonable(value: Any) -> Any:
    if attrs.has(type(value)) and hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, dt.date | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    if value is UNSET:
        return None
    return value


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(_jsonable(value), default=str)


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
    json_text_as_json: bool = True
    """Load JSON text (objects, nested models) as ``json`` columns; off for Delta, whose
    tables keep such columns as text."""

    @property
    def date_index(self) -> int:
        return self.fields.index(self.date_field)

    def dlt_columns(self) -> dict[str, TColumnSchema]:
        """dlt column hints, the types the Arrow tables are built as: ``id`` the non-null
        key, Arrow lists as ``json``, and JSON text as ``json`` too unless
        ``json_text_as_json`` is off (the spec's arrays and objects are JSON columns; dlt
        notes that such a text column's hint differs from its Arrow type, which only a
        field typed as an object or nested model brings: the History spec has none)."""
        return {
            field.name: {
                "data_type": "json"
                if pa.types.is_list(field.type) or (kind == "json" and self.json_text_as_json)
                else _DLT[kind],
                "nullable": field.name != "id",
            }
            for field, kind in zip(self.schema, self.kinds, strict=True)
        }

    def to_arrow(self, rows: Sequence[tuple[Any, ...]]) -> pa.Table:
        """Rows of raw field values (``UNSET`` allowed) as one Arrow table."""
        if not rows:
            return self.schema.empty_table()
        columns: list[pa.Array] = []
        # Transposed in C, and a column is copied in Python only when it needs a change:
        # per-cell Python work is what limits a sync's rate.
        for kind, field, column in zip(
            self.kinds, self.schema, zip(*rows, strict=True), strict=True
        ):
            values: Sequence[Any] = column
            if UNSET in column:
                values = [None if v is UNSET else v for v in column]
            if kind in ("code", "uuid"):
                values = [None if v is None else str(v) for v in values]
            elif kind == "json" and not pa.types.is_list(field.type):
                values = [_json_text(v) for v in values]
            if kind == "date":
                text = pa.array(values, type=pa.string())
                parsed = pc.strptime(text, format=_DATE_FORMAT, unit="us", error_is_null=True)
                columns.append(parsed.cast(TIMESTAMP))
            else:
                columns.append(pa.array(values, type=field.type))
        return pa.Table.from_arrays(columns, schema=self.schema)


def shape(name: ResourceName, *, json_lists: bool = True) -> TableShape:
    """The table shape of one resource, derived from its generated model (arrays of
    scalars as JSON text unless ``json_lists``)."""
    return model_shape(name, _MODELS[name], DATE_FIELDS[name], json_lists=json_lists)


def model_shape(name: Any, model: type, date_field: str, *, json_lists: bool = True) -> TableShape:
    """The table shape of a generated model's rows, dated by ``date_field``."""
    names = json_names(model)
    attributes = tuple(names)
    types = {f.name: f.type for f in attrs.fields(model)}
    fields = tuple(names[a] for a in attributes)
    field_kind = field_kinds(model)
    kinds: tuple[Kind, ...] = tuple(
        column_kind(model, field, field_kind[field], types[attr])
        for attr, field in zip(attributes, fields, strict=True)
    )
    schema = pa.schema(
        [
            pa.field(
                field,
                _arrow_type(kind, types[attr]) if json_lists else _ARROW[kind],
                nullable=field != "id",
            )
            for attr, field, kind in zip(attributes, fields, kinds, strict=True)
        ]
    )
    return TableShape(name, attributes, fields, kinds, date_field, schema, json_lists)
