"""What the download verbs of ``vs.monitors`` and ``vs.voicemessages`` share.

They accept an id or the item's model (a ``Monitor`` also brings its ``size``, which
the download is verified against). Ids go through ``check_id`` like the read verbs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeGuard, TypeVar

from .._checks import check_int
from ._base import check_id

__all__ = ["check_size", "download_target", "download_targets"]


class _Identified(Protocol):
    @property
    def id(self) -> int: ...


M = TypeVar("M", bound=_Identified)


def _is_size(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_size(value: object, name: str = "expected_size") -> int | None:
    """``value`` if it is None or an int >= 0; anything else is a ValueError."""
    return None if value is None else check_int(value, name, minimum=0)


def _known_size(model: object) -> int | None:
    # Monitor.size is int | None | Unset: only a real byte count is worth verifying.
    size = getattr(model, "size", None)
    return size if _is_size(size) else None


def download_target(
    item: int | M, model_cls: type[M], expected_size: int | None
) -> tuple[int, int | None]:
    """The id to download and the size to verify (``expected_size``, else the model's)."""
    size = check_size(expected_size)
    if isinstance(item, model_cls):
        return check_id(item.id), size if size is not None else _known_size(item)
    return check_id(item), size


def download_targets(
    items: Iterable[int | M], model_cls: type[M], models: dict[int, M] | None = None
) -> tuple[list[int], dict[int, int]]:
    """The ids to download, in order, and the sizes the models know.

    ``models`` (when given) gets the items given as models, by id.
    """
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise TypeError(f"expected an iterable of ids or models, got {type(items).__name__}")
    ids: list[int] = []
    sizes: dict[int, int] = {}
    for index, item in enumerate(items):
        if isinstance(item, model_cls):
            item_id = check_id(item.id, f"items[{index}].id")
            if models is not None:
                models[item_id] = item
            size = _known_size(item)
            if size is not None:
                sizes[item_id] = size
        else:
            item_id = check_id(item, f"items[{index}]")
        ids.append(item_id)
    return ids, sizes
