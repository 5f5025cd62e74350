"""The API's JSON names of a generated model's fields.

The generator renames a property only in Python (``type`` becomes the attribute
``type_``); requests, exports and filters must use the JSON name. Each name is read back
through the model's own ``to_dict()``, so a property added to the spec appears here with
no edit anywhere else.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Iterator
from typing import Any, Literal

import attrs
from voipstudio_history_client._spec_facts import DATE_FIELDS, DATED_BY

__all__ = ["FieldKind", "dated_by", "field_kinds", "json_names", "type_names"]

FieldKind = Literal["int", "float", "str", "date", "code", "bool", "list", "object"]
"""What a field holds, as the fake, the CLI and the loaders treat it."""


class _Probe(str):
    """A stand-in value whose text names its attribute, whatever ``to_dict()`` does with it:
    dates call ``isoformat()``, nested models ``to_dict()``, UUIDs ``str()``, lists iterate."""

    __slots__ = ()

    def isoformat(self) -> str:
        return str(self)

    def to_dict(self) -> str:
        return str(self)

    def __iter__(self) -> Iterator[str]:
        yield self


@functools.cache
def item_fields(list_model: type) -> tuple[str, ...]:
    """The JSON names of the items of a generated ``*List`` model (its ``data`` list)."""
    from voipstudio_history_client import models  # every model, for the hints' names

    hint = typing.get_type_hints(list_model, localns=vars(models))["data"]
    (item,) = [arg for arg in typing.get_args(hint) if attrs.has(arg)]
    return tuple(json_names(item).values())


@functools.cache
def json_names(model: type) -> dict[str, str]:
    """Attribute name -> JSON name of every field of a generated model, in spec order.

    Raises ``TypeError`` for a class that is not a generated attrs model whose
    ``to_dict()`` writes each field once under its own key.
    """
    if not attrs.has(model):
        raise TypeError(f"{model.__name__} is not a generated model")
    probes = {f.name: _Probe(f"\x00{f.name}\x00") for f in attrs.fields(model) if f.init}
    try:
        instance: Any = model(**probes)
        dumped = instance.to_dict()
    except Exception as exc:
        raise TypeError(f"cannot read the JSON names of {model.__name__}: {exc}") from None
    by_probe = {str(probe): name for name, probe in probes.items()}
    names = {
        by_probe[probe]: key
        for key, value in dumped.items()
        if (probe := _probe_text(value)) is not None and probe in by_probe
    }
    if len(names) != len(probes) or len(set(names.values())) != len(probes):
        raise TypeError(f"cannot read the JSON names of {model.__name__}")
    return names


def _probe_text(value: object) -> str | None:
    # A list field's to_dict() iterates the probe: its one item carries the text.
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, str) else None


def type_names(annotation: object) -> frozenset[str] | None:
    """The parts of a field's type as names (``"int"``, ``"list[str]"``, ``"None"``).

    attrs keeps the generated annotations as strings until something (cattrs, for one)
    calls ``attrs.resolve_types`` on the class; the resolved objects name the same parts.
    """
    if isinstance(annotation, str):
        return frozenset(part.strip() for part in annotation.split("|"))
    if annotation is None or annotation is type(None):
        return frozenset({"None"})
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        names: set[str] = set()
        for arg in typing.get_args(annotation):
            part = type_names(arg)
            if part is None:
                return None
            names |= part
        return frozenset(names)
    if typing.get_origin(annotation) is list:
        (arg,) = typing.get_args(annotation) or (None,)
        inner = type_names(arg) if arg is not None else None
        if inner is None or len(inner) != 1:
            return None
        return frozenset({f"list[{next(iter(inner))}]"})
    if isinstance(annotation, type):
        return frozenset({annotation.__name__})
    return None


def _kind(names: frozenset[str] | None) -> FieldKind:
    parts = (names or frozenset({"object"})) - {"None", "Unset"}
    if parts == {"int"} or parts == {"bool"} or parts == {"str"}:
        return typing.cast(FieldKind, next(iter(parts)))
    if parts <= {"int", "float"}:
        return "float"
    if parts == {"int", "str"}:
        return "code"
    if parts == {"list[str]"}:
        return "list"
    return "object"


@functools.cache
def field_kinds(model: type) -> dict[str, FieldKind]:
    """JSON name -> kind of every field of a generated model, in spec order.

    Types come from the model's annotations; which strings are dates comes from the
    spec (``x-voipstudio-date``, recorded in the generated ``_spec_facts``).
    """
    dates = DATE_FIELDS.get(model.__name__, ())
    annotations = {f.name: f.type for f in attrs.fields(model)}
    return {
        json: "date" if json in dates else _kind(type_names(annotations[attr]))
        for attr, json in json_names(model).items()
    }


def dated_by(model: type) -> str:
    """The field a collection's period filters use (the spec's ``x-voipstudio-dated-by``)."""
    return DATED_BY[model.__name__]
