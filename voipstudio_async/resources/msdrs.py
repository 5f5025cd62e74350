"""``vs.msdrs``: media session detail records."""

from __future__ import annotations

import os
from contextlib import AbstractAsyncContextManager

from voipstudio_history_client.api.msdrs import (
    download_msdr_pcap,
    get_msdr,
    get_msdr_dictionaries,
    get_msdr_trace,
    list_msdrs,
)
from voipstudio_history_client.models import Msdr, MsdrDictionary, MsdrItem, MsdrList

from .._download import DownloadResult, DownloadStream, ProgressCallback
from .._download import download as _download
from .._download import stream as _stream
from .._transport import NOT_GIVEN, Requester, TimeoutArg
from ._base import KeysetListResource, ListEndpoint, check_id
from ._files import check_size

_LIST: ListEndpoint[Msdr] = ListEndpoint(list_msdrs._get_kwargs, MsdrList.from_dict, "/msdrs")


class Msdrs(KeysetListResource[Msdr]):
    """Media session detail records (``/msdrs``)."""

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

    async def download_pcap(
        self,
        id: int,
        dest: str | os.PathLike[str],
        *,
        expected_size: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> DownloadResult:
        """Save a media session's packet capture (``GET /msdrs/{id}.pcap``) to ``dest``.

        Atomic like every download: ``dest`` is a file path or a directory (the file is
        then ``msdr-<id>.pcap``); on failure no file is left.
        """
        item_id = check_id(id)
        return await _download(
            self._requester,
            download_msdr_pcap._get_kwargs(id=item_id),
            dest,
            path_template="/msdrs/{id}.pcap",
            default_name=f"msdr-{item_id}.pcap",
            expected_size=check_size(expected_size),
            on_progress=on_progress,
        )

    def stream_pcap(
        self, id: int, *, expected_size: int | None = None
    ) -> AbstractAsyncContextManager[DownloadStream]:
        """Open a media session's packet capture body (``async with ... as body``)."""
        return _stream(
            self._requester,
            download_msdr_pcap._get_kwargs(id=check_id(id)),
            path_template="/msdrs/{id}.pcap",
            expected_size=check_size(expected_size),
        )
