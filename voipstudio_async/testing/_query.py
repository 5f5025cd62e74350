"""Collection query parameters (paging, JSON `filter`, `sort`/`dir`) checked as the API does."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from ._data import FieldType, Record
from ._http import ApiError, bad_request

#: The documented page size limit (unverified, openapi/notes.md §6). A larger `limit` is
#: clamped to it, as a lenient server does, so clients that ask for more still work.
MAX_LIMIT = 5000
OPERATORS = frozenset({"eq", "like", "gt", "gte", "lt", "lte"})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")
Predicate = Callable[[Record], bool]


@dataclass(frozen=True)
class Query:
    """A validated collection query; `view_key` identifies the filtered, sorted rows."""

    page: int
    limit: int
    predicates: tuple[Predicate, ...]
    view_key: tuple[Any, ...]
    sort: str
    descending: bool


def params(query_string: bytes) -> dict[str, str]:
    """Decoded query parameters; the last one wins when a name repeats."""
    try:
        text = query_string.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request("query", "The query string is not UTF-8.") from exc
    return dict(parse_qsl(text, keep_blank_values=True))


def _positive(args: Mapping[str, str], name: str, default: int, maximum: int | None) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(name, "This value should be a positive integer.") from None
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" between 1 and {maximum}" if maximum else " of at least 1"
        raise bad_request(name, f"This value should be{limit}.")
    return value


def parse(
    args: Mapping[str, str], fields: Mapping[str, FieldType], default_limit: int, paged: bool = True
) -> Query:
    """Validate `page`, `limit`, `filter`, `sort` and `dir` against a collection's fields."""
    page = _positive(args, "page", 1, None) if paged else 1
    limit = min(_positive(args, "limit", default_limit, None), MAX_LIMIT) if paged else MAX_LIMIT
    # Given but empty is not "not given": `filter=`, `sort=` and `dir=` are refused.
    raw_filter = args.get("filter")
    predicates, filter_key = _filters(raw_filter, fields) if raw_filter is not None else ((), ())
    sort = args.get("sort", "id")
    if fields.get(sort) in (None, "list"):
        raise bad_request("sort", f"Cannot sort by '{sort}'.")
    direction = args.get("dir", "ASC")
    if direction not in ("ASC", "DESC"):
        raise bad_request("dir", "This value should be ASC or DESC.")
    return Query(
        page,
        limit,
        predicates,
        (filter_key, sort, direction),
        sort,
        direction == "DESC",
    )


def _filters(
    raw: str, fields: Mapping[str, FieldType]
) -> tuple[tuple[Predicate, ...], tuple[Any, ...]]:
    try:
        items = json.loads(raw)
    except ValueError:
        raise bad_request("filter", "The filter is not valid JSON.") from None
    if not isinstance(items, list):
        raise bad_request("filter", "The filter must be a JSON array.")
    predicates: list[Predicate] = []
    key: list[Any] = []
    for item in items:
        if not isinstance(item, dict) or not {"property", "operator", "value"} <= item.keys():
            raise bad_request("filter", "Each filter needs 'property', 'operator' and 'value'.")
        prop, op, value = item["property"], item["operator"], item["value"]
        if not isinstance(prop, str) or prop not in fields:
            raise ApiError(
                400, "Filtration error", [{"field": str(prop), "message": "Unknown property."}]
            )
        if not isinstance(op, str) or op not in OPERATORS:
            raise bad_request("filter", f"Unsupported operator '{op}'.")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise bad_request("filter", f"The value for '{prop}' must be a scalar.")
        predicates.append(_predicate(prop, fields[prop], op, value))
        key.append((prop, op, json.dumps(value)))
    return tuple(predicates), tuple(key)


def _number(prop: str, value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int):
        return value  # exact: float(10**400) overflows, and ints compare with floats
    try:
        return float(value)
    except (TypeError, ValueError):
        raise bad_request("filter", f"The value for '{prop}' must be a number.") from None


def _truth(prop: str, value: Any) -> bool:
    if isinstance(value, bool | int):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
        return value.lower() in ("true", "1")
    raise bad_request("filter", f"The value for '{prop}' must be a boolean.")


def _like(pattern: str) -> re.Pattern[str]:
    # A bare value matches as a substring (what the official CLI relies on);
    # SQL wildcards, when present, anchor the match like MySQL's LIKE.
    if "%" not in pattern and "_" not in pattern:
        return re.compile(re.escape(pattern), re.IGNORECASE)
    parts = (".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: bool(a == b),
    "gt": lambda a, b: bool(a > b),
    "gte": lambda a, b: bool(a >= b),
    "lt": lambda a, b: bool(a < b),
    "lte": lambda a, b: bool(a <= b),
}


def _predicate(prop: str, ftype: FieldType, op: str, value: Any) -> Predicate:
    if value is None:
        if op != "eq":
            raise bad_request("filter", f"Operator '{op}' needs a value.")
        return lambda row: row.get(prop) is None
    if op == "like":
        regex = _like(str(value).lower() if isinstance(value, bool) else str(value))
        if ftype == "list":
            return lambda row: any(regex.search(str(v)) for v in row.get(prop) or ())
        return lambda row: row.get(prop) is not None and regex.search(str(row[prop])) is not None
    compare = _COMPARE[op]
    if ftype in ("int", "float"):
        number = _number(prop, value)
        return lambda row: row.get(prop) is not None and compare(row[prop], number)
    if ftype == "bool":
        if op != "eq":
            raise bad_request("filter", f"Operator '{op}' does not apply to '{prop}'.")
        truth = _truth(prop, value)
        return lambda row: row.get(prop) is not None and bool(row[prop]) is truth
    if ftype == "list":
        if op != "eq":
            raise bad_request("filter", f"Operator '{op}' does not apply to '{prop}'.")
        return lambda row: str(value) in (row.get(prop) or ())
    if ftype == "date":
        text = str(value)
        if not _DATE.match(text):
            raise bad_request("filter", f"The value for '{prop}' must be YYYY-MM-DD[ HH:MM:SS].")
        if len(text) == 10:
            text += " 00:00:00"
        return lambda row: row.get(prop) is not None and compare(row[prop], text)
    # Strings and codes compare case-insensitively, like the API's MySQL collation.
    folded = str(value).casefold()
    return lambda row: row.get(prop) is not None and compare(str(row[prop]).casefold(), folded)


def sort_key(ftype: FieldType, prop: str) -> Callable[[Record], tuple[bool, Any]]:
    """A key that puts missing values first (as MySQL does in ascending order)."""
    if ftype in ("int", "float", "bool"):
        return lambda row: (row.get(prop) is not None, row.get(prop) or 0)
    return lambda row: (row.get(prop) is not None, str(row.get(prop) or ""))
