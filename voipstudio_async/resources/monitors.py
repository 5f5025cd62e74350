"""``vs.monitors``: call recordings."""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager

from voipstudio_history_client.api.monitors import (
    delete_all_monitors,
    delete_monitors,
    download_monitor_mp3,
    get_monitor,
    list_monitors,
)
from voipstudio_history_client.models import Monitor, MonitorItem, MonitorList

from .._bulk import DEFAULT_CHUNK_SIZE, DEFAULT_CONCURRENCY, BulkResult, DeleteAllResult
from .._bulk import bulk_delete as _bulk_delete
from .._bulk import delete_all as _delete_all
from .._download import DownloadResult, DownloadStream, ManyProgressCallback, ProgressCallback
from .._download import download as _download
from .._download import download_many as _download_many
from .._download import stream as _stream
from .._transport import NOT_GIVEN, Requester, TimeoutArg
from ._base import KeysetListResource, ListEndpoint, check_id
from ._files import download_target, download_targets

_LIST: ListEndpoint[Monitor] = ListEndpoint(
    list_monitors._get_kwargs, MonitorList.from_dict, "/monitors"
)
_MP3 = "/monitors/{id}.mp3"


def _file_name(item_id: int) -> str:
    return f"monitor-{item_id}.mp3"


class Monitors(KeysetListResource[Monitor]):
    """Call recordings (``/monitors``)."""

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester, _LIST)

    async def get(self, id: int, *, timeout: TimeoutArg = NOT_GIVEN) -> Monitor:
        """One recording's metadata by id."""
        item = await self._get_model(
            get_monitor._get_kwargs(check_id(id)),
            MonitorItem.from_dict,
            path_template="/monitors/{id}",
            timeout=timeout,
        )
        return item.data

    async def delete(
        self,
        ids: Iterable[int],
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> BulkResult[None]:
        """Delete recordings by id (``DELETE /monitors/1,2,3``), ``chunk_size`` ids a request.

        Every id is checked first; an empty ``ids`` raises ``ValueError`` and sends
        nothing (it never becomes the collection-wide DELETE). One outcome per input id,
        in input order; a failing chunk (e.g. 404) marks only its own ids failed.
        """
        return await _bulk_delete(
            self._requester,
            ids,
            build_kwargs=lambda chunk: delete_monitors._get_kwargs(id=chunk),
            path_template="/monitors/{id}",
            chunk_size=chunk_size,
            concurrency=concurrency,
        )

    async def delete_all(self, *, confirm: bool = False) -> DeleteAllResult:
        """Delete every recording (``DELETE /monitors``): only with ``confirm=True``.

        Without it, ``ValueError`` and nothing is sent. Never retried once sent.
        ``result.accepted`` is True when the server answered 202 (deleting later).
        """
        return await _delete_all(
            self._requester,
            build_kwargs=delete_all_monitors._get_kwargs,
            path_template="/monitors",
            confirm=confirm,
        )

    async def download(
        self,
        id: int | Monitor,
        dest: str | os.PathLike[str],
        *,
        expected_size: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> DownloadResult:
        """Save a recording's MP3 (``GET /monitors/{id}.mp3``) atomically to ``dest``.

        ``id`` is the recording's id or its ``Monitor`` (from ``get``/``list``/``iterate``):
        then the file is also verified against the Monitor's ``size`` when it has one.
        ``expected_size=`` sets that size explicitly (it wins over the model's). A
        mismatch or a body shorter than ``Content-Length`` raises
        ``IncompleteDownloadError`` and leaves no file; an existing ``dest`` is only
        replaced by a complete download. ``dest`` is a file path or a directory (the
        file is then ``monitor-<id>.mp3``). ``on_progress(done, total)`` may be sync or
        async.
        """
        item_id, size = download_target(id, Monitor, expected_size)
        return await _download(
            self._requester,
            download_monitor_mp3._get_kwargs(id=item_id),
            dest,
            path_template=_MP3,
            default_name=_file_name(item_id),
            expected_size=size,
            on_progress=on_progress,
        )

    def stream(
        self, id: int | Monitor, *, expected_size: int | None = None
    ) -> AbstractAsyncContextManager[DownloadStream]:
        """Open a recording's MP3 body: ``async with vs.monitors.stream(7) as body:``.

        ``body.headers``, ``body.content_length`` and ``async for chunk in body``; the
        connection is closed when the block exits. Reading to the end verifies the
        length (and the ``Monitor``'s ``size`` or ``expected_size``, as in ``download``).
        """
        item_id, size = download_target(id, Monitor, expected_size)
        return _stream(
            self._requester,
            download_monitor_mp3._get_kwargs(id=item_id),
            path_template=_MP3,
            expected_size=size,
        )

    async def download_many(
        self,
        items: Iterable[int | Monitor],
        dest_dir: str | os.PathLike[str],
        *,
        concurrency: int = 4,
        on_progress: ManyProgressCallback | None = None,
        skip_existing: bool = True,
    ) -> BulkResult[DownloadResult]:
        """Save many recordings to ``dest_dir/monitor-<id>.mp3``, ``concurrency`` at a time.

        ``items`` are ids or ``Monitor`` models (whose ``size`` each file is verified
        against). Cut bodies and lost connections are retried from byte 0; files
        already complete are kept (``skip_existing``). One outcome per item, in order,
        ``value`` being the ``DownloadResult``; one failure never stops the others.
        ``on_progress(id, done, total)`` may be sync or async.
        """
        ids, sizes = download_targets(items, Monitor)
        return await _download_many(
            self._requester,
            ids,
            dest_dir,
            build_kwargs=lambda item_id: download_monitor_mp3._get_kwargs(id=item_id),
            path_template=_MP3,
            file_name=_file_name,
            concurrency=concurrency,
            on_progress=on_progress,
            expected_sizes=sizes,
            skip_existing=skip_existing,
        )
