"""``Page[T]`` and the two walks over a collection: by page number and by id (keyset)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import httpx

from ._errors import APIResponseValidationError
from ._filters import Filter, FilterArg

__all__ = ["MAX_PAGE_SIZE", "Page", "check_page_size", "iterate_by_id", "iterate_pages"]

MAX_PAGE_SIZE = 5000
"""The API's largest ``limit``."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a collection.

    ``total`` is the server's count of matching rows over all pages, or None when the
    response omitted it.
    """

    items: list[T]
    total: int | None
    page: int
    limit: int
    response: httpx.Response = field(repr=False, compare=False)
    """The raw HTTP response (headers, timing)."""


FetchPage = Callable[[int, int, Sequence[FilterArg]], Awaitable[Page[T]]]
"""``(page, limit, filters) -> Page``: one request with everything else fixed."""


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


H = TypeVar("H", bound=_HasId)


def check_page_size(name: str, value: object) -> int:
    """``value`` if it is an int in 1..5000, else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise ValueError(f"{name} must be an int between 1 and {MAX_PAGE_SIZE}, got {value!r}")
    return value


def check_max_items(value: int | None) -> None:
    """ValueError unless ``value`` is None or a positive int."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"max_items must be a positive int or None, got {value!r}")


async def iterate_pages(
    fetch: FetchPage[T],
    *,
    filters: Sequence[FilterArg],
    page_size: int,
    max_items: int | None,
) -> AsyncIterator[T]:
    """Yield items page by page until an empty page, ``total`` items, or ``max_items``.

    Only the page number changes between requests. A page identical to the previous
    one means the server ignores ``page``: raise rather than loop forever.
    """
    seen = 0
    page_number = 1
    previous: list[T] | None = None
    while True:
        page = await fetch(page_number, page_size, filters)
        if not page.items:
            return
        if page.items == previous:
            raise APIResponseValidationError(
                f"page {page_number} repeated page {page_number - 1}: the server ignores paging",
                response=page.response,
            )
        for item in page.items:
            yield item
            seen += 1
            if max_items is not None and seen >= max_items:
                return
        if page.total is not None and seen >= page.total:
            return
        previous = page.items
        page_number += 1


async def iterate_by_id(
    fetch: FetchPage[H],
    *,
    filters: Sequence[FilterArg],
    page_size: int,
    max_items: int | None,
) -> AsyncIterator[H]:
    """Keyset walk: always page 1, sorted by id ascending, with ``id gt <last id>``.

    ``fetch`` must sort by id ascending. Rows inserted or deleted during the walk
    cannot shift later pages, so nothing is skipped or yielded twice.
    """
    seen = 0
    last_id: int | None = None
    while True:
        conditions = list(filters)
        if last_id is not None:
            conditions.append(Filter("id", "gt", last_id))
        page = await fetch(1, page_size, conditions)
        if not page.items:
            return
        for item in page.items:
            if last_id is not None and item.id <= last_id:
                raise APIResponseValidationError(
                    f"keyset walk got id {item.id} after {last_id}: the server ignored the "
                    "id filter or the sort",
                    response=page.response,
                )
            last_id = item.id
            yield item
            seen += 1
            if max_items is not None and seen >= max_items:
                return
        # total counts the rows still matching (ids above the previous page's last),
        # so a page that holds them all is the last one.
        if page.total is not None and len(page.items) >= page.total:
            return
