"""``S3Destination``: an S3 prefix that ``download_many`` and the exports save into.

The S3 counterpart of ``LocalDirectory``: each body is streamed from VoIPstudio into an
``Upload`` (no object appears before it is complete, and S3 checks every part's
SHA-256). ``download_many`` records each object in ``PREFIX/manifest.jsonl`` with its
size, SHA-256 and the checksum S3 stores, keeps what is in the bucket as recorded, and
first aborts the multipart uploads a killed run left for the names it writes. A body
cut short is retried by the client's retry rules, retry budget and deadline
(``retry_broken_bodies``, as on disk); S3's own retries are the store's (botocore's).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from .._constants import S3_MIN_CONNECTIONS
from .._download import (
    Destination,
    ProgressCallback,
    _Body,
    _call_progress,
    _Many,
    _monotonic,
    require_body,
    retry_broken_bodies,
    stream,
)
from .._request.requester import Requester
from ._entries import MANIFEST_NAME, ManifestEntry
from ._location import S3Location, parse_s3_url
from ._manifest import S3Manifest
from ._s3 import S3Store, Upload, Uploaded, require_extra

__all__ = ["S3Destination", "StoredFile"]


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An object that is complete in the bucket."""

    location: S3Location
    """Where the object is."""
    size: int
    """Bytes in the object."""
    sha256: str
    """Hex digest of the object's content."""
    checksum: str | None
    """The ``ChecksumSHA256`` S3 stores for it (composite for a multipart upload)."""
    skipped: bool = False
    """True when the object was already there as the manifest records it: nothing sent."""


def _check_name(name: str) -> str:
    if not name or "/" in name or name in (".", "..", MANIFEST_NAME):
        raise ValueError(f"file_name gave {name!r}: expected a name without '/'")
    return name


class S3Destination(Destination[StoredFile]):
    """An S3 prefix to save into: ``vs.monitors.download_many(ids, S3Destination(url))``.

    Every object appears complete or not at all, each part checked by S3 against its
    SHA-256. ``download_many`` keeps a ``manifest.jsonl`` below the prefix (objects it
    records and S3 confirms are kept on a re-run) and gives a ``StoredFile`` per item.
    A single body (``vs.users.export_cdrs_csv(uid, S3Destination(url))``) goes to
    ``PREFIX/<default name>`` when the URL ends with ``/`` (or is the bucket's root),
    else to the URL's key itself; an open upload of that key a killed run left is
    aborted first. S3's retries are botocore's (``S3Store``), apart from the API's.

    Args:
        url: ``s3://BUCKET/PREFIX`` or an ``S3Location``.
        store: An open ``S3Store`` to use (None: one is opened for each call, with a
            connection per body in flight).
        endpoint_url: An S3-compatible endpoint for the store opened here (None:
            botocore's, which honours ``AWS_ENDPOINT_URL``).
        kind: The manifest entries' ``kind`` (None: the download's, e.g. ``monitor``).

    Raises:
        ValueError: ``url`` is not a valid ``s3://`` URL (nothing is sent).
        MissingExtraError: The ``s3`` extra is not installed (nothing is sent).
    """

    def __init__(
        self,
        url: str | S3Location,
        *,
        store: S3Store | None = None,
        endpoint_url: str | None = None,
        kind: str | None = None,
    ) -> None:
        location = url if isinstance(url, S3Location) else parse_s3_url(url)
        if store is None:
            require_extra()
        self.location = location
        """The prefix (or, for a single body, possibly the object's key)."""
        self.is_prefix = not location.key or (isinstance(url, str) and url.endswith("/"))
        """Whether a single body goes below the location (else to its key)."""
        self._store = store
        self._endpoint_url = endpoint_url
        self._kind = kind

    def __repr__(self) -> str:
        return f"S3Destination({str(self.location)!r})"  # never the store's session

    @asynccontextmanager
    async def _opened(self, connections: int) -> AsyncIterator[S3Store]:
        if self._store is not None:
            yield self._store
        else:
            async with S3Store(self._endpoint_url, connections=connections) as store:
                yield store

    @asynccontextmanager
    async def _items(
        self, many: _Many, ids: Sequence[int], file_name: Callable[[int], str]
    ) -> AsyncIterator[Callable[[int], Awaitable[StoredFile]]]:
        location = self.location
        async with AsyncExitStack() as stack:
            store = await stack.enter_async_context(self._opened(many.concurrency))
            manifest = await stack.enter_async_context(S3Manifest(store, location))
            names = {
                item_id: entry.file
                if (entry := manifest.entries.get(item_id))
                else _check_name(file_name(item_id))
                for item_id in ids
            }
            if len(set(names.values())) != len(names):
                raise ValueError("file_name must give each id its own name")
            below = f"{location.key}/" if location.key else ""
            ours = {*names.values(), MANIFEST_NAME}
            await store.abort_stale_uploads(
                location.bucket, below, lambda key: key.removeprefix(below) in ours
            )
            archive = _Archive(
                many=many,
                store=store,
                manifest=manifest,
                names=names,
                kind=many.kind if self._kind is None else self._kind,
            )
            yield archive.fetch

    @asynccontextmanager
    async def open(self, name: str | None = None) -> AsyncIterator[Upload]:
        """A new object written as you go, e.g. a JSON Lines export of your own.

        ``async with dest.open("cdrs.jsonl") as upload:`` then ``await
        upload.write(data)`` as often as needed and ``await upload.commit()``: the object
        appears only then, complete (each part checked by S3 against its SHA-256);
        leaving the block without a commit, or on an error, aborts it. An open upload of
        the same key a killed run left is aborted first.

        Args:
            name: The object's name below the prefix, when the destination is one (its
                URL ends with ``/``); unused when the URL names the object itself.

        Yields:
            The ``Upload``; its ``commit()`` returns the object's size and checksums.

        Raises:
            ValueError: A prefix without ``name``, or a ``name`` with ``/``.
            OSError: S3 refused a call (after its own retries).
        """
        location = self.location
        if self.is_prefix:
            if name is None:
                raise ValueError(f"{location} is a prefix: name the object to write")
            location = location.child(_check_name(name))
        async with self._opened(S3_MIN_CONNECTIONS) as store:
            # An open upload of this key was left by a killed run: nothing else writes it.
            key = location.key
            await store.abort_stale_uploads(location.bucket, key, key.__eq__)
            async with store.upload(location) as upload:
                yield upload

    async def _save(
        self, requester: Requester, kwargs: Mapping[str, Any], body: _Body
    ) -> StoredFile:
        progress = _monotonic(body.on_progress)
        async with self.open(body.name) as upload:
            # One attempt, as ``download`` to a file: the caller decides about another.
            done = await _upload_body(
                upload,
                requester,
                kwargs,
                path_template=body.path_template,
                expected=body.expected_size,
                chunk_size=body.chunk_size,
                progress=progress,
            )
        await _call_progress(progress, done.size, done.size)
        return StoredFile(upload.location, done.size, done.sha256, done.checksum)


