"""Streaming downloads that never leave a partial or corrupt file at the destination.

Bodies are streamed in chunks to a temporary file beside the destination (written and
hashed in a worker thread, one chunk in flight, so memory stays flat and the event
loop stays free), checked against ``Content-Length`` and the expected size, then
renamed into place with ``os.replace``. On any error or cancellation the temporary file
is removed and an existing destination is left as it was; one left behind by a killed
process is removed by the next download to the same name (``_parts``).

``download_many`` saves into a ``Destination``: a ``LocalDirectory`` (a path given as
such) here, or ``voipstudio_async.storage.S3Destination``; the API side (requests, the
broken-body retries, the retry budget and the deadline) is the same for both.
"""

from __future__ import annotations

import abc
import asyncio
import functools
import hashlib
import inspect
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar

import httpx

from ._bulk import BulkResult, ItemOutcome, run_each
from ._checks import check_id, check_positive_int
from ._constants import DEFAULT_BULK_CONCURRENCY, DEFAULT_DOWNLOAD_CHUNK_BYTES
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    IncompleteDownloadError,
)
from ._parts import commit_part, create_part, remove_stale_parts
from ._request.requester import NOT_GIVEN, DeadlineArg, Requester, RetryPolicy

__all__ = [
    "Destination",
    "DownloadResult",
    "DownloadStream",
    "ItemCallback",
    "LocalDirectory",
    "ManyProgressCallback",
    "ProgressCallback",
    "download",
    "download_many",
    "stream",
]

ProgressCallback = Callable[[int, int | None], Awaitable[None] | None]
"""``on_progress(bytes_done, total_or_None)``, sync or async."""

ManyProgressCallback = Callable[[int, int, int | None], Awaitable[None] | None]
"""``on_progress(item_id, bytes_done, total_or_None)``, sync or async."""

ItemCallback = Callable[[ItemOutcome["DownloadResult"]], Awaitable[None] | None]
"""``on_item(outcome)``: one id's final outcome, as soon as it is known; sync or async."""

_IDENTITY = {"", "identity"}

_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """A file that is complete at ``path``."""

    path: Path
    """Where the file is."""
    size: int
    """Bytes in the file."""
    sha256: str
    """Hex digest of the file's content."""
    content_type: str | None
    """The response's ``Content-Type``, if it sent one."""
    skipped: bool = False
    """True when ``download_many`` found the file already complete and sent nothing."""


def _is_identity(headers: httpx.Headers) -> bool:
    """True when the body is not content-encoded: wire bytes are the file's bytes."""
    return headers.get("content-encoding", "").strip().lower() in _IDENTITY


