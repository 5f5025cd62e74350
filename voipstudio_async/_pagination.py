"""``Page[T]`` and the two walks over a collection: by page number and by id (keyset)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import httpx

from ._checks import check_int, invalid
from ._constants import MAX_PAGE_SIZE, PREFETCH_PAGES, YIELD_EVERY
from ._errors import APIResponseValidationError
from ._filters import Filter, FilterArg

__all__ = [
    "MAX_PAGE_SIZE",
    "Batch",
    "FetchBatch",
    "Page",
    "check_page_size",
    "iterate_by_id",
    "iterate_pages",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a collection.

    ``total`` is the server's count of matching rows over all pages, or None when the
    response omitted it.
    """

    items: list[T]
    """The page's items, typed (``Cdr``, ``Monitor``, ...)."""
    total: int | None
    """Matching rows over all pages, or None when the server did not say."""
    page: int
    """The page number asked for (1-based)."""
    limit: int
    """The page size asked for."""
    response: httpx.Response = field(repr=False, compare=False)
    """The raw HTTP response (headers, timing)."""


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


H = TypeVar("H", bound=_HasId)


_WHY_MAX = (
    "the largest page the API documents; whether it accepts more is unverified, so the SDK"
    " does not send it: docs/development.md, 'API versions and page size'"
)


def check_page_size(name: str, value: object) -> int:
    """``value`` if it is an int in 1..5000, else ValueError; a larger int is refused saying
    why (5000 is the only maximum any source documents; a larger page is unverified)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_PAGE_SIZE:
        raise invalid(name, f"an int between 1 and {MAX_PAGE_SIZE} ({_WHY_MAX})", value)
    return check_int(value, name, maximum=MAX_PAGE_SIZE)


def check_max_items(value: int | None) -> None:
    """ValueError unless ``value`` is None or a positive int."""
    if value is not None:
        check_int(value, "max_items")


class Batch(Generic[T]):
    """One page as a walk consumes it, decoded when the walk first looks at it.

    A prefetched page waits as the response's bytes: decoded rows are GC-tracked
    containers (a row holding a list is), and rows held while the previous page is
    consumed would survive into the collector's oldest generation and bring its full
    collections (the worst event-loop stalls of a walk) sooner. ``items`` may be
    iterable once only (built as they are reached, see ``_request.decode.Rows``); ``ids`` are
    the rows' raw ``id`` values, known before any item is built, which the walks use to
    detect a repeated page and to request the next keyset page.
    """

    __slots__ = ("_decode", "_decoded", "response")

    def __init__(
        self,
        response: httpx.Response,
        decode: Callable[[httpx.Response], tuple[Iterable[T], tuple[object, ...], int | None]],
    ) -> None:
        """``decode(response)`` gives (items, ids, total), called once, on first use."""
        self.response = response
        self._decode = decode
        self._decoded: tuple[Iterable[T], tuple[object, ...], int | None] | None = None

    def _parsed(self) -> tuple[Iterable[T], tuple[object, ...], int | None]:
        if self._decoded is None:
            self._decoded = self._decode(self.response)
        return self._decoded

    @property
    def items(self) -> Iterable[T]:
        """The page's items (possibly iterable once)."""
        return self._parsed()[0]

    @property
    def ids(self) -> tuple[object, ...]:
        """The rows' raw ``id`` values."""
        return self._parsed()[1]

    @property
    def total(self) -> int | None:
        """The server's count of matching rows, or None when the response omitted it."""
        return self._parsed()[2]


FetchBatch = Callable[[int, int, Sequence[FilterArg]], Awaitable[Batch[T]]]
"""``(page, limit, filters) -> Batch``: one request with everything else fixed."""


def _prefetch(request: Awaitable[Batch[T]]) -> asyncio.Task[Batch[T]]:
    """Start fetching a page while the caller consumes the current one."""
    return asyncio.get_running_loop().create_task(_wait(request))


async def _wait(request: Awaitable[Batch[T]]) -> Batch[T]:
    return await request


def _discard(task: asyncio.Task[Batch[T]]) -> None:
    """Drop a prefetch the caller no longer needs (it stopped early or failed)."""
    if task.done():
        if not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" log
    else:
        task.cancel()


