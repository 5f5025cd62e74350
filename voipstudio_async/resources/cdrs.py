"""``vs.cdrs``: call detail records."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from voipstudio_history_client.api.cdrs import (
    delete_all_cdrs,
    download_cdr_pcap,
    get_cdr,
    get_cdr_dictionaries,
    get_cdr_notes,
    get_cdr_trace,
    list_cdrs,
    list_cdrs_calltracking,
    update_cdrs,
)
from voipstudio_history_client.models import (
    CallTrackingCdr,
    CallTrackingCdrList,
    Cdr,
    CdrDictionary,
    CdrItem,
    CdrList,
    CdrNote,
    CdrNotes,
    CdrPatch,
)
from voipstudio_history_client.models.call_tracking_cdr_sort_field import (
    CALL_TRACKING_CDR_SORT_FIELD_VALUES,
)
from voipstudio_history_client.models.cdr_sort_field import CDR_SORT_FIELD_VALUES
from voipstudio_history_client.types import Unset

from .._bulk import BulkResult
from .._bulk import bulk_patch as _bulk_patch
from .._constants import (
    DEFAULT_BULK_CHUNK_ITEMS,
    DEFAULT_BULK_CONCURRENCY,
    DEFAULT_LIST_LIMIT,
    DEFAULT_PAGE_SIZE,
)
from .._filters import FilterArg
from .._operations import calls, operation
from .._pagination import Page
from .._request.requester import NOT_GIVEN, DeadlineArg, Requester, TimeoutArg
from ._base import (
    Direction,
    KeysetListResource,
    ListEndpoint,
    ListResource,
    check_id,
)
from ._verbs import DeleteAllEndpoint, FileEndpoint, _DeleteAll, _PcapDownloads

_CALLTRACKING: ListEndpoint[CallTrackingCdr] = ListEndpoint(
    operation(list_cdrs_calltracking),
    CallTrackingCdrList.from_dict,
    frozenset(CALL_TRACKING_CDR_SORT_FIELD_VALUES),
)
_GET_CDR = operation(get_cdr)
_GET_CDR_DICTIONARIES = operation(get_cdr_dictionaries)
_GET_CDR_NOTES = operation(get_cdr_notes)
_GET_CDR_TRACE = operation(get_cdr_trace)
_UPDATE = operation(update_cdrs)


class Cdrs(KeysetListResource[Cdr], _DeleteAll, _PcapDownloads):
    """Call detail records (``/cdrs``).

    ``delete_all(confirm=True)`` sends ``DELETE /cdrs``. ``download_pcap`` and
    ``stream_pcap`` fetch a call's packet capture (``GET /cdrs/{id}.pcap``), saved as
    ``cdr-<id>.pcap`` in a directory ``dest``.
    """

    _list_op = ListEndpoint(
        operation(list_cdrs), CdrList.from_dict, frozenset(CDR_SORT_FIELD_VALUES)
    )
    _delete_all_op = DeleteAllEndpoint(operation(delete_all_cdrs))
    _pcap_op = FileEndpoint(operation(download_cdr_pcap), "cdr")

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester)
        self._calltracking = ListResource(requester, _CALLTRACKING)

    @calls(_GET_CDR)
    async def get(
        self, id: int, *, timeout: TimeoutArg = NOT_GIVEN, deadline: DeadlineArg = NOT_GIVEN
    ) -> Cdr:
        """One CDR by id.

        Args:
            id: The item's id.
            timeout: Seconds (or an ``httpx.Timeout``) for the request; default the
                client's.
            deadline: Seconds for the whole call, retries included; default the client's.

        Returns:
            The item with that id, as a ``Cdr`` model.

        Raises:
            ValueError: ``id`` is not a positive integer; nothing was sent.
            NotFoundError: No item has that id.
            APIStatusError: The API answered with another error status.
            APITimeoutError: The call did not finish in time.
        """
        return await self._get_item(
            _GET_CDR, CdrItem.from_dict, check_id(id), timeout=timeout, deadline=deadline
        )

    @calls(_GET_CDR_DICTIONARIES)
    async def dictionaries(
        self, *, timeout: TimeoutArg = NOT_GIVEN, deadline: DeadlineArg = NOT_GIVEN
    ) -> CdrDictionary:
        """The CDR dictionaries (lookup values for coded fields).

        Args:
            timeout: Seconds (or an ``httpx.Timeout``) for the request; default the
                client's.
            deadline: Seconds for the whole call, retries included; default the client's.

        Returns:
            The lookup values of the coded fields, by field.

        Raises:
            APIStatusError: The API answered with another error status.
            APITimeoutError: The call did not finish in time.
        """
        return await self._get_model(
            _GET_CDR_DICTIONARIES, CdrDictionary.from_dict, timeout=timeout, deadline=deadline
        )

    @calls(_GET_CDR_NOTES)
    async def notes(
        self, id: int, *, timeout: TimeoutArg = NOT_GIVEN, deadline: DeadlineArg = NOT_GIVEN
    ) -> builtins.list[CdrNote]:
        """The notes attached to a CDR (empty when it has none).

        Args:
            id: The item's id.
            timeout: Seconds (or an ``httpx.Timeout``) for the request; default the
                client's.
            deadline: Seconds for the whole call, retries included; default the client's.

        Returns:
            The notes (empty when there are none).

        Raises:
            ValueError: ``id`` is not a positive integer; nothing was sent.
            NotFoundError: No item has that id.
            APIStatusError: The API answered with another error status.
            APITimeoutError: The call did not finish in time.
        """
        body = await self._get_model(
            _GET_CDR_NOTES, CdrNotes.from_dict, check_id(id), timeout=timeout, deadline=deadline
        )
        if isinstance(body.data, Unset):
            return []
        # The API answers a single object when a CDR has exactly one note.
        return body.data if isinstance(body.data, builtins.list) else [body.data]

    @calls(_GET_CDR_TRACE)
    async def trace(
        self, id: int, *, timeout: TimeoutArg = NOT_GIVEN, deadline: DeadlineArg = NOT_GIVEN
    ) -> str:
        """The SIP trace of a call, as text.

        Args:
            id: The item's id.
            timeout: Seconds (or an ``httpx.Timeout``) for the request; default the
                client's.
            deadline: Seconds for the whole call, retries included; default the client's.

        Returns:
            The SIP trace as text.

        Raises:
            ValueError: ``id`` is not a positive integer; nothing was sent.
            NotFoundError: No item has that id.
            APIStatusError: The API answered with another error status.
            APITimeoutError: The call did not finish in time.
        """
        return await self._get_text(
            _GET_CDR_TRACE, check_id(id), timeout=timeout, deadline=deadline
        )

    @calls(_CALLTRACKING.op)
    async def calltracking_list(
        self,
        *,
        page: int = 1,
        limit: int = DEFAULT_LIST_LIMIT,
        filter: Sequence[FilterArg] | None = None,
        sort: str | None = None,
        direction: Direction | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        deadline: DeadlineArg = NOT_GIVEN,
    ) -> Page[CallTrackingCdr]:
        """One page of call-tracking CDRs (``/cdrs/calltracking``).

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
        return await self._calltracking.list(
            page=page,
            limit=limit,
            filter=filter,
            sort=sort,
            direction=direction,
            timeout=timeout,
            deadline=deadline,
        )

    @calls(_CALLTRACKING.op)
    def calltracking_iterate(
        self,
        *,
        filter: Sequence[FilterArg] | None = None,
        sort: str | None = None,
        direction: Direction | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_items: int | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        deadline: DeadlineArg = NOT_GIVEN,
    ) -> AsyncIterator[CallTrackingCdr]:
        """Every call-tracking CDR from ``/cdrs/calltracking``, fetched lazily.

        Args:
            filter: Conditions, all of which an item must meet: ``(field, operator,
                value)`` tuples or ``Filter`` objects, by the API's field names.
            sort: The field to order by (the API's name, e.g. ``calldate``).
            direction: ``"ASC"`` or ``"DESC"`` (with ``sort``).
            page_size: Items per request (1 to 5000).
            max_items: Stop after this many items (None: all).
            timeout: Seconds (or an ``httpx.Timeout``) for each request; default the
                client's.
            deadline: Seconds for each page request (None: no limit; default the
                client's).

        Returns:
            An async iterator of the items (``async for``).

        Raises:
            ValueError: An argument is refused before anything is sent.
            APIStatusError: The API answered with an error status.
            APITimeoutError: A page request did not finish in time.
        """
        return self._calltracking.iterate(
            filter=filter,
            sort=sort,
            direction=direction,
            page_size=page_size,
            max_items=max_items,
            timeout=timeout,
            deadline=deadline,
        )

    @calls(_UPDATE)
    async def update(
        self,
        items: Iterable[Mapping[str, Any] | CdrPatch],
        *,
        chunk_size: int = DEFAULT_BULK_CHUNK_ITEMS,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        deadline: DeadlineArg = NOT_GIVEN,
    ) -> BulkResult[None]:
        """PATCH CDRs (``PATCH /cdrs``): ``{"id": 42, "labels": [...], "info": ...}`` items.

        Items are mappings keyed by the API's field names (``type``, not ``type_``) or
        ``CdrPatch`` models. Any Cdr property the spec does not mark ``readOnly`` may
        be sent (the API documents none as writable; ``labels``, ``metadata`` and
        ``info`` are the likely ones and the server answers 400 for others); ids,
        timing and billing (``calldate``, ``billsec``, ``charge``, ...) are what the
        server records and are refused. All are validated before anything is sent
        (positive int id, only ``CdrPatch`` properties, no id repeated with different values;
        ``ValueError`` lists the problems). Sent in chunks of ``chunk_size``, ``concurrency`` at a
        time, never replayed after an ambiguous failure. One outcome per input item,
        in input order (``result.failed`` carries each error); an empty input sends
        nothing.

        Args:
            items: The changes, one mapping or model per item, each with its ``id``.
            chunk_size: Items per request.
            concurrency: Requests in flight at once.
            deadline: Seconds for the whole call (default the client's).

        Returns:
            One outcome per input item, in input order (``result.ok``, ``result.failed``).

        Raises:
            ValueError: An item is refused (the message lists the problems); nothing
                was sent.
        """
        with self._requester.deadline(deadline):
            return await _bulk_patch(
                self._requester,
                items,
                build_kwargs=lambda body: _UPDATE.build(body=body),
                model_cls=CdrPatch,
                path_template=_UPDATE.path,
                chunk_size=chunk_size,
                concurrency=concurrency,
            )