def _header_int(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


class DownloadStream:
    """An open response body: headers, sizes and ``async for chunk in body``.

    Iterating to the end verifies the length (``Content-Length``, and ``expected_size``
    when given) and raises ``IncompleteDownloadError`` on a mismatch; transport errors
    while reading raise ``APIConnectionError`` / ``APITimeoutError``.

    Args:
        response: The open response whose body is read.
        path_template: The operation's path template, for messages and logs.
        chunk_size: Bytes per chunk of ``async for``.
        expected_size: The size the body must have, when known (e.g. the recording's).
    """

    def __init__(
        self,
        response: httpx.Response,
        *,
        path_template: str,
        chunk_size: int = DEFAULT_DOWNLOAD_CHUNK_BYTES,
        expected_size: int | None = None,
    ) -> None:
        self._response = response
        self._path_template = path_template
        self._chunk_size = chunk_size
        self._expected_size = expected_size
        self.bytes_received = 0
        """Decoded bytes yielded so far."""

    @property
    def response(self) -> httpx.Response:
        """The underlying response (body not read)."""
        return self._response

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self._response.headers

    @property
    def content_length(self) -> int | None:
        """``Content-Length`` as sent (bytes on the wire, before any content decoding)."""
        return _header_int(self._response.headers, "content-length")

    @property
    def content_type(self) -> str | None:
        value: str | None = self._response.headers.get("content-type")
        return value

    @property
    def total(self) -> int | None:
        """Decoded bytes the body should have, when known."""
        if self._expected_size is not None:
            return self._expected_size
        return self.content_length if self._identity else None

    @property
    def _identity(self) -> bool:
        return _is_identity(self._response.headers)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.iter_bytes()

    async def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """Yield the decoded body in chunks of ``chunk_size`` bytes (the last may be shorter).

        Args:
            chunk_size: Bytes per chunk; None uses the stream's own.

        Yields:
            The body's bytes, in order.

        Raises:
            IncompleteDownloadError: The body ended before its announced size.
            APIConnectionError: The connection failed while reading.
        """
        try:
            async for chunk in self._response.aiter_bytes(chunk_size or self._chunk_size):
                self.bytes_received += len(chunk)
                yield chunk
        except httpx.RemoteProtocolError as exc:
            # h11 raises this when the peer closes before Content-Length bytes arrived.
            # Any other transport error is mapped by the Requester around the body.
            expected = self.content_length
            received = self._response.num_bytes_downloaded
            if expected is not None and received < expected:
                raise IncompleteDownloadError(expected, received) from exc
            raise
        except httpx.DecodingError as exc:
            # Not a transport error: the Requester would let httpx's exception through.
            raise APIConnectionError(
                f"DecodingError while reading the body of {self._path_template}"
            ) from exc
        self._verify()

    def _verify(self) -> None:
        # Content-Length counts wire bytes, which differ from decoded bytes only when the
        # body is content-encoded (httpx does not count bytes of a preloaded body).
        expected = self.content_length
        if expected is not None:
            received = (
                self.bytes_received if self._identity else self._response.num_bytes_downloaded
            )
            if received != expected:
                raise IncompleteDownloadError(expected, received)
        if self._expected_size is not None and self.bytes_received != self._expected_size:
            raise IncompleteDownloadError(self._expected_size, self.bytes_received)


@asynccontextmanager
async def stream(
    requester: Requester,
    kwargs: Mapping[str, Any],
    *,
    path_template: str,
    expected_size: int | None = None,
    chunk_size: int = DEFAULT_DOWNLOAD_CHUNK_BYTES,
    deadline: DeadlineArg = NOT_GIVEN,
) -> AsyncIterator[DownloadStream]:
    """Open a download; the connection is closed on exit, error and cancellation.

    ``deadline`` bounds opening it and the block (reading the body included).

    Error statuses raise before the block is entered (the Requester reads the error
    body). ``kwargs`` is the generated builder's output, e.g.
    ``download_monitor_mp3._get_kwargs(id=5)``.
    """
    with requester.deadline(deadline):
        async with requester.stream(
            kwargs, policy=RetryPolicy.IDEMPOTENT, path_template=path_template
        ) as response:
            yield DownloadStream(
                response,
                path_template=path_template,
                chunk_size=chunk_size,
                expected_size=expected_size,
            )


def _safe_name(name: str) -> str:
    if not name or name in {".", ".."} or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"not a plain file name: {name!r}")
    return name


def _resolve_dest(dest: str | os.PathLike[str], default_name: str) -> Path:
    """A directory (existing, or spelt with a trailing separator) gets ``default_name``."""
    text = os.fspath(dest)
    path = Path(text)
    if path.is_dir() or text.endswith((os.sep, "/")):
        return path / _safe_name(default_name)
    return path


