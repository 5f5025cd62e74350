"""``vs.voicemessages``: voicemail messages."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from voipstudio_history_client.api.voicemessages import (
    delete_all_voicemessages,
    delete_voicemessages,
    download_voicemessage_mp3,
    get_voicemessage,
    list_voicemessages,
    update_voicemessages,
)
from voipstudio_history_client.models import (
    Voicemessage,
    VoicemessageItem,
    VoicemessageList,
    VoicemessagePatch,
)

from .._bulk import DEFAULT_CHUNK_SIZE, DEFAULT_CONCURRENCY, BulkResult, DeleteAllResult
from .._bulk import bulk_delete as _bulk_delete
from .._bulk import bulk_patch as _bulk_patch
from .._bulk import delete_all as _delete_all
from .._download import DownloadResult, DownloadStream, ManyProgressCallback, ProgressCallback
from .._download import download as _download
from .._download import download_many as _download_many
from .._download import stream as _stream
from .._transport import NOT_GIVEN, Requester, TimeoutArg
from ._base import KeysetListResource, ListEndpoint, check_id
from ._files import download_target, download_targets

_LIST: ListEndpoint[Voicemessage] = ListEndpoint(
    list_voicemessages._get_kwargs, VoicemessageList.from_dict, "/voicemessages"
)
_MP3 = "/voicemessages/{id}.mp3"


def _file_name(item_id: int) -> str:
    return f"voicemessage-{item_id}.mp3"


class Voicemessages(KeysetListResource[Voicemessage]):
    """Voicemail messages (``/voicemessages``)."""

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester, _LIST)

    async def get(self, id: int, *, timeout: TimeoutArg = NOT_GIVEN) -> Voicemessage:
        """One voicemail's metadata by id."""
        item = await self._get_model(
            get_voicemessage._get_kwargs(check_id(id)),
            VoicemessageItem.from_dict,
            path_template="/voicemessages/{id}",
            timeout=timeout,
        )
        return item.data

    async def update(
        self,
        items: Iterable[Mapping[str, Any] | VoicemessagePatch],
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> BulkResult[None]:
        """PATCH voicemails (``PATCH /voicemessages``): ``{"id": 7, "folder": "Work"}`` items.

        Items are mappings or ``VoicemessagePatch`` models. All are validated before
        anything is sent (positive int id, known fields, no id repeated with different
        values; ``ValueError`` lists the problems). Sent in chunks of ``chunk_size``,
        ``concurrency`` at a time, never replayed after an ambiguous failure. One
        outcome per input item, in order; an empty input sends nothing.
        """
        return await _bulk_patch(
            self._requester,
            items,
            build_kwargs=lambda body: update_voicemessages._get_kwargs(body=body),
            model_cls=VoicemessagePatch,
            path_template="/voicemessages",
            chunk_size=chunk_size,
            concurrency=concurrency,
        )

    async def move(
        self,
        ids: Iterable[int],
        *,
        folder: int | str,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> BulkResult[None]:
        """Move voicemails to ``folder`` (e.g. ``"Work"``): ``update`` with only the folder."""
        if isinstance(folder, bool) or not isinstance(folder, int | str) or folder == "":
            raise ValueError(f"folder must be a folder name or id, got {folder!r}")
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
            raise TypeError(f"ids must be an iterable of ints, got {type(ids).__name__}")
        return await self.update(
            [{"id": item_id, "folder": folder} for item_id in ids],
            chunk_size=chunk_size,
            concurrency=concurrency,
        )

    async def delete(
        self,
        ids: Iterable[int],
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> BulkResult[None]:
        """Delete voicemails by id (``DELETE /voicemessages/1,2,3``), in chunks.

        An empty ``ids`` raises ``ValueError`` and sends nothing. One outcome per id.
        """
        return await _bulk_delete(
            self._requester,
            ids,
            build_kwargs=lambda chunk: delete_voicemessages._get_kwargs(id=chunk),
            path_template="/voicemessages/{id}",
            chunk_size=chunk_size,
            concurrency=concurrency,
        )

    async def delete_all(self, *, confirm: bool = False) -> DeleteAllResult:
        """Delete every voicemail (``DELETE /voicemessages``): only with ``confirm=True``."""
        return await _delete_all(
            self._requester,
            build_kwargs=delete_all_voicemessages._get_kwargs,
            path_template="/voicemessages",
            confirm=confirm,
        )

    async def download(
        self,
        id: int | Voicemessage,
        dest: str | os.PathLike[str],
        *,
        expected_size: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> DownloadResult:
        """Save a voicemail's MP3 (``GET /voicemessages/{id}.mp3``) atomically to ``dest``.

        ``id`` is an id or a ``Voicemessage``. ``dest`` is a file path or a directory
        (the file is then ``voicemessage-<id>.mp3``). Verified against
        ``Content-Length`` and ``expected_size`` when given; on failure no file is left.
        """
        item_id, size = download_target(id, Voicemessage, expected_size)
        return await _download(
            self._requester,
            download_voicemessage_mp3._get_kwargs(id=item_id),
            dest,
            path_template=_MP3,
            default_name=_file_name(item_id),
            expected_size=size,
            on_progress=on_progress,
        )

    def stream(
        self, id: int | Voicemessage, *, expected_size: int | None = None
    ) -> AbstractAsyncContextManager[DownloadStream]:
        """Open a voicemail's MP3 body (``async with ... as body``); closed on exit."""
        item_id, size = download_target(id, Voicemessage, expected_size)
        return _stream(
            self._requester,
            download_voicemessage_mp3._get_kwargs(id=item_id),
            path_template=_MP3,
            expected_size=size,
        )

    async def download_many(
        self,
        items: Iterable[int | Voicemessage],
        dest_dir: str | os.PathLike[str],
        *,
        concurrency: int = 4,
        on_progress: ManyProgressCallback | None = None,
        skip_existing: bool = True,
    ) -> BulkResult[DownloadResult]:
        """Save many voicemails to ``dest_dir/voicemessage-<id>.mp3`` (see ``Monitors``)."""
        ids, sizes = download_targets(items, Voicemessage)
        return await _download_many(
            self._requester,
            ids,
            dest_dir,
            build_kwargs=lambda item_id: download_voicemessage_mp3._get_kwargs(id=item_id),
            path_template=_MP3,
            file_name=_file_name,
            concurrency=concurrency,
            on_progress=on_progress,
            expected_sizes=sizes,
            skip_existing=skip_existing,
        )
