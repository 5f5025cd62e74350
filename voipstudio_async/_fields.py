"""The API's JSON names of a generated model's fields.

The generator renames a property only in Python (``type`` becomes the attribute
``type_``); requests, exports and filters must use the JSON name. Each name is read back
through the model's own ``to_dict()``, so a property added to the spec appears here with
no edit anywhere else.
"""

from __future__ import annotations

import functools
from typing import Any

import attrs

__all__ = ["json_names"]


class _Probe:
    __slots__ = ()


@functools.cache
def json_names(model: type) -> dict[str, str]:
    """Attribute name -> JSON name of every field of a generated model, in spec order.

    Raises ``TypeError`` for a class that is not a generated attrs model whose
    ``to_dict()`` writes each field once under its own key.
    """
    if not attrs.has(model):
        raise TypeError(f"{model.__name__} is not a generated model")
    probes = {f.name: _Probe() for f in attrs.fields(model) if f.init}
    try:
        instance: Any = model(**probes)
        dumped = instance.to_dict()
    except Exception as exc:
        raise TypeError(f"cannot read the JSON names of {model.__name__}: {exc}") from None
    by_probe = {id(probe): name for name, probe in probes.items()}
    names = {by_probe[id(value)]: key for key, value in dumped.items() if id(value) in by_probe}
    if len(names) != len(probes) or len(set(names.values())) != len(probes):
        raise TypeError(f"cannot read the JSON names of {model.__name__}")
    return names