async def iterate_pages(
    fetch: FetchBatch[T],
    *,
    filters: Sequence[FilterArg],
    page_size: int,
    max_items: int | None,
) -> AsyncIterator[T]:
    """Yield items page by page until an empty page, ``total`` items, or ``max_items``.

    Only the page number changes between requests. A page with the same rows (ids)
    as the previous one means the server ignores ``page``: raise rather than loop
    forever.

    Prefetch: the first page is fetched alone (a caller that reads a few items sends
    one request). Once the caller has read a whole page the walk is taken to go on,
    and later pages are requested ahead: the next one (and, when ``total`` says it
    holds wanted items, the one after, ``PREFETCH_PAGES``), so the server prepares
    a page while this process builds the previous one. Pages past ``total`` or
    ``max_items`` are never requested; at most ``1 + PREFETCH_PAGES`` pages are held;
    a caller that stops early cancels what is in flight (one or two requests may
    then have been sent for nothing).
    """
    seen = 0
    page_number = 1
    previous: tuple[object, ...] | None = None
    pending: dict[int, asyncio.Task[Batch[T]]] = {}
    try:
        page = await fetch(page_number, page_size, filters)
        while True:
            if not page.ids:
                return
            if page.ids == previous:
                raise APIResponseValidationError(
                    f"page {page_number} repeated page {page_number - 1}: "
                    "the server ignores paging",
                    response=page.response,
                )
            after = seen + len(page.ids)
            limit = min((n for n in (page.total, max_items) if n is not None), default=None)
            more = limit is None or after < limit
            if more and page_number >= 2:
                depth = PREFETCH_PAGES if page.total is not None else 1
                for ahead in range(page_number + 1, page_number + 1 + depth):
                    # Page `ahead` holds items from (ahead - 1) * page_size on.
                    wanted = ahead == page_number + 1 or (
                        limit is not None and (ahead - 1) * page_size < limit
                    )
                    if wanted and ahead not in pending:
                        pending[ahead] = _prefetch(fetch(ahead, page_size, filters))
            for item in page.items:
                yield item
                seen += 1
                if max_items is not None and seen >= max_items:
                    return
                if seen % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
            if not more:
                return
            previous = page.ids
            page_number += 1
            task = pending.pop(page_number, None)
            page = await (task if task is not None else fetch(page_number, page_size, filters))
    finally:
        for task in pending.values():
            _discard(task)


async def iterate_by_id(
    fetch: FetchBatch[H],
    *,
    filters: Sequence[FilterArg],
    page_size: int,
    max_items: int | None,
) -> AsyncIterator[H]:
    """Keyset walk: always page 1, sorted by id ascending, with ``id gt <last id>``.

    ``fetch`` must sort by id ascending. Rows inserted or deleted during the walk
    cannot shift later pages, so nothing is skipped or yielded twice. From the second
    page on, the next page (``id gt <this page's last id>``) is requested as soon as
    a well-ordered page arrives, while the caller consumes it.
    """

    def request(after_id: int | None) -> Awaitable[Batch[H]]:
        conditions = list(filters)
        if after_id is not None:
            conditions.append(Filter("id", "gt", after_id))
        return fetch(1, page_size, conditions)

    seen = 0
    last_id: int | None = None
    pages = 0
    pending: asyncio.Task[Batch[H]] | None = None
    try:
        page = await request(None)
        while True:
            pages += 1
            if not page.ids:
                return
            # total counts the rows still matching (ids above the previous page's last),
            # so a page that holds them all is the last one.
            last_page = page.total is not None and len(page.ids) >= page.total
            more = not last_page and (max_items is None or seen + len(page.ids) < max_items)
            next_after = _ascending_last(page.ids, last_id)
            if more and pages >= 2 and next_after is not None:
                pending = _prefetch(request(next_after))
            for item in page.items:
                if last_id is not None and item.id <= last_id:
                    raise APIResponseValidationError(
                        f"keyset walk got id {item.id} after {last_id}: the server ignored "
                        "the id filter or the sort",
                        response=page.response,
                    )
                last_id = item.id
                yield item
                seen += 1
                if max_items is not None and seen >= max_items:
                    return
                if seen % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
            if not more:
                return
            task, pending = pending, None
            page = await (task if task is not None else request(last_id))
    finally:
        if pending is not None:
            _discard(pending)


def _ascending_last(ids: Sequence[object], after: int | None) -> int | None:
    """The last of ``ids`` if they are ints ascending from ``after``, else None."""
    previous = after
    for value in ids:
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        if previous is not None and value <= previous:
            return None
        previous = value
    return previous
