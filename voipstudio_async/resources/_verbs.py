"""Write, delete and download verbs that several collections share, as mixins.

A resource class inherits a mixin and sets the endpoint it works on as a class
attribute, e.g.::

    class Monitors(KeysetListResource[Monitor], _IdDeletes, _Mp3Downloads[Monitor]):
        _delete_op = DeleteEndpoint(operation(delete_monitors))
        _mp3_op = FileEndpoint(operation(download_monitor_mp3), "monitor")
        _mp3_model = Monitor

The verbs stay real methods of the resource class, typed by the mixin's parameter
(``vs.monitors.download`` takes ``int | Monitor``). They call the engines in
``_bulk``/``_download`` with ``self._requester``, exactly as a hand-written method would.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, overload

from .._bulk import BulkResult, DeleteAllResult, ItemOutcome
from .._bulk import bulk_delete as _bulk_delete
from .._bulk import delete_all as _delete_all
from .._constants import DEFAULT_BULK_CHUNK_ITEMS, DEFAULT_BULK_CONCURRENCY
from .._download import (
    Destination,
    DownloadResult,
    DownloadStream,
    ItemCallback,
    ManyProgressCallback,
    ProgressCallback,
)
from .._download import download as _download
from .._download import download_many as _download_many
from .._download import stream as _stream
from .._operations import Operation, calls
from .._request.requester import NOT_GIVEN, DeadlineArg
from ._base import Resource, check_id
from ._files import _Identified, check_size, download_target, download_targets

__all__ = [
    "DeleteAllEndpoint",
    "DeleteEndpoint",
    "FileEndpoint",
    "_DeleteAll",
    "_IdDeletes",
    "_Mp3Downloads",
    "_PcapDownloads",
]

M = TypeVar("M", bound=_Identified)
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class DeleteEndpoint:
    """A generated ``DELETE /<collection>/1,2,3``."""

    op: Operation

    @property
    def build(self) -> Callable[[list[int]], Mapping[str, Any]]:
        return self.op.build

    @property
    def path(self) -> str:
        return self.op.path


@dataclass(frozen=True, slots=True)
class DeleteAllEndpoint:
    """A generated collection-wide ``DELETE /<collection>``."""

    op: Operation

    @property
    def build(self) -> Callable[[], Mapping[str, Any]]:
        return self.op.build

    @property
    def path(self) -> str:
        return self.op.path


@dataclass(frozen=True, slots=True)
class FileEndpoint:
    """A generated file download by id, and the prefix of the files it saves.

    The default file name is ``<prefix>-<id><extension of the path>``, e.g.
    ``monitor-7.mp3`` for ``/monitors/{id}.mp3``.
    """

    op: Operation
    prefix: str

    @property
    def build(self) -> Callable[[int], Mapping[str, Any]]:
        return self.op.build

    @property
    def path(self) -> str:
        return self.op.path

    def file_name(self, item_id: int) -> str:
        return f"{self.prefix}-{item_id}{os.path.splitext(self.path)[1]}"


class _IdDeletes(Resource):
    """``delete(ids)``: ``DELETE /<collection>/1,2,3`` in chunks."""

    _delete_op: ClassVar[DeleteEndpoint]

    @calls("_delete_op")
    async def delete(
        self,
        ids: Iterable[int],
        *,
        chunk_size: int = DEFAULT_BULK_CHUNK_ITEMS,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        deadline: DeadlineArg = NOT_GIVEN,
    ) -> BulkResult[None]:
        """Delete items by id (e.g. ``DELETE /monitors/1,2,3``), ``chunk_size`` ids a request.

        Every id is checked first; an empty ``ids`` raises ``ValueError`` and sends
        nothing (it never becomes the collection-wide DELETE). One outcome per input id,
        in input order; a failing chunk (e.g. 404) marks only its own ids failed.

        Args:
            ids: The ids to delete.
            chunk_size: Ids per request.
            concurrency: Requests in flight at once.
            deadline: Seconds for the whole call (default the client's).

        Returns:
            One outcome per id (``result.ok``, ``result.failed``).

        Raises:
            ValueError: ``ids`` is empty or holds a bad id; nothing was sent.
        """
        with self._requester.deadline(deadline):
            return await _bulk_delete(
                self._requester,
                ids,
                build_kwargs=self._delete_op.build,
                path_template=self._delete_op.path,
                chunk_size=chunk_size,
                concurrency=concurrency,
            )


class _DeleteAll(Resource):
    """``delete_all(confirm=True)``: the collection-wide ``DELETE /<collection>``."""

    _delete_all_op: ClassVar[DeleteAllEndpoint]

    @calls("_delete_all_op")
    async def delete_all(
        self, *, confirm: bool = False, deadline: DeadlineArg = NOT_GIVEN
    ) -> DeleteAllResult:
        """Delete every item of the collection (e.g. ``DELETE /cdrs``): only with ``confirm=True``.

        Without it, ``ValueError`` and nothing is sent. Never retried once sent.
        ``result.accepted`` is True when the server answered 202 (deleting later).

        Args:
            confirm: Must be True: the whole collection is deleted.
            deadline: Seconds for the whole call (default the client's).

        Returns:
            The answer's status (204 done, 202 accepted).

        Raises:
            ValueError: ``confirm`` is not True; nothing was sent.
            APIStatusError: The API refused.
        """
        with self._requester.deadline(deadline):
            return await _delete_all(
                self._requester,
                build_kwargs=self._delete_all_op.build,
                path_template=self._delete_all_op.path,
                confirm=confirm,
            )


class _Mp3Downloads(Resource, Generic[M]):
    """``download``, ``stream`` and ``download_many`` of an item's MP3, by id or model."""

    _mp3_op: ClassVar[FileEndpoint]
    _mp3_model: type[M]

    @calls("_mp3_op")
    async def download(
        self,
        id: int | M,
        dest: str | os.PathLike[str],
        *,
        expected_size: int | None = None,
        on_progress: ProgressCallback | None = None,
        deadline: DeadlineArg = NOT_GIVEN,
    ) -> DownloadResult:
        """Save the item's MP3 (e.g. ``GET /monitors/{id}.mp3``) atomically to ``dest``.

        ``id`` is the item's id or its model (from ``get``/``list``/``iterate``): then
        the file is also verified against the model's ``size`` when it has one (a
        ``Monitor`` does). ``expected_size=`` sets that size explicitly (it wins over the
        model's). A mismatch or a body shorter than ``Content-Length`` raises
        ``IncompleteDownloadError`` and leaves no file; an existing ``dest`` is only
        replaced by a complete download. ``dest`` is a file path or a directory (the
        file is then e.g. ``monitor-<id>.mp3`` or ``voicemessage-<id>.mp3``).
        ``on_progress(done, total)`` may be sync or async.

        Args:
            id: The item's id, or the item itself.
            dest: A file path, or a directory to save into.
            expected_size: The size the file must have, when known.
            on_progress: Called with the bytes done and the total (None when unknown).
            deadline: Seconds for the whole call (default the client's).

        Returns:
            The file's path, size and SHA-256.

        Raises:
            IncompleteDownloadError: The body was shorter than announced; no file is left.
            APIStatusError: The API answered with an error status (e.g. 404).
        """
        item_id, size = download_target(id, self._mp3_model, expected_size)
        with self._requester.deadline(deadline):
            return await _download(
                self._requester,
                self._mp3_op.build(item_id),
                dest,
                path_template=self._mp3_op.path,
                default_name=self._mp3_op.file_name(item_id),
                expected_size=size,
                on_progress=on_progress,
            )

    @calls("_mp3_op")
    def stream(
        self, id: int | M, *, expected_size: int | None = None, deadline: DeadlineArg = NOT_GIVEN
    ) -> AbstractAsyncContextManager[DownloadStream]:
        """Open the item's MP3 body: ``async with vs.monitors.stream(7) as body:``.

        ``body.headers``, ``body.content_length`` and ``async for chunk in body``; the
        connection is closed when the block exits. Reading to the end verifies the
        length (and the model's ``size`` or ``expected_size``, as in ``download``).

        Args:
            id: The item's id, or the item itself.
            expected_size: The size the body must have, when known.
            deadline: Seconds for the whole call (default the client's).

        Returns:
            A context manager giving the open ``DownloadStream``.

        Raises:
            ValueError: A bad id or ``expected_size``; nothing was sent.
            APIStatusError: The API answered with an error status (e.g. 404), raised
                when the block is entered.
            IncompleteDownloadError: The body ended short of its announced or expected
                size, raised while reading it.
        """
        item_id, size = download_target(id, self._mp3_model, expected_size)
        return _stream(
            self._requester,
            self._mp3_op.build(item_id),
            path_template=self._mp3_op.path,
            expected_size=size,
            deadline=deadline,
        )

    @overload
    async def download_many(
        self,
        items: Iterable[int | M],
        dest_dir: str | os.PathLike[str],
        *,
        concurrency: int = ...,
        on_progress: ManyProgressCallback | None = ...,
        skip_existing: bool = ...,
        on_item: ItemCallback | None = ...,
        file_name: Callable[[int], str] | None = ...,
        deadline: DeadlineArg = ...,
    ) -> BulkResult[DownloadResult]: ...

    @overload
    async def download_many(
        self,
        items: Iterable[int | M],
        dest_dir: Destination[R],
        *,
        concurrency: int = ...,
        on_progress: ManyProgressCallback | None = ...,
        skip_existing: bool = ...,
        on_item: Callable[[ItemOutcome[R]], Awaitable[None] | None] | None = ...,
        file_name: Callable[[int], str] | None = ...,
        deadline: DeadlineArg = ...,
    ) -> BulkResult[R]: ...

    @calls("_mp3_op")
    async def download_many(
        self,
        items: Iterable[int | M],
        dest_dir: str | os.PathLike[str] | Destination[Any],
        *,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        on_progress: ManyProgressCallback | None = None,
        skip_existing: bool = True,
        on_item: Callable[[ItemOutcome[Any]], Awaitable[None] | None] | None = None,
        file_name: Callable[[int], str] | None = None,
        deadline: DeadlineArg = NOT_GIVEN,
    ) -> BulkResult[Any]:
        """Save many items' MP3s to ``dest_dir`` (as in ``download``), ``concurrency`` at a time.

        ``dest_dir`` is a local directory (a path, or ``LocalDirectory``) or any
        ``Destination``, e.g. ``voipstudio_async.storage.S3Destination("s3://b/calls/")``
        (the ``s3`` extra; an ``s3://`` string is refused, saying so). ``items`` are ids
        or models (whose ``size`` each file is verified against when they have one).
        Cut bodies and lost connections are retried from byte 0 as the client's retry
        rules, retry budget and deadline allow; files already complete are kept
        (``skip_existing``; in S3, objects the prefix's manifest records and S3
        confirms). One outcome per item, in order, ``value`` being the
        ``DownloadResult`` (a ``StoredFile`` in S3); one failure never stops the others.
        ``on_progress(id, done, total)`` may be sync or async. ``on_item(outcome)``
        (sync or async) is called once per id as soon as its outcome is final.
        ``file_name(id)`` names each file (default e.g. ``monitor-<id>.mp3``).

        Args:
            items: Ids or items to download.
            dest_dir: The directory or ``Destination`` to save into.
            concurrency: Downloads at once.
            on_progress: Called with an item's id, its bytes done and its total.
            skip_existing: Keep files already complete (checked by size and hash).
            on_item: Called with each item's outcome as soon as it is final.
            file_name: Names each file from its id.
            deadline: Seconds for the whole call (default the client's).

        Returns:
            One outcome per item, ``value`` being what the destination saved
            (``DownloadResult`` on disk).

        Raises:
            ValueError: An argument is refused before anything is sent.
            OSError: The destination cannot be prepared (e.g. its manifest read).
        """
        models: dict[int, M] = {}
        ids, sizes = download_targets(items, self._mp3_model, models)
        with self._requester.deadline(deadline):
            return await _download_many(
                self._requester,
                ids,
                dest_dir,
                build_kwargs=self._mp3_op.build,
                path_template=self._mp3_op.path,
                file_name=self._mp3_op.file_name if file_name is None else file_name,
                concurrency=concurrency,
                on_progress=on_progress,
                expected_sizes=sizes,
                skip_existing=skip_existing,
                on_item=on_item,
                models=models,
                kind=self._mp3_op.prefix,
            )


class _PcapDownloads(Resource):
    """``download_pcap`` and ``stream_pcap``: a record's packet capture, by id."""

    _pcap_op: ClassVar[FileEndpoint]

    @calls("_pcap_op")
    async def download_pcap(
        self,
        id: int,
        dest: str | os.PathLike[str],
        *,
        expected_size: int | None = None,
        on_progress: ProgressCallback | None = None,
        deadline: DeadlineArg = NOT_GIVEN,
    ) -> DownloadResult:
        """Save the record's packet capture (e.g. ``GET /cdrs/{id}.pcap``) atomically to ``dest``.

        ``dest`` is a file path or a directory (the file is then e.g. ``cdr-<id>.pcap``
        or ``msdr-<id>.pcap``). Verified against ``Content-Length`` (and
        ``expected_size`` when given); on failure no file is left and an existing
        ``dest`` is untouched.

        Args:
            id: The record's id.
            dest: A file path, or a directory to save into.
            expected_size: The size the file must have, when known.
            on_progress: Called with the bytes done and the total (None when unknown).
            deadline: Seconds for the whole call (default the client's).

        Returns:
            The file's path, size and SHA-256.

        Raises:
            IncompleteDownloadError: The body was shorter than announced; no file is left.
            APIStatusError: The API answered with an error status (e.g. 404).
        """
        item_id = check_id(id)
        with self._requester.deadline(deadline):
            return await _download(
                self._requester,
                self._pcap_op.build(item_id),
                dest,
                path_template=self._pcap_op.path,
                default_name=self._pcap_op.file_name(item_id),
                expected_size=check_size(expected_size),
                on_progress=on_progress,
            )

    @calls("_pcap_op")
    def stream_pcap(
        self, id: int, *, expected_size: int | None = None, deadline: DeadlineArg = NOT_GIVEN
    ) -> AbstractAsyncContextManager[DownloadStream]:
        """Open the record's packet capture body (``async with ... as body``); closed on exit.

        Args:
            id: The record's id.
            expected_size: The size the body must have, when known.
            deadline: Seconds for the whole call (default the client's).

        Returns:
            A context manager giving the open ``DownloadStream``.

        Raises:
            ValueError: A bad id or ``expected_size``; nothing was sent.
            APIStatusError: The API answered with an error status (e.g. 404), raised
                when the block is entered.
            IncompleteDownloadError: The body ended short of its announced or expected
                size, raised while reading it.
        """
        return _stream(
            self._requester,
            self._pcap_op.build(check_id(id)),
            path_template=self._pcap_op.path,
            expected_size=check_size(expected_size),
            deadline=deadline,
        )
