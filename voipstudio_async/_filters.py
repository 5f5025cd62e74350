"""Collection filters: ``(property, operator, value)`` → the API's JSON ``filter`` string."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal, TypeAlias, get_args

__all__ = ["Filter", "FilterArg", "FilterValue", "Operator", "encode_filters"]

Operator: TypeAlias = Literal["eq", "like", "gt", "gte", "lt", "lte"]
"""The operators verified against the live API (``between`` is rejected there)."""

FilterValue: TypeAlias = str | int | float | datetime | date
"""Values the API understands; datetimes become ``YYYY-MM-DD HH:MM:SS``, dates ``YYYY-MM-DD``."""

_OPERATORS: frozenset[str] = frozenset(get_args(Operator))


@dataclass(frozen=True, slots=True)
class Filter:
    """One condition, e.g. ``Filter("duration", "gt", 60)``; conditions are ANDed.

    ``like`` values are sent as given (the API matches substrings; add no ``%``).
    Aware datetimes are converted to UTC; naive ones are sent as-is and the API reads
    them as UTC.
    """

    property: str
    """The field's API name, e.g. ``duration`` or ``calldate``."""
    operator: Operator
    """One of ``eq``, ``like``, ``gt``, ``gte``, ``lt``, ``lte``."""
    value: FilterValue
    """What the field is compared with."""

    def __post_init__(self) -> None:
        if not isinstance(self.property, str) or not self.property.strip():
            raise ValueError(f"filter property must be a non-empty string, got {self.property!r}")
        if self.operator not in _OPERATORS:
            raise ValueError(
                f"filter operator must be one of {sorted(_OPERATORS)}, got {self.operator!r}"
            )
        _encode_value(self.value)  # fail here, before any request, on unusable values

    def to_json(self) -> dict[str, object]:
        """The wire form ``{"property", "operator", "value"}``.

        Returns:
            The condition as the API's ``filter`` JSON holds it (dates as text).

        Raises:
            ValueError: The value cannot be sent (None, a bool, a date before year 1).
        """
        return {
            "property": self.property,
            "operator": self.operator,
            "value": _encode_value(self.value),
        }


FilterArg: TypeAlias = Filter | tuple[str, Operator, FilterValue]
"""A ``Filter`` or a plain ``(property, operator, value)`` tuple."""


def _encode_value(value: object) -> str | int | float:
    # bool is an int subclass but "true"/1 semantics are undocumented: reject it.
    if isinstance(value, bool) or value is None:
        raise ValueError(f"filter value {value!r} cannot be sent to the API")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            try:
                value = value.astimezone(UTC).replace(tzinfo=None)
            except OverflowError:
                raise ValueError(f"filter value {value!r} is before year 1 in UTC") from None
        # isoformat pads the year to four digits; strftime's %Y does not below 1000.
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"filter value {value!r} is not a finite number")
    if isinstance(value, str | int | float):
        return value
    raise ValueError(f"filter value of type {type(value).__name__} cannot be sent to the API")


def _to_filter(item: object) -> Filter:
    if isinstance(item, Filter):
        return item
    if isinstance(item, tuple) and len(item) == 3:
        prop, operator, value = item
        return Filter(prop, operator, value)
    raise ValueError(
        f"each filter must be a Filter or a (property, operator, value) tuple, got {item!r}"
    )


def encode_filters(
    filters: Iterable[FilterArg] | None, fields: Sequence[str] | None = None
) -> str | None:
    """Validate ``filters`` and return the compact JSON ``filter`` parameter (None if empty).

    ``fields``: the properties the collection has (JSON names); any other is refused.
    """
    if filters is None:
        return None
    if isinstance(filters, Filter | tuple) and not _is_filter_sequence(filters):
        # A lone condition is a common slip: say so instead of iterating its fields.
        raise ValueError("filter= takes a list of conditions, e.g. [('duration', 'gt', 60)]")
    entries = [_to_filter(item).to_json() for item in filters]
    if fields is not None:
        for entry in entries:
            if entry["property"] not in fields:
                raise ValueError(
                    f"filter property must be one of {', '.join(fields)}; got {entry['property']!r}"
                )
    if not entries:
        return None
    return json.dumps(entries, separators=(",", ":"), ensure_ascii=False)


def _is_filter_sequence(filters: object) -> bool:
    return isinstance(filters, tuple) and all(isinstance(i, Filter | tuple) for i in filters)
