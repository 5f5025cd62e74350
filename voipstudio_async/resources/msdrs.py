"""``vs.msdrs``: media session detail records."""

from __future__ import annotations

from voipstudio_history_client.api.msdrs import (
    download_msdr_pcap,
    get_msdr,
    get_msdr_dictionaries,
    get_msdr_trace,
    list_msdrs,
)
from voipstudio_history_client.models import Msdr, MsdrDictionary, MsdrItem, MsdrList
from voipstudio_history_client.models.msdr_sort_field import MSDR_SORT_FIELD_VALUES

from .._operations import calls, operation
from .._request.requester import NOT_GIVEN, DeadlineArg, TimeoutArg
from ._base import KeysetListResource, ListEndpoint, check_id
from ._verbs import FileEndpoint, _PcapDownloads

_GET_MSDR = operation(get_msdr)
_GET_MSDR_DICTIONARIES = operation(get_msdr_dictionaries)
_GET_MSDR_TRACE = operation(get_msdr_trace)


class Msdrs(KeysetListResource[Msdr], _PcapDownloads):
    """Media session detail records (``/msdrs``).

    ``download_pcap`` and ``stream_pcap`` fetch a media session's packet capture
    (``GET /msdrs/{id}.pcap``), saved as ``msdr-<id>.pcap`` in a directory ``dest``.
    """

    _list_op = ListEndpoint(
        operation(list_msdrs), MsdrList.from_dict, frozenset(MSDR_SORT_FIELD_VALUES)
    )
    _pcap_op = FileEndpoint(operation(download_msdr_pcap), "msdr")

    @calls(_GET_MSDR)
    async def get(
        self, id: int, *, timeout: TimeoutArg = NOT_GIVEN, deadline: DeadlineArg = NOT_GIVEN
    ) -> Msdr:
        """One MSDR by id.

        Args:
            id: The item's id.
            timeout: Seconds (or an ``httpx.Timeout``) for the request; default the
                client's.
            deadline: Seconds for the whole call, retries included; default the client's.

        Returns:
            The item with that id, as a ``Msdr`` model.

        Raises:
            ValueError: ``id`` is not a positive integer; nothing was sent.
            NotFoundError: No item has that id.
            APIStatusError: The API answered with another error status.
            APITimeoutError: The call did not finish in time.
        """
        return await self._get_item(
            _GET_MSDR, MsdrItem.from_dict, check_id(id), timeout=timeout, deadline=deadline
        )

    @calls(_GET_MSDR_DICTIONARIES)
    async def dictionaries(
        self, *, timeout: TimeoutArg = NOT_GIVEN, deadline: DeadlineArg = NOT_GIVEN
    ) -> MsdrDictionary:
        """The MSDR dictionaries (lookup values for coded fields).

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
            _GET_MSDR_DICTIONARIES, MsdrDictionary.from_dict, timeout=timeout, deadline=deadline
        )

    @calls(_GET_MSDR_TRACE)
    async def trace(
        self, id: int, *, timeout: TimeoutArg = NOT_GIVEN, deadline: DeadlineArg = NOT_GIVEN
    ) -> str:
        """The SIP trace of a media session, as text.

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
            _GET_MSDR_TRACE, check_id(id), timeout=timeout, deadline=deadline
        )
