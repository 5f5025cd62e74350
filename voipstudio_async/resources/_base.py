"""Shared plumbing for resource namespaces: validate → ``_get_kwargs`` → Requester → model.

A resource module defines one class per collection. Read verbs come from the bases
below; the delete and download verbs several collections share come from the mixins in
``_verbs``; other write verbs are plain methods added to that class which call the
engines in ``_bulk``/``_download`` with ``self._requester``.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeAlias, TypeVar

import httpx
from voipstudio_history_client.models.sort_direction import SortDirection
from voipstudio_history_client.types import UNSET, Unset

from .._checks import check_id, check_timeout
from .._constants import DEFAULT_LIST_LIMIT, DEFAULT_PAGE_SIZE
from .._fields import item_fields
from .._filters import FilterArg, encode_filters
from .._operations import Operation, calls
from .._pagination import (
    Batch,
    FetchBatch,
    Page,
    check_max_items,
    check_page_size,
    iterate_by_id,
    iterate_pages,
)
from .._policies.deadline import check_seconds
from .._request.decode import _HasData, parse_data, parse_list, parse_model, parse_rows
from .._request.requester import (
    NOT_GIVEN,
    DeadlineArg,
    NotGiven,
    Requester,
    RetryPolicy,
    TimeoutArg,
)

__all__ = [
    "Direction",
    "KeysetListResource",
    "ListEndpoint",
    "ListResource",
    "Resource",
    "check_id",
]

Direction: TypeAlias = Literal["ASC", "DESC"]


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
M = TypeVar("M")


class _IdModel(Protocol):
    @property
    def id(self) -> int: ...


H = TypeVar("H", bound=_IdModel)


class ListKwargsBuilder(Protocol):
    """The shape of every generated list operation's ``_get_kwargs``."""

    def __call__(
        self,
        *,
        page: int | Unset = ...,
        limit: int | Unset = ...,
        filter_: str | Unset = ...,
        # Each collection's own Literal of sortable fields; _check_sort vets it first.
        sort: Any = ...,
        dir_: SortDirection | Unset = ...,
    ) -> dict[str, Any]: ...


class ListBody(Protocol[T_co]):
    """The shape of every generated ``*List`` model."""

    @property
    def data(self) -> Sequence[T_co]: ...

    @property
    def total(self) -> int | Unset: ...


class _Walk(Protocol[T]):
    """``iterate_pages`` or ``iterate_by_id``: a walk that requests pages through ``fetch``."""

    def __call__(
        self,
        fetch: FetchBatch[T],
        *,
        filters: Sequence[FilterArg],
        page_size: int,
        max_items: int | None,
    ) -> AsyncIterator[T]: ...


@dataclass(frozen=True, slots=True)
class ListEndpoint(Generic[T]):
    """A generated list operation, the ``from_dict`` of its body model and the fields it
    can be sorted by (the spec's enum, e.g. ``CDR_SORT_FIELD_VALUES``)."""

    op: Operation
    parse: Callable[[Mapping[str, Any]], ListBody[T]]
    sort_fields: frozenset[str]

    @property
    def build(self) -> ListKwargsBuilder:
        return self.op.build

    @property
    def path(self) -> str:
        return self.op.path

    @property
    def fields(self) -> tuple[str, ...]:
        """The item's properties (JSON names): what ``filter=`` may name."""
        # parse is a bound classmethod (``CdrList.from_dict``); Callable has no __self__.
        return item_fields(getattr(self.parse, "__self__"))  # noqa: B009


def _check_sort(sort: object, direction: object, sort_fields: Collection[str]) -> None:
    if sort is not None and (not isinstance(sort, str) or sort not in sort_fields):
        raise ValueError(f"sort must be one of {sorted(sort_fields)}, got {sort!r}")
    if direction is not None and direction not in ("ASC", "DESC"):
        raise ValueError(f"direction must be 'ASC' or 'DESC', got {direction!r}")