async def _upload_body(
    upload: Upload,
    requester: Requester,
    kwargs: Mapping[str, Any],
    *,
    path_template: str,
    expected: int | None,
    chunk_size: int,
    progress: ProgressCallback | None,
    answered: Callable[[], None] | None = None,
) -> Uploaded:
    """Stream one body into ``upload`` and commit it (nothing at its key unless
    complete); ``answered()`` is called once the response is open."""
    async with stream(
        requester,
        kwargs,
        path_template=path_template,
        expected_size=expected,
        chunk_size=chunk_size,
    ) as body:
        if answered is not None:
            answered()
        require_body(body.response, path_template)
        async for chunk in body:
            await upload.write(chunk)
            await _call_progress(progress, upload.size, body.total)
        return await upload.commit(body.total)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Archive:
    """What every item of one ``download_many`` call into an S3 prefix shares."""

    many: _Many
    store: S3Store
    manifest: S3Manifest
    names: dict[int, str]
    kind: str

    async def fetch(self, item_id: int) -> StoredFile:
        """One item: kept if verified in the bucket (and of the expected size), else sent."""
        many = self.many
        expected = many.sizes.get(item_id)
        entry = await self.manifest.verified(item_id) if many.skip_existing else None
        if entry is not None and expected in (None, entry.size):
            location = self.manifest.prefix.child(entry.file)
            return StoredFile(location, entry.size, entry.sha256, entry.checksum, skipped=True)
        name = self.names[item_id]
        location = self.manifest.prefix.child(name)
        done = await self._transfer(item_id, expected, location)
        model = many.models.get(item_id)
        await self.manifest.record(
            ManifestEntry.now(
                self.kind,
                item_id,
                name,
                done.size,
                done.sha256,
                {} if model is None else model.to_dict(),
                checksum=done.checksum,
            )
        )
        return StoredFile(location, done.size, done.sha256, done.checksum)

    async def _transfer(self, item_id: int, expected: int | None, location: S3Location) -> Uploaded:
        """Upload the item's body, again from byte 0 as the client's retries allow when
        it breaks (``retry_broken_bodies``, as ``download_many`` on disk)."""
        many = self.many
        progress = _monotonic(many.progress(item_id))
        responses = 0
        before = 0

        def answered() -> None:
            nonlocal responses
            responses += 1

        async def once() -> Uploaded:
            nonlocal before
            before = responses
            async with self.store.upload(location) as upload:
                return await _upload_body(
                    upload,
                    many.requester,
                    many.build_kwargs(item_id),
                    path_template=many.path_template,
                    expected=expected,
                    chunk_size=many.chunk_size,
                    progress=progress,
                    answered=answered,
                )

        return await retry_broken_bodies(
            many.requester, many.path_template, once, answered=lambda: responses != before
        )
