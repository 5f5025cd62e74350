"""One collection's rows, with cached JSON for items and pages."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from ._data import FieldType, Record
from ._http import dumps
from ._query import Query, sort_key

#: Pages are cached per query string; a long walk must not grow the cache without bound.
_MAX_CACHED_PAGES = 512


class Collection:
    """Rows by id, plus caches that every change invalidates.

    Filtered, sorted id lists ("views") are kept per filter and order, so a page
    costs a slice and one JSON encoding; a repeated page costs a dict lookup.
    """

    def __init__(
        self, fields: Mapping[str, FieldType], rows: Iterable[Record], lock: threading.RLock
    ) -> None:
        self.fields = fields
        self._lock = lock
        self._rows: dict[int, Record] = {row["id"]: row for row in rows}
        self._views: dict[tuple[Any, ...], list[int]] = {}
        self._pages: dict[bytes, bytes] = {}
        self._items: dict[int, bytes] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, ident: object) -> bool:
        return ident in self._rows

    def ids(self) -> list[int]:
        """Ids in ascending order."""
        with self._lock:
            return sorted(self._rows)

    def rows_unordered(self) -> Iterable[Record]:
        """Every row (not copies), in no particular order."""
        return self._rows.values()

    def get(self, ident: int) -> Record | None:
        """The row (not a copy) or None."""
        return self._rows.get(ident)

    def next_id(self) -> int:
        """The id a new row would get."""
        return max(self._rows, default=0) + 1

    def _changed(self, idents: Iterable[int] = ()) -> None:
        for ident in idents:
            self._items.pop(ident, None)
        self._views.clear()
        self._pages.clear()

    def insert(self, rows: Iterable[Record]) -> list[int]:
        """Add rows; their ids must be new."""
        with self._lock:
            added = []
            for row in rows:
                self._rows[row["id"]] = row
                added.append(row["id"])
            self._changed()
            return added

    def update(self, changes: Mapping[int, Mapping[str, Any]]) -> list[Record]:
        """Apply field changes to existing rows."""
        with self._lock:
            out = []
            for ident, fields in changes.items():
                row = self._rows[ident]
                row.update(fields)
                out.append(row)
            self._changed(changes)
            return out

    def delete(self, idents: Iterable[int]) -> int:
        """Remove the rows that exist; returns how many went."""
        with self._lock:
            idents = [i for i in idents if i in self._rows]
            for ident in idents:
                del self._rows[ident]
            self._changed(idents)
            return len(idents)

    def clear(self) -> None:
        """Remove every row."""
        with self._lock:
            self._rows.clear()
            self._items.clear()
            self._changed()

    def item(self, ident: int) -> bytes | None:
        """The single-item answer `{"data": …, "links": {}}`, or None if absent."""
        with self._lock:
            data = self._items.get(ident)
            if data is None:
                if ident not in self._rows:
                    return None
                data = self._items[ident] = dumps({"data": self._rows[ident], "links": {}})
            return data

    def rows(self, query: Query) -> list[int]:
        """Ids matching the query's filters, in its order."""
        with self._lock:
            view = self._views.get(query.view_key)
            if view is None:
                rows: Iterable[Record] = self._rows.values()
                for predicate in query.predicates:
                    rows = [row for row in rows if predicate(row)]
                ordered = sorted(rows, key=lambda row: row["id"])
                if query.sort != "id":
                    key = sort_key(self.fields[query.sort], query.sort)
                    ordered.sort(key=key, reverse=query.descending)
                elif query.descending:
                    ordered.reverse()
                view = self._views[query.view_key] = [row["id"] for row in ordered]
            return view

    def page(self, cache_key: bytes, query: Query) -> bytes:
        """The collection answer `{"data": [...], "total": N}` for one page."""
        with self._lock:
            body = self._pages.get(cache_key)
            if body is None:
                view = self.rows(query)
                start = (query.page - 1) * query.limit
                rows = [self._rows[ident] for ident in view[start : start + query.limit]]
                # One encoder call per page: several times faster than joining per-item calls.
                body = dumps({"data": rows, "total": len(view)})
                if len(self._pages) >= _MAX_CACHED_PAGES:
                    self._pages.clear()
                self._pages[cache_key] = body
            return body
