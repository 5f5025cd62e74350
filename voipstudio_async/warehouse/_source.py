"""``history_source``: the account's history as a dlt source, walked with the SDK.

Each resource is a table merged on ``id``. A run walks by id (``iterate_consistent``)
from the cursor the resource's dlt state keeps, so only rows past it are requested.
With a ``lookback``, the walk starts lower, at the first id of the rows dated within
``lookback`` of the newest row seen, and rows at or below the cursor are loaded again
only when their content changed since the last run (a digest per row of that window
is kept in the state). The state is written to the destination with the rows it
describes, so a run that dies before its load commits leaves the cursor where it was.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import dlt
import pyarrow as pa
from dlt.extract.source import DltSource

from .._client import VoipStudio
from .._constants import DEFAULT_LOOKBACK
from .._filters import Filter
from .._pagination import MAX_PAGE_SIZE
from ._columns import RESOURCES, ResourceName, TableShape, shape

__all__ = [
    "DEFAULT_LOOKBACK",
    "EXTRACTED",
    "SOURCE_NAME",
    "ClientFactory",
    "ProgressCallback",
    "history_source",
]

ClientFactory = Callable[[], VoipStudio]
"""Builds a client; called inside the event loop dlt runs the resources on."""
ProgressCallback = Callable[[str, int, int], None]
"""``(table, new_rows, updated_rows)`` for each batch handed to dlt."""

SOURCE_NAME = "voipstudio"
EXTRACTED = "extracted"
"""Resource-state key: ``[new, updated]`` rows of the extract that wrote the state."""

BATCH_ROWS = MAX_PAGE_SIZE
"""Rows per Arrow batch: one full page of the walk."""

_DICTIONARIES: tuple[ResourceName, ...] = ("cdrs", "msdrs")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def _digest(values: tuple[Any, ...]) -> str:
    return hashlib.blake2b(repr(values).encode(), digest_size=8).hexdigest()


def _check_resources(resources: Iterable[str]) -> tuple[ResourceName, ...]:
    if isinstance(resources, str):
        raise TypeError("resources must be a sequence of names, not a string")
    chosen = tuple(dict.fromkeys(resources))
    unknown = [name for name in chosen if name not in RESOURCES]
    if unknown or not chosen:
        raise ValueError(
            f"resources must be some of {', '.join(RESOURCES)}, got {', '.join(chosen) or 'none'}"
        )
    return chosen  # type: ignore[return-value]


def _check_lookback(lookback: object) -> timedelta:
    if not isinstance(lookback, timedelta) or lookback < timedelta(0):
        raise ValueError(f"lookback must be a timedelta >= 0, got {lookback!r}")
    return lookback


@dataclass
class _Window:
    """The rows dated within ``lookback`` of the newest one, as the walk meets them."""

    lookback: timedelta
    newest: str = ""
    rows: deque[tuple[int, str, tuple[Any, ...], str | None]] = field(default_factory=deque)

    def threshold(self) -> str:
        if not self.newest or not self.lookback:
            return self.newest
        start = datetime.strptime(self.newest, _DATE_FORMAT) - self.lookback
        return start.strftime(_DATE_FORMAT)

    def prune(self) -> None:
        # Ids ascend with dates, so the oldest rows are on the left.
        threshold = self.threshold()
        while self.rows and self.rows[0][1] < threshold:
            self.rows.popleft()

    def digests(self) -> dict[str, str]:
        """``{id: digest}`` from the first id dated in the window on."""
        threshold = self.threshold()
        dated = [ident for ident, date, _, _ in self.rows if date >= threshold]
        if not dated:
            return {}
        floor = min(dated)
        return {
            str(ident): digest or _digest(values)
            for ident, _, values, digest in self.rows
            if ident >= floor
        }


def _history_rows(
    name: ResourceName,
    table: TableShape,
    factory: ClientFactory,
    lookback: timedelta,
    on_progress: ProgressCallback | None,
    stop: threading.Event | None,
    on_stopped: Callable[[str], None] | None,
) -> Callable[[], AsyncIterator[pa.Table]]:
    get_values = operator.attrgetter(*table.attributes)
    date_index = table.date_index

    async def rows() -> AsyncIterator[pa.Table]:
        state: MutableMapping[str, Any] = dlt.current.resource_state(name)
        last_id: int | None = state.get("last_id")
        known: dict[str, str] = state.get("digests") or {} if lookback else {}
        start = min(int(i) for i in known) - 1 if known else last_id
        window = _Window(lookback, state.get("newest") or "")
        top = last_id
        batch: list[tuple[Any, ...]] = []
        new = updated = 0
        totals = [0, 0]
        stopped = False

        def flush() -> pa.Table:
            nonlocal new, updated
            arrow = table.to_arrow(batch)
            if on_progress is not None:
                on_progress(name, new, updated)
            totals[0] += new
            totals[1] += updated
            batch.clear()
            new = updated = 0
            window.prune()
            return arrow

        async with factory() as vs:
            walk = getattr(vs, name).iterate_consistent(
                filter=None if start is None else [Filter("id", "gt", start)],
                page_size=MAX_PAGE_SIZE,
            )
            threshold = window.threshold()
            async for item in walk:
                # Per row, not per batch: a re-read of unchanged rows fills no batch.
                if stop is not None and stop.is_set():
                    stopped = True
                    break
                values = get_values(item)
                ident: int = values[0]
                date = values[date_index]
                if not isinstance(date, str) or not _DATE.fullmatch(date):
                    date = ""
                elif date > window.newest:
                    window.newest = date
                digest = None
                if last_id is not None and ident <= last_id:
                    digest = _digest(values)
                    if known.get(str(ident)) == digest:
                        if lookback:
                            window.rows.append((ident, date, values, digest))
                        continue
                    updated += 1
                else:
                    new += 1
                    top = ident
                if lookback and date >= threshold:
                    window.rows.append((ident, date, values, digest))
                batch.append(values)
                if len(batch) >= BATCH_ROWS:
                    yield flush()
                    threshold = window.threshold()
        if batch:
            yield flush()
        # Read by dlt when the extract ends: committed with these rows, never before.
        state["last_id"] = top
        state["newest"] = window.newest or None
        digests = window.digests() if lookback else {}
        # A stopped walk did not reach every row of the window: keep the digests of the
        # rows it did not see, so that they are not taken for changed ones next time.
        state["digests"] = {**known, **digests} if stopped and lookback else digests
        state[EXTRACTED] = totals
        if stopped and on_stopped is not None:
            on_stopped(name)

    return rows


def _dictionary_rows(
    name: ResourceName, factory: ClientFactory
) -> Callable[[], AsyncIterator[list[dict[str, Any]]]]:
    async def rows() -> AsyncIterator[list[dict[str, Any]]]:
        async with factory() as vs:
            body = await getattr(vs, name).dictionaries()
        yield list(_dictionary_entries(body.data))

    return rows


def _dictionary_entries(data: Any) -> Iterator[dict[str, Any]]:
    """``(field, code, label)`` rows from a code-to-label object, or records as JSON."""
    if isinstance(data, list):
        for record in data:
            yield {"field": "record", "code": str(record.id), "label": json.dumps(record.to_dict())}
        return
    mapping = getattr(data, "additional_properties", None) or {}
    for field_name, codes in mapping.items():
        if isinstance(codes, dict):
            for code, label in codes.items():
                yield {"field": field_name, "code": str(code), "label": str(label)}
        else:
            yield {"field": field_name, "code": None, "label": str(codes)}


def history_source(
    client_factory: ClientFactory | None = None,
    resources: Iterable[str] = RESOURCES,
    lookback: timedelta = DEFAULT_LOOKBACK,
    *,
    on_progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    on_stopped: Callable[[str], None] | None = None,
    json_lists: bool = True,
) -> DltSource:
    """The account's history as a dlt source: one table per resource, merged on ``id``.

    ``client_factory`` builds the client inside the event loop dlt runs async
    resources on (default ``VoipStudio.from_env``). ``lookback`` re-reads the rows
    dated within it of the newest row and loads those that changed;
    ``timedelta(0)`` turns that off. ``cdrs`` and ``msdrs`` also bring their
    dictionaries (``cdrs_dictionary``, ``msdrs_dictionary``), replaced on each run.
    When ``stop`` is set, each walk ends at the next row (the dictionaries, one request
    each, are read whole) and ``on_stopped`` is called with the table's name.
    ``json_lists=False`` loads arrays of scalars (``labels``) as JSON text in a ``text``
    column instead of a ``json`` one: a Delta table's string column cannot take lists.

    Args:
        client_factory: Builds the client, called inside dlt's event loop (default
            ``VoipStudio.from_env``).
        resources: The tables to load, some of ``RESOURCES`` (default all).
        lookback: How far behind the newest row to re-read for changes
            (``timedelta(0)``: none).
        on_progress: Called with ``(table, new_rows, updated_rows)`` for each batch.
        stop: When set, each walk ends at its next row.
        on_stopped: Called with a table's name when ``stop`` ended its walk.
        json_lists: Arrays of scalars as ``json`` columns (False: JSON text, for Delta).

    Returns:
        The dlt source, for ``pipeline.run()``; nothing is sent until dlt runs it.

    Raises:
        ValueError: ``resources`` names an unknown table or none, or ``lookback`` is
            negative or not a ``timedelta``.
        TypeError: ``resources`` is a string, or ``client_factory`` is not callable.
    """
    chosen = _check_resources(resources)
    window = _check_lookback(lookback)
    factory = client_factory or VoipStudio.from_env
    if not callable(factory):
        raise TypeError("client_factory must be a callable that returns a VoipStudio")

    @dlt.source(name=SOURCE_NAME, max_table_nesting=0)
    def voipstudio() -> Iterator[Any]:
        for name in chosen:
            table = shape(name, json_lists=json_lists)
            yield dlt.resource(
                _history_rows(name, table, factory, window, on_progress, stop, on_stopped),
                name=name,
                primary_key="id",
                write_disposition="merge",
                columns=table.dlt_columns(),
            )
        for name in chosen:
            if name in _DICTIONARIES:
                yield dlt.resource(
                    _dictionary_rows(name, factory),
                    name=f"{name}_dictionary",
                    write_disposition="replace",
                    columns={
                        "field": {"data_type": "text"},
                        "code": {"data_type": "text"},
                        "label": {"data_type": "text"},
                    },
                )

    return voipstudio()