class _TempFile:
    """A uniquely named file beside the target, written and hashed off the event loop."""

    def __init__(self, target: Path) -> None:
        try:
            self.path, fd = create_part(target)
        except OSError as exc:
            # The hidden part file's name means nothing to the caller: name their target.
            raise type(exc)(exc.errno, exc.strerror, str(target)) from None
        self._file: BinaryIO = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        # Serialises the worker's writes with discard(): a cancelled await does not stop
        # a write already running in its thread.
        self._lock = threading.Lock()
        self._closed = False
        self._pending: asyncio.Future[None] | None = None
        self.size = 0
        """Bytes written and hashed so far."""
        self.range_validator: str | None = None
        """Set when the server that sent these bytes accepts ``Range``: its ``If-Range``."""
        self.responses = 0
        """Responses whose body was read into this file (one per attempt that got one)."""

    def _write(self, chunk: bytes) -> None:
        with self._lock:
            if not self._closed:
                self._file.write(chunk)
                self._hash.update(chunk)
                self.size += len(chunk)

    async def write(self, chunk: bytes) -> None:
        """Queue ``chunk``; returns once the previous chunk is on disk (one in flight)."""
        await self.settle()
        self._pending = asyncio.get_running_loop().run_in_executor(None, self._write, chunk)

    async def settle(self) -> None:
        """Wait for the write in flight (raising its error, if any)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending

    def _truncate(self) -> None:
        with self._lock:
            self._file.seek(0)
            self._file.truncate()
            self._hash = hashlib.sha256()
            self.size = 0

    async def restart(self) -> None:
        """Drop what was written: the next body starts at byte 0."""
        await self.settle()
        await asyncio.to_thread(self._truncate)

    def _finish(self, target: Path, fsync: bool) -> None:
        with self._lock:
            self._file.flush()
            if fsync:
                os.fsync(self._file.fileno())
            self._closed = True
            commit_part(self._file, self.path, target)
        if fsync:
            _fsync_dir(target.parent)

    async def finish(self, target: Path, *, fsync: bool) -> str:
        """Flush, close and rename onto ``target``; return the sha256 hex digest."""
        await self.settle()
        # Off the loop: replacing a large file frees its blocks, which can take 100 ms.
        await asyncio.to_thread(self._finish, target, fsync)
        return self._hash.hexdigest()

    def discard(self) -> None:
        """Close and delete; synchronous so that it also runs inside a cancelled task."""
        with self._lock:  # waits for at most the one write in flight
            self._closed = True
            self._file.close()
        self.path.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def _call_progress(
    on_progress: ProgressCallback | None, done: int, total: int | None
) -> None:
    if on_progress is not None:
        result = on_progress(done, total)
        if inspect.isawaitable(result):
            await result


async def download(
    requester: Requester,
    kwargs: Mapping[str, Any],
    dest: str | os.PathLike[str],
    *,
    path_template: str,
    default_name: str,
    expected_size: int | None = None,
    on_progress: ProgressCallback | None = None,
    chunk_size: int = DEFAULT_DOWNLOAD_CHUNK_BYTES,
    fsync: bool = False,
) -> DownloadResult:
    """Download a body atomically to ``dest`` (a file path, or a directory + ``default_name``).

    ``expected_size`` (e.g. a Monitor's ``size``) is checked on top of
    ``Content-Length``. ``on_progress(done, total)`` is called per chunk, monotonic,
    and finally with ``done == total``. On failure or cancellation no file is left
    behind and an existing ``dest`` is untouched; a short body raises
    ``IncompleteDownloadError``, a success status other than 200 raises
    ``APIResponseValidationError``. Names sent by the server are never used. An
    ``s3://`` string is refused (``ValueError``): a local ``s3:`` directory is never meant.
    """
    target = _resolve_dest(_local(dest, "dest"), default_name)
    await asyncio.to_thread(remove_stale_parts, target.parent, [target.name])
    temp = _TempFile(target)
    try:
        return await _download_into(
            requester,
            kwargs,
            temp,
            target,
            path_template=path_template,
            expected_size=expected_size,
            on_progress=on_progress,
            chunk_size=chunk_size,
            fsync=fsync,
        )
    except BaseException:
        temp.discard()
        raise


def require_body(response: httpx.Response, path_template: str) -> None:
    """Raise ``APIResponseValidationError`` unless ``response`` is a 200 with the body to save.

    Args:
        response: The open response.
        path_template: The operation's path, for the message.

    Raises:
        APIResponseValidationError: Another success status.
    """
    if response.status_code != 200:
        # e.g. 202/204 from an asynchronous export: there is no file to save.
        raise APIResponseValidationError(
            f"{path_template} answered {response.status_code}, expected 200 with a body",
            response=response,
        )


def _range_start(response: httpx.Response) -> int | None:
    # "bytes 100-999/1000" -> 100
    unit, _, spec = response.headers.get("content-range", "").partition(" ")
    start = spec.partition("-")[0]
    return int(start) if unit.strip().lower() == "bytes" and start.isdigit() else None


def _range_validator(response: httpx.Response) -> str | None:
    """What makes a later ``Range`` request safe: a strong ETag or Last-Modified."""
    if response.headers.get("accept-ranges", "").strip().lower() != "bytes":
        return None
    if not _is_identity(response.headers):
        return None  # ranges would address the encoded bytes, not the file's
    etag: str | None = response.headers.get("etag")
    if etag and not etag.startswith("W/"):
        return etag
    modified: str | None = response.headers.get("last-modified")
    return modified


async def _download_into(
    requester: Requester,
    kwargs: Mapping[str, Any],
    temp: _TempFile,
    target: Path,
    *,
    path_template: str,
    expected_size: int | None,
    on_progress: ProgressCallback | None,
    chunk_size: int,
    fsync: bool,
) -> DownloadResult:
    """Fill ``temp`` and rename it onto ``target``; on failure ``temp`` is left as it is.

    When ``temp`` holds the start of a body from a server that accepts ranges, only the
    rest is requested (``Range`` + ``If-Range``); a 200 answer restarts from byte 0.
    """
    offset = temp.size if temp.range_validator else 0
    if offset:
        headers = {
            **kwargs.get("headers", {}),
            "Range": f"bytes={offset}-",
            "If-Range": temp.range_validator,
        }
        kwargs = {**kwargs, "headers": headers}
    async with requester.stream(
        kwargs, policy=RetryPolicy.IDEMPOTENT, path_template=path_template
    ) as response:
        if not (offset and response.status_code == 206 and _range_start(response) == offset):
            require_body(response, path_template)
            if temp.size:
                await temp.restart()
            offset = 0
        body = DownloadStream(
            response,
            path_template=path_template,
            chunk_size=chunk_size,
            expected_size=None if expected_size is None else expected_size - offset,
        )
        temp.range_validator = _range_validator(response)
        temp.responses += 1
        total = None if body.total is None else offset + body.total
        done = offset
        async for chunk in body:
            await temp.write(chunk)
            done += len(chunk)
            await _call_progress(on_progress, done, total)
        sha256 = await temp.finish(target, fsync=fsync)
    if total is None or done == 0:
        await _call_progress(on_progress, done, done)
    return DownloadResult(path=target, size=done, sha256=sha256, content_type=body.content_type)


def _sha256_file(path: Path, chunk_size: int) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(chunk_size):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


class Destination(abc.ABC, Generic[_R]):
    """Where ``download_many`` saves each item: one file or object per id.

    A ``LocalDirectory`` (what a plain path means) or
    ``voipstudio_async.storage.S3Destination``; either way every item is reported,
    an item appears at its final name complete or not at all, and the API side (the
    retry rules, the retry budget and the deadline) is the same. ``_R`` is what one
    saved item is described by (``DownloadResult`` on disk). Its methods are private:
    the two destinations above are the ones the SDK supports.
    """

    @abc.abstractmethod
    def _items(
        self, many: _Many, ids: Sequence[int], file_name: Callable[[int], str]
    ) -> AbstractAsyncContextManager[Callable[[int], Awaitable[_R]]]:
        """Ready the destination for ``ids`` (names checked before anything is sent) and
        give the function that saves one of them; leaving the block finishes the call."""

    @abc.abstractmethod
    async def _save(self, requester: Requester, kwargs: Mapping[str, Any], body: _Body) -> _R:
        """Save one body (e.g. an export) under ``body.name`` (or the destination's own
        name, for one that names an object)."""


class LocalDirectory(Destination[DownloadResult]):
    """A local directory (made if missing): each item is a file, renamed into place complete.

    ``download_many(items, "calls/")`` means ``LocalDirectory("calls/")``.

    Args:
        path: The directory to save into.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        """The directory."""

    def __repr__(self) -> str:
        return f"LocalDirectory({os.fspath(self.path)!r})"

    @asynccontextmanager
    async def _items(
        self, many: _Many, ids: Sequence[int], file_name: Callable[[int], str]
    ) -> AsyncIterator[Callable[[int], Awaitable[DownloadResult]]]:
        directory = self.path
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
        names = {item_id: _safe_name(file_name(item_id)) for item_id in ids}
        if len(set(names.values())) != len(names):
            raise ValueError("file_name must give each id its own file name")
        await asyncio.to_thread(remove_stale_parts, directory, names.values())

        async def fetch(item_id: int) -> DownloadResult:
            return await many.fetch(item_id, directory / names[item_id])

        yield fetch

    async def _save(
        self, requester: Requester, kwargs: Mapping[str, Any], body: _Body
    ) -> DownloadResult:
        await asyncio.to_thread(self.path.mkdir, parents=True, exist_ok=True)
        return await download(
            requester,
            kwargs,
            self.path / _safe_name(body.name),
            path_template=body.path_template,
            default_name=body.name,
            expected_size=body.expected_size,
            on_progress=body.on_progress,
            chunk_size=body.chunk_size,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Body:
    """One body to save, as ``save`` hands it to a ``Destination``."""

    path_template: str
    name: str
    """The default name of what is saved."""
    expected_size: int | None
    on_progress: ProgressCallback | None
    chunk_size: int


async def save(
    requester: Requester,
    kwargs: Mapping[str, Any],
    dest: str | os.PathLike[str] | Destination[_R],
    *,
    path_template: str,
    default_name: str,
    expected_size: int | None = None,
    on_progress: ProgressCallback | None = None,
    chunk_size: int = DEFAULT_DOWNLOAD_CHUNK_BYTES,
) -> Any:
    """``download`` to a path, or the body saved by a ``Destination`` (e.g. an S3 object).

    Args:
        requester: The client's Requester.
        kwargs: The generated builder's output.
        dest: A file path, a directory (the file is then ``default_name``), or a
            ``Destination``; an ``s3://`` string is refused.
        path_template: The operation's path, for messages and logs.
        default_name: The name in a directory or below a prefix.
        expected_size: The size the body must have, when known.
        on_progress: ``on_progress(done, total)``, sync or async, monotonic.
        chunk_size: Bytes per chunk read.

    Returns:
        The destination's description of what it saved (``DownloadResult`` on disk).

    Raises:
        ValueError: ``dest`` is an ``s3://`` string.
    """
    if isinstance(dest, Destination):
        body = _Body(
            path_template=path_template,
            name=default_name,
            expected_size=expected_size,
            on_progress=on_progress,
            chunk_size=chunk_size,
        )
        return await dest._save(requester, kwargs, body)
    return await download(
        requester,
        kwargs,
        dest,
        path_template=path_template,
        default_name=default_name,
        expected_size=expected_size,
        on_progress=on_progress,
        chunk_size=chunk_size,
    )


def _local(dest: str | os.PathLike[str], name: str) -> str | os.PathLike[str]:
    """``dest`` unless it is an ``s3://`` string: a local ``s3:`` directory is never meant."""
    if isinstance(dest, str) and dest[:5].lower() == "s3://":
        raise ValueError(
            f"{name} {dest!r} is an S3 URL: pass voipstudio_async.storage."
            f"S3Destination({dest!r}) (the s3 extra: pip install 'voipstudio-async[s3]')"
        )
    return dest


def _destination(dest: str | os.PathLike[str] | Destination[_R]) -> Destination[Any]:
    if isinstance(dest, Destination):
        return dest
    return LocalDirectory(_local(dest, "dest_dir"))


async def download_many(
    requester: Requester,
    ids: Iterable[int],
    dest_dir: str | os.PathLike[str] | Destination[_R],
    *,
    build_kwargs: Callable[[int], Mapping[str, Any]],
    path_template: str,
    file_name: Callable[[int], str],
    concurrency: int = DEFAULT_BULK_CONCURRENCY,
    on_progress: ManyProgressCallback | None = None,
    expected_sizes: Mapping[int, int] | None = None,
    skip_existing: bool = True,
    chunk_size: int = DEFAULT_DOWNLOAD_CHUNK_BYTES,
    on_item: Callable[[ItemOutcome[Any]], Awaitable[None] | None] | None = None,
    models: Mapping[int, Any] | None = None,
    kind: str = "item",
) -> BulkResult[Any]:
    """Save each id as ``file_name(id)`` in ``dest_dir``, at most ``concurrency`` in flight.

    ``dest_dir`` is a ``Destination`` or a local directory's path (an ``s3://`` string
    is refused: ``S3Destination`` says which store and needs the ``s3`` extra).
    Returns one outcome per input id in input order (``value`` is what the destination
    saved, a ``DownloadResult`` on disk); one item's failure never raises. With
    ``skip_existing`` a file already at its name is kept (and hashed) when its size
    matches ``expected_sizes`` or no size is known: files only appear there complete, by
    atomic rename (an S3 object is kept when the prefix's manifest records it and S3
    confirms it). A body cut short or a connection lost while reading it is retried as
    the client's retry rules decide (``max_retries``, its backoff, the retry budget, the
    deadline): from byte 0, or on disk with ``Range`` from where it broke when the
    server advertised ``Accept-Ranges: bytes`` (the real API does not). Failures before
    a response (connect errors, timeouts, statuses) were already retried by the
    Requester: they fail the item at once.
    ``on_progress(id, done, total)`` is monotonic per id, across retries too, and is
    called once with ``(id, size, size)`` for a skipped file on disk.
    ``on_item(outcome)`` is called once per distinct id as soon as its outcome is final
    (saved, skipped or failed), e.g. to record each file as it lands; an exception
    it raises cancels the downloads still in flight and propagates.
    ``models`` (id -> the item's model) and ``kind`` (e.g. ``monitor``) are what a
    destination with a manifest records.
    """
    check_positive_int(concurrency, "concurrency")
    id_list = [check_id(item_id, f"ids[{index}]") for index, item_id in enumerate(ids)]
    destination = _destination(dest_dir)
    many = _Many(
        requester=requester,
        build_kwargs=build_kwargs,
        path_template=path_template,
        sizes=expected_sizes or {},
        skip_existing=skip_existing,
        chunk_size=chunk_size,
        on_progress=on_progress,
        models=models or {},
        kind=kind,
        concurrency=concurrency,
    )
    unique = list(dict.fromkeys(id_list))
    outcomes: dict[int, ItemOutcome[Any]] = {}

    async def done(item_id: int, result: object) -> None:
        outcomes[item_id] = outcome = _outcome(item_id, result)
        if on_item is not None:
            called = on_item(outcome)
            if inspect.isawaitable(called):
                await called

    async with destination._items(many, unique, file_name) as fetch:
        # One body per worker: the worker count is the bound on bodies in flight.
        await run_each(unique, fetch, concurrency, done)
    return BulkResult(tuple(outcomes[item_id] for item_id in id_list))


def _outcome(item_id: int, result: object) -> ItemOutcome[Any]:
    if isinstance(result, Exception):
        return ItemOutcome(id=item_id, ok=False, error=result)
    return ItemOutcome(id=item_id, ok=True, value=result)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Many:
    """What every item of one ``download_many`` call shares, whatever the destination."""

    requester: Requester
    build_kwargs: Callable[[int], Mapping[str, Any]]
    path_template: str
    sizes: Mapping[int, int]
    skip_existing: bool
    chunk_size: int
    on_progress: ManyProgressCallback | None
    models: Mapping[int, Any]
    """The items given as models, by id (what a manifest records of them)."""
    kind: str
    """What the items are, e.g. ``monitor`` (a manifest's ``kind``)."""
    concurrency: int

    def progress(self, item_id: int) -> ProgressCallback | None:
        """``on_progress`` of one item, as given (None without one)."""
        on_progress = self.on_progress
        return None if on_progress is None else functools.partial(on_progress, item_id)

    async def fetch(self, item_id: int, target: Path) -> DownloadResult:
        """One item to a local file: kept if already there (and of the expected size),
        else downloaded."""
        expected = self.sizes.get(item_id)
        item_progress = self.progress(item_id)
        if self.skip_existing and _is_complete(target, expected):
            size, sha256 = await asyncio.to_thread(_sha256_file, target, self.chunk_size)
            await _call_progress(item_progress, size, size)
            return DownloadResult(target, size, sha256, None, skipped=True)
        temp = _TempFile(target)
        try:
            return await self._retrying(item_id, temp, target, expected, _monotonic(item_progress))
        except BaseException:
            temp.discard()
            raise

    async def _retrying(
        self,
        item_id: int,
        temp: _TempFile,
        target: Path,
        expected: int | None,
        progress: ProgressCallback | None,
    ) -> DownloadResult:
        """Download into ``temp``, again as the retry rules allow when the body breaks."""
        before = temp.responses

        async def once() -> DownloadResult:
            nonlocal before
            before = temp.responses
            return await _download_into(
                self.requester,
                self.build_kwargs(item_id),
                temp,
                target,
                path_template=self.path_template,
                expected_size=expected,
                on_progress=progress,
                chunk_size=self.chunk_size,
                fsync=False,
            )

        return await retry_broken_bodies(
            self.requester,
            self.path_template,
            once,
            answered=lambda: temp.responses != before,
            before_retry=temp.settle,  # what is on disk is what the next attempt resumes
        )


async def retry_broken_bodies(
    requester: Requester,
    path_template: str,
    attempt: Callable[[], Awaitable[_T]],
    *,
    answered: Callable[[], bool],
    before_retry: Callable[[], Awaitable[None]] | None = None,
) -> _T:
    """Run ``attempt`` again while its body breaks, as the client's retries allow.

    The one retry loop for bodies of downloads, to a file or to object storage: the
    client's retry rules (``max_retries``, backoff), its retry budget and the deadline
    in force (``requester.pause``) decide, as for every other request.

    Args:
        requester: The client's Requester.
        path_template: The operation's path, for the budget's log line.
        attempt: One try, from byte 0 or where the last one stopped.
        answered: Whether the try that just failed got a response: one that got none
            was already retried by the Requester and is not retried again here.
        before_retry: Awaited before the wait (e.g. to settle a write in flight).

    Returns:
        What the first successful ``attempt`` returned.

    Raises:
        IncompleteDownloadError: A body still cut short when no retry is left.
        APIConnectionError: A connection still lost when no retry is left.
        APITimeoutError: The next wait would end after the deadline.
    """
    tries = 0
    while True:
        try:
            return await attempt()
        except (IncompleteDownloadError, APIConnectionError):
            delay = requester.retries.after_broken_body(tries)
            if (
                delay is None
                or not answered()
                or not requester.may_retry("GET", path_template, "a broken body")
            ):
                raise
            if before_retry is not None:
                await before_retry()
            await requester.pause(delay)
            tries += 1


def _is_complete(target: Path, expected: int | None) -> bool:
    # Files only appear at their name complete (atomic rename): one there is kept when
    # its size is the expected one, or none is known.
    return target.is_file() and (expected is None or target.stat().st_size == expected)


def _monotonic(on_progress: ProgressCallback | None) -> ProgressCallback | None:
    """``on_progress`` silent until a retry (which restarts from byte 0) passes the last
    report, so what the caller sees never goes back."""
    if on_progress is None:
        return None
    last: tuple[int, int | None] = (-1, None)

    async def progress(done: int, total: int | None) -> None:
        nonlocal last
        if done > last[0] or (done == last[0] and total != last[1]):
            last = (done, total)
            await _call_progress(on_progress, done, total)

    return progress
