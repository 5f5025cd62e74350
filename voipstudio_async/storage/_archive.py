"""Recordings and voicemails downloaded straight into an S3 prefix, resumably.

The S3 counterpart of ``download_many``: each body is streamed from VoIPstudio into an
``Upload`` (no object appears before it is complete, and S3 checks every part's
SHA-256), then recorded in ``PREFIX/manifest.jsonl`` with its size, SHA-256 and the
checksum S3 stores. A re-run keeps what is in the bucket as recorded, and first aborts
the multipart uploads a killed run left for the names it writes. A body cut short is
retried by the client's retry rules, retry budget and deadline, as ``download_many``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from voipstudio_history_client.models import Monitor, Voicemessage

from .._bulk import BulkResult, ItemOutcome, run_each
from .._checks import check_positive_int
from .._constants import DEFAULT_BULK_CONCURRENCY
from .._download import ManyProgressCallback, retry_broken_bodies
from .._request.requester import NOT_GIVEN, DeadlineArg
from ..resources import Monitors, Voicemessages
from ..resources._files import download_targets
from ._entries import MANIFEST_NAME, ManifestEntry
from ._location import S3Location, parse_s3_url
from ._manifest import S3Manifest
from ._s3 import S3Store, Uploaded

__all__ = ["StoredFile", "StoredItemCallback", "download_to_s3"]


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


StoredItemCallback = Callable[[ItemOutcome[StoredFile]], Awaitable[None] | None]
"""``on_item(outcome)``: one id's final outcome, as soon as it is known; sync or async."""


async def _call(callback: Callable[..., Awaitable[None] | None] | None, *args: Any) -> None:
    if callback is not None:
        called = callback(*args)
        if inspect.isawaitable(called):
            await called


def _check_name(name: str) -> str:
    if not name or "/" in name or name in (".", "..", MANIFEST_NAME):
        raise ValueError(f"file_name gave {name!r}: expected a name without '/'")
    return name


@dataclass(frozen=True, slots=True, kw_only=True)
class _Archive:
    """What every item of one ``download_to_s3`` call shares."""

    resource: Monitors | Voicemessages
    store: S3Store
    manifest: S3Manifest
    names: dict[int, str]
    sizes: dict[int, int]
    metadata: dict[int, dict[str, Any]]
    kind: str
    skip_existing: bool
    on_progress: ManyProgressCallback | None

    async def fetch(self, item_id: int) -> StoredFile:
        """One item: kept if verified in the bucket (and of the expected size), else sent."""
        expected = self.sizes.get(item_id)
        entry = await self.manifest.verified(item_id) if self.skip_existing else None
        if entry is not None and expected in (None, entry.size):
            location = self.manifest.prefix.child(entry.file)
            return StoredFile(location, entry.size, entry.sha256, entry.checksum, skipped=True)
        name = self.names[item_id]
        location = self.manifest.prefix.child(name)
        done = await self._transfer(item_id, expected, location)
        await self.manifest.record(
            ManifestEntry.now(
                self.kind,
                item_id,
                name,
                done.size,
                done.sha256,
                self.metadata.get(item_id, {}),
                checksum=done.checksum,
            )
        )
        return StoredFile(location, done.size, done.sha256, done.checksum)

    async def _transfer(self, item_id: int, expected: int | None, location: S3Location) -> Uploaded:
        resource = self.resource
        reported = 0  # progress stays monotonic across retries: report only new highs
        opened = False

        async def once() -> Uploaded:
            nonlocal reported, opened
            opened = False
            async with (
                self.store.upload(location) as upload,
                resource.stream(item_id, expected_size=expected) as body,
            ):
                opened = True
                async for chunk in body:
                    await upload.write(chunk)
                    if upload.size > reported:
                        reported = upload.size
                        await _call(self.on_progress, item_id, reported, body.total)
                return await upload.commit(body.total)

        return await retry_broken_bodies(
            resource._requester, resource._mp3_op.path, once, answered=lambda: opened
        )


