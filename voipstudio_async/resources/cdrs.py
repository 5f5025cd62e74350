"""``vs.cdrs``: call detail records."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence

from voipstudio_history_client.api.cdrs import (
    get_cdr,
    get_cdr_dictionaries,
    get_cdr_notes,
    get_cdr_trace,
    list_cdrs,
    list_cdrs_calltracking,
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
)
from voipstudio_history_client.types import Unset

from .._filters import FilterArg
from .._pagination import Page
from .._transport import NOT_GIVEN, Requester, TimeoutArg
from ._base import (
    DEFAULT_LIMIT,
    DEFAULT_PAGE_SIZE,
    Direction,
    KeysetListResource,
    ListEndpoint,
    check_id,
)

_LIST: ListEndpoint[Cdr] = ListEndpoint(list_cdrs._get_kwargs, CdrList.from_dict, "/cdrs")
_CALLTRACKING: ListEndpoint[CallTrackingCdr] = ListEndpoint(
    list_cdrs_calltracking._get_kwargs, CallTrackingCdrList.from_dict, "/cdrs/calltracking"
)


class Cdrs(KeysetListResource[Cdr]):
    """Call detail records (``/cdrs``)."""

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester, _LIST)

    async def get(self, id: int, *, timeout: TimeoutArg = NOT_GIVEN) -> Cdr:
        """One CDR by id."""
        kwargs = get_cdr._get_kwargs(check_id(id))
        item = await self._get_model(
            kwargs, CdrItem.from_dict, path_template="/cdrs/{id}", timeout=timeout
        )
        return item.data

    async def dictionaries(self, *, timeout: TimeoutArg = NOT_GIVEN) -> CdrDictionary:
        """The CDR dictionaries (lookup values for coded fields)."""
        return await self._get_model(
            get_cdr_dictionaries._get_kwargs(),
            CdrDictionary.from_dict,
            path_template="/cdrs/dictionaries",
            timeout=timeout,
        )

    async def notes(self, id: int, *, timeout: TimeoutArg = NOT_GIVEN) -> builtins.list[CdrNote]:
        """The notes attached to a CDR (empty when it has none)."""
        kwargs = get_cdr_notes._get_kwargs(check_id(id))
        body = await self._get_model(
            kwargs, CdrNotes.from_dict, path_template="/cdrs/{id}/notes", timeout=timeout
        )
        if isinstance(body.data, Unset):
            return []
        # The API answers a single object when a CDR has exactly one note.
        return body.data if isinstance(body.data, builtins.list) else [body.data]

    async def trace(self, id: int, *, timeout: TimeoutArg = NOT_GIVEN) -> str:
        """The SIP trace of a call, as text."""
        return await self._get_text(
            get_cdr_trace._get_kwargs(check_id(id)),
            path_template="/cdrs/{id}.trace",
            timeout=timeout,
        )

    async def calltracking_list(
        self,
        *,
        page: int = 1,
        limit: int = DEFAULT_LIMIT,
        filter: Sequence[FilterArg] | None = None,
        sort: str | None = None,
        direction: Direction | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> Page[CallTrackingCdr]:
        """One page of call-tracking CDRs (``/cdrs/calltracking``)."""
        return await self._list(
            _CALLTRACKING,
            page=page,
            limit=limit,
            filters=filter,
            sort=sort,
            direction=direction,
            timeout=timeout,
        )

    def calltracking_iterate(
        self,
        *,
        filter: Sequence[FilterArg] | None = None,
        sort: str | None = None,
        direction: Direction | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_items: int | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> AsyncIterator[CallTrackingCdr]:
        """Every call-tracking CDR from ``/cdrs/calltracking``, fetched lazily."""
        return self._iterate(
            _CALLTRACKING,
            filters=filter,
            sort=sort,
            direction=direction,
            page_size=page_size,
            max_items=max_items,
            timeout=timeout,
        )
