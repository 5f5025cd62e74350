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

from .._transport import NOT_GIVEN, Requester, TimeoutArg
from ._base import KeysetListResource, ListEndpoint, check_id
from ._verbs import FileEndpoint, _PcapDownloads

_LIST: ListEndpoint[Msdr] = ListEndpoint(
    list_msdrs._get_kwargs, MsdrList.from_dict, "/msdrs", frozenset(MSDR_SORT_FIELD_VALUES)
)


class Msdrs(KeysetListResource[Msdr], _PcapDownloads):
    """Media session detail records (``/msdrs``).

    ``download_pcap`` and ``stream_pcap`` fetch a media session's packet capture
    (``GET /msdrs/{id}.pcap``), saved as ``msdr-<id>.pcap`` in a directory ``dest``.
    """

    _pcap_op = FileEndpoint(download_msdr_pcap._get_kwargs, "/msdrs/{id}.pcap", "msdr")

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester, _LIST)

    async def get(self, id: int, *, timeout: TimeoutArg = NOT_GIVEN) -> Msdr:
        """One MSDR by id."""
        item = await self._get_model(
            get_msdr._get_kwargs(check_id(id)),
            MsdrItem.from_dict,
            path_template="/msdrs/{id}",
            timeout=timeout,
        )
        return item.data

    async def dictionaries(self, *, timeout: TimeoutArg = NOT_GIVEN) -> MsdrDictionary:
        """The MSDR dictionaries (lookup values for coded fields)."""
        return await self._get_model(
            get_msdr_dictionaries._get_kwargs(),
            MsdrDictionary.from_dict,
            path_template="/msdrs/dictionaries",
            timeout=timeout,
        )

    async def trace(self, id: int, *, timeout: TimeoutArg = NOT_GIVEN) -> str:
        """The SIP trace of a media session, as text."""
        return await self._get_text(
            get_msdr_trace._get_kwargs(check_id(id)),
            path_template="/msdrs/{id}.trace",
            timeout=timeout,
        )