async def download_to_s3(
    resource: Monitors | Voicemessages,
    items: Iterable[int | Monitor | Voicemessage],
    dest: str | S3Location,
    *,
    store: S3Store | None = None,
    endpoint_url: str | None = None,
    file_name: Callable[[int], str] | None = None,
    kind: str | None = None,
    concurrency: int = DEFAULT_BULK_CONCURRENCY,
    skip_existing: bool = True,
    on_progress: ManyProgressCallback | None = None,
    on_item: StoredItemCallback | None = None,
    deadline: DeadlineArg = NOT_GIVEN,
) -> BulkResult[StoredFile]:
    """Save many items' MP3s as objects under an S3 prefix, ``concurrency`` at a time.

    ``await download_to_s3(vs.monitors, ids, "s3://bucket/calls/2026-08")``. Each object
    appears complete or not at all, every part checked by S3 against its SHA-256, and is
    recorded in ``PREFIX/manifest.jsonl`` as soon as it is complete. Objects the manifest
    records and S3 confirms (size and stored checksum, by HEAD) are kept; open multipart
    uploads a killed run left for these names are aborted first. Cut bodies and lost
    connections are retried as the client's retry rules, retry budget and deadline allow.
    One item's failure never stops the others. Before a purge, check an object with
    ``S3Manifest.verified``.

    Args:
        resource: ``vs.monitors`` or ``vs.voicemessages``.
        items: Ids or models (whose ``size`` each object is verified against; their
            fields are kept in the manifest).
        dest: ``s3://BUCKET/PREFIX`` or an ``S3Location``.
        store: An open ``S3Store`` to use (None: one is opened for this call).
        endpoint_url: An S3-compatible endpoint for the store opened here (None:
            botocore's, which honours ``AWS_ENDPOINT_URL``).
        file_name: Names each object below the prefix (default e.g. ``monitor-<id>.mp3``);
            an item already in the manifest keeps its recorded name.
        kind: The manifest entries' ``kind`` (default the resource's, e.g. ``monitor``).
        concurrency: Bodies in flight at most.
        skip_existing: Keep objects verified against the manifest.
        on_progress: ``on_progress(id, bytes_done, total)``, sync or async, monotonic
            per id; not called for a kept object.
        on_item: ``on_item(outcome)``, sync or async, once per id as soon as its outcome
            is final; an exception it raises cancels the transfers in flight.
        deadline: Seconds for the whole call (default the client's).

    Returns:
        One outcome per input id in input order, ``value`` being the ``StoredFile``.

    Raises:
        ValueError: A bad ``dest``, ``concurrency`` or id, or names that are not unique.
        ImportError: The ``s3`` extra is not installed.
        OSError: The bucket or the manifest cannot be read or written.
    """
    location = dest if isinstance(dest, S3Location) else parse_s3_url(dest)
    check_positive_int(concurrency, "concurrency")
    listed = list(items)
    ids, sizes = download_targets(listed, resource._mp3_model)
    metadata = {
        item.id: item.to_dict() for item in listed if isinstance(item, Monitor | Voicemessage)
    }
    name_of = resource._mp3_op.file_name if file_name is None else file_name
    unique = list(dict.fromkeys(ids))
    async with AsyncExitStack() as stack:
        if store is None:
            store = await stack.enter_async_context(S3Store(endpoint_url, connections=concurrency))
        manifest = await stack.enter_async_context(S3Manifest(store, location))
        names = {
            item_id: entry.file
            if (entry := manifest.entries.get(item_id))
            else _check_name(name_of(item_id))
            for item_id in unique
        }
        if len(set(names.values())) != len(names):
            raise ValueError("file_name must give each id its own name")
        below = f"{location.key}/" if location.key else ""
        ours = {*names.values(), MANIFEST_NAME}
        await store.abort_stale_uploads(
            location.bucket, below, lambda key: key.removeprefix(below) in ours
        )
        archive = _Archive(
            resource=resource,
            store=store,
            manifest=manifest,
            names=names,
            sizes=sizes,
            metadata=metadata,
            kind=resource._mp3_op.file_name(0).split("-", 1)[0] if kind is None else kind,
            skip_existing=skip_existing,
            on_progress=on_progress,
        )
        outcomes: dict[int, ItemOutcome[StoredFile]] = {}

        async def done(item_id: int, result: StoredFile | Exception) -> None:
            outcome = (
                ItemOutcome(id=item_id, ok=False, error=result)
                if isinstance(result, Exception)
                else ItemOutcome(id=item_id, ok=True, value=result)
            )
            outcomes[item_id] = outcome
            await _call(on_item, outcome)

        with resource._requester.deadline(deadline):
            await run_each(unique, archive.fetch, concurrency, done)
    return BulkResult(tuple(outcomes[item_id] for item_id in ids))