class Resource:
    """Base of every namespace: holds the shared Requester.

    Args:
        requester: The client's requester (the client builds the namespaces).
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def __repr__(self) -> str:
        return f"<{type(self).__name__} resource>"

    async def _get(
        self, op: Operation, *args: Any, timeout: TimeoutArg, deadline: DeadlineArg
    ) -> httpx.Response:
        """The read response of a ``GET`` through ``op`` (built with ``args``)."""
        with self._requester.deadline(deadline):
            return await self._requester.send(
                op.build(*args),
                policy=RetryPolicy.IDEMPOTENT,
                path_template=op.path,
                timeout=timeout,
            )

    async def _get_model(
        self,
        op: Operation,
        from_dict: Callable[[Mapping[str, Any]], M],
        *args: Any,
        timeout: TimeoutArg,
        deadline: DeadlineArg,
    ) -> M:
        """``GET`` through ``op`` (built with ``args``), parsed with ``from_dict``."""
        response = await self._get(op, *args, timeout=timeout, deadline=deadline)
        return parse_model(response, from_dict, what=f"GET {op.path}")

    async def _get_item(
        self,
        op: Operation,
        from_dict: Callable[[Mapping[str, Any]], _HasData[M]],
        *args: Any,
        timeout: TimeoutArg,
        deadline: DeadlineArg,
    ) -> M:
        """``GET`` through ``op`` of a one-item envelope (``CdrItem``...): its ``data``."""
        response = await self._get(op, *args, timeout=timeout, deadline=deadline)
        return parse_data(response, from_dict, what=f"GET {op.path}")

    async def _get_text(
        self, op: Operation, *args: Any, timeout: TimeoutArg, deadline: DeadlineArg
    ) -> str:
        response = await self._get(op, *args, timeout=timeout, deadline=deadline)
        return response.text


class ListResource(Resource, Generic[T]):
    """A collection with ``list()`` (one page) and ``iterate()`` (every item).

    A subclass names its list operation as the class attribute ``_list_op``; an
    instance built with another ``endpoint`` serves that one instead.

    Args:
        requester: The client's requester (the client builds the namespaces).
        endpoint: The list operation to serve instead of the class's.
    """

    _list_op: ClassVar[ListEndpoint[Any]]

    def __init__(self, requester: Requester, endpoint: ListEndpoint[T] | None = None) -> None:
        super().__init__(requester)
        self._endpoint: ListEndpoint[T] = self._list_op if endpoint is None else endpoint
        self._what = f"GET {self._endpoint.path}"

    async def _send_list(
        self,
        page: int,
        limit: int,
        filters: Sequence[FilterArg] | None,
        sort: str | None,
        direction: Direction | None,
        timeout: TimeoutArg,
        deadline: DeadlineArg,
    ) -> httpx.Response:
        encoded = encode_filters(filters, self._endpoint.fields)
        kwargs = self._endpoint.build(
            page=page,
            limit=limit,
            filter_=UNSET if encoded is None else encoded,
            sort=UNSET if sort is None else sort,
            dir_=UNSET if direction is None else direction,
        )
        with self._requester.deadline(deadline):
            return await self._requester.send(
                kwargs,
                policy=RetryPolicy.IDEMPOTENT,
                path_template=self._endpoint.path,
                timeout=timeout,
            )

    @calls("_list_op")
    async def list(
        self,
        *,
        page: int = 1,
        limit: int = DEFAULT_LIST_LIMIT,
        filter: Sequence[FilterArg] | None = None,
        sort: str | None = None,
        direction: Direction | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        deadline: DeadlineArg = NOT_GIVEN,
    ) -> Page[T]:
        """One page (1-based ``page``, ``limit`` 1..5000) matching all ``filter`` conditions.

        ``deadline``: seconds for the whole call, retries and waits included (default:
        the client's); past it ``APITimeoutError``.

        Args:
            page: The page number, from 1.
            limit: Items per page (1 to 5000).
            filter: Conditions, all of which an item must meet: ``(field, operator,
                value)`` tuples or ``Filter`` objects, by the API's field names.
            sort: The field to order by (the API's name, e.g. ``calldate``).
            direction: ``"ASC"`` or ``"DESC"`` (with ``sort``).
            timeout: Seconds (or an ``httpx.Timeout``) for each request; default the
                client's.
            deadline: Seconds for the whole call (None: no limit; default the client's).

        Returns:
            The page: ``items``, and ``total`` when the server counted them.

        Raises:
            ValueError: An argument is refused before anything is sent.
            APIStatusError: The API answered with an error status.
            APITimeoutError: The call did not finish in time.
        """
        check_id(page, "page")
        check_page_size("limit", limit)
        _check_sort(sort, direction, self._endpoint.sort_fields)
        # _send_list validates the filters (encoding them) before anything is sent.
        response = await self._send_list(page, limit, filter, sort, direction, timeout, deadline)
        items, total = await parse_list(response, self._endpoint.parse, what=self._what)
        return Page(
            items=items,
            total=None if isinstance(total, Unset) else total,
            page=page,
            limit=limit,
            response=response,
        )

    @calls("_list_op")
    def iterate(
        self,
        *,
        filter: Sequence[FilterArg] | None = None,
        sort: str | None = None,
        direction: Direction | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_items: int | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        deadline: DeadlineArg = NOT_GIVEN,
    ) -> AsyncIterator[T]:
        """Every matching item, fetched lazily page by page (``async for``).

        ``deadline`` applies to each page request. Walks by page number: if rows are
        inserted or deleted while it runs, items can shift between pages. Use
        ``iterate_consistent()`` for that case.

        Args:
            filter: Conditions, all of which an item must meet: ``(field, operator,
                value)`` tuples or ``Filter`` objects, by the API's field names.
            sort: The field to order by (the API's name, e.g. ``calldate``).
            direction: ``"ASC"`` or ``"DESC"`` (with ``sort``).
            page_size: Items per request (1 to 5000).
            max_items: Stop after this many items (None: all).
            timeout: Seconds (or an ``httpx.Timeout``) for each request; default the
                client's.
            deadline: Seconds for each page request (default the client's).

        Returns:
            An async iterator of the items, typed (``Cdr``, ``Monitor``, ...).

        Raises:
            ValueError: An argument is refused before anything is sent.
            APIStatusError: The API answered with an error status.
            APITimeoutError: A page did not arrive in time.
        """
        return self._walk(
            iterate_pages,
            filters=filter,
            sort=sort,
            direction=direction,
            page_size=page_size,
            max_items=max_items,
            timeout=timeout,
            deadline=deadline,
        )

    def _walk(
        self,
        walk: _Walk[T],
        *,
        filters: Sequence[FilterArg] | None,
        sort: str | None,
        direction: Direction | None,
        page_size: int,
        max_items: int | None,
        timeout: TimeoutArg,
        deadline: DeadlineArg,
    ) -> AsyncIterator[T]:
        # Validate now, so bad input fails at the call rather than at the first `async for`.
        check_page_size("page_size", page_size)
        check_max_items(max_items)
        _check_sort(sort, direction, self._endpoint.sort_fields)
        encode_filters(filters, self._endpoint.fields)
        if not isinstance(deadline, NotGiven):
            check_seconds(deadline)  # each page opens its own deadline below
        if not isinstance(timeout, NotGiven):
            check_timeout(timeout)

        def decode(response: httpx.Response) -> tuple[Iterable[T], tuple[object, ...], int | None]:
            # Items are built as the walk reaches them (see _request.decode.Rows).
            items, ids, total = parse_rows(response, self._endpoint.parse, what=self._what)
            return items, ids, None if isinstance(total, Unset) else total

        async def fetch(page: int, limit: int, conditions: Sequence[FilterArg]) -> Batch[T]:
            # The deadline applies per page: a walk may run for hours.
            response = await self._send_list(
                page, limit, conditions, sort, direction, timeout, deadline
            )
            return Batch(response, decode)

        return walk(
            fetch, filters=builtins.list(filters or ()), page_size=page_size, max_items=max_items
        )


class KeysetListResource(ListResource[H]):
    """A collection whose items have integer ids, so it can also be walked by id."""

    @calls("_list_op")
    def iterate_consistent(
        self,
        *,
        filter: Sequence[FilterArg] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_items: int | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        deadline: DeadlineArg = NOT_GIVEN,
    ) -> AsyncIterator[H]:
        """Every matching item in ascending id order, robust to concurrent changes.

        Each request asks for page 1 sorted by id with ``id gt <last id seen>``, so rows
        inserted or deleted during the walk never make it skip or repeat an item (a
        page-number walk can). Use it for exports and syncs of live data; it costs
        the server's own sort order (always id ascending).

        Args:
            filter: Conditions, all of which an item must meet: ``(field, operator,
                value)`` tuples or ``Filter`` objects, by the API's field names.
            page_size: Items per request (1 to 5000).
            max_items: Stop after this many items (None: all).
            timeout: Seconds (or an ``httpx.Timeout``) for each request; default the
                client's.
            deadline: Seconds for each page request (default the client's).

        Returns:
            An async iterator of the items in ascending id order.

        Raises:
            ValueError: An argument is refused before anything is sent.
            APIStatusError: The API answered with an error status.
            APITimeoutError: A page did not arrive in time.
        """
        return self._walk(
            iterate_by_id,
            filters=filter,
            sort="id",
            direction="ASC",
            page_size=page_size,
            max_items=max_items,
            timeout=timeout,
            deadline=deadline,
        )
