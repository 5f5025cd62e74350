"""Downloading the recordings or voicemails of a period straight into an S3 prefix, resumably.

The S3 counterpart of ``_media.fetch_period``: each body is streamed from VoIPstudio
into an ``Upload`` (``_s3``), so no object appears before it is complete, and recorded
in ``PREFIX/manifest.jsonl`` (``_s3manifest``) with its size, sha256 and the checksum S3
stores. A re-run skips what is in the bucket as recorded, and first aborts the multipart
uploads a killed run left under the prefix (only of the names this tool writes there).
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Sequence
from typing import Any

from voipstudio_history_client.models import Monitor, Voicemessage

from .._client import VoipStudio
from .._download import retry_broken_bodies
from .._filters import FilterArg
from .._transport import NOT_GIVEN
from ._manifest import MANIFEST_NAME, Entry
from ._media import FetchReport, MediaKind, describe_error, file_name, list_items
from ._output import Task
from ._s3 import S3Store, S3Target, Uploaded, describe_s3_error
from ._s3manifest import S3Manifest
from ._storage import S3Location

__all__ = ["fetch_period_to_s3", "is_own_name"]

# The names file_name() gives, and the manifest: what a stale upload of ours is called.
_OWN_NAME = re.compile(
    rf"([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}_[0-9]{{6}}_)?[0-9]+\.mp3|{re.escape(MANIFEST_NAME)}"
)


def is_own_name(name: str) -> bool:
    """Whether ``name`` (below the prefix) is one this tool writes."""
    return _OWN_NAME.fullmatch(name) is not None


def _expected_size(metadata: dict[str, Any]) -> int | None:
    size = metadata.get("size")
    return size if isinstance(size, int) and size >= 0 else None


def _describe(exc: Exception) -> str:
    return describe_s3_error(exc) if isinstance(exc, OSError) else describe_error(exc)


async def _recheck(manifest: S3Manifest, concurrency: int, ids: list[int]) -> list[int]:
    gate = asyncio.Semaphore(concurrency)

    async def check(item_id: int) -> bool:
        async with gate:
            return await manifest.verified(item_id) is not None

    found = await asyncio.gather(*(check(item_id) for item_id in ids))
    return [item_id for item_id, ok in zip(ids, found, strict=True) if ok]


class _Transfer:
    """Streams one item's body into its object, retrying cut bodies from the start as the
    client's retry rules, retry budget and deadline allow (as ``download_many``)."""

    def __init__(self, vs: VoipStudio, kind: MediaKind, store: S3Store, task: Task) -> None:
        self._resource = kind.resource(vs)
        self._store = store
        self._task = task

    async def __call__(
        self, item_id: int, expected_size: int | None, location: S3Location
    ) -> Uploaded:
        resource = self._resource
        reported = 0  # progress stays monotonic across retries: count only new bytes
        opened = False

        async def once() -> Uploaded:
            nonlocal reported, opened
            opened = False
            async with (
                self._store.upload(location) as upload,
                resource.stream(item_id, expected_size=expected_size) as body,
            ):
                opened = True
                async for chunk in body:
                    await upload.write(chunk)
                    if upload.size > reported:
                        self._task.advance(0, nbytes=upload.size - reported)
                        reported = upload.size
                return await upload.commit(body.total)

        return await retry_broken_bodies(
            resource._requester, resource._mp3_op.path, once, answered=lambda: opened
        )


async def fetch_period_to_s3(
    vs: VoipStudio,
    kind: MediaKind,
    *,
    filters: Sequence[FilterArg],
    target: S3Target,
    concurrency: int,
    task: Task,
) -> FetchReport:
    """List the matching items, then upload those not already verified below ``target``.

    Each object is recorded in the manifest as soon as it is complete.
    """
    store, prefix = target.store, target.location
    items = await list_items(vs, kind, filters)
    task.set_total(len(items))
    below = f"{prefix.key}/" if prefix.key else ""
    await store.abort_stale_uploads(
        prefix.bucket, below, lambda key: is_own_name(key.removeprefix(below))
    )
    async with S3Manifest(store, prefix) as manifest:
        report = FetchReport(
            kind,
            prefix,
            functools.partial(_recheck, manifest, concurrency),
            listed={item.id: item.to_dict() for item in items},
        )
        transfer = _Transfer(vs, kind, store, task)
        gate = asyncio.Semaphore(concurrency)

        async def archive(item: Monitor | Voicemessage) -> None:
            metadata = report.listed[item.id]
            async with gate:
                try:
                    entry = await manifest.verified(item.id)
                    if entry is not None and _expected_size(metadata) in (None, entry.size):
                        report.skipped.append(item.id)
                        return
                    name = entry.file if entry is not None else file_name(kind, metadata)
                    size = _expected_size(metadata)
                    done = await transfer(item.id, size, prefix.child(name))
                    await manifest.record(
                        Entry.now(
                            kind.singular,
                            item.id,
                            name,
                            done.size,
                            done.sha256,
                            metadata,
                            checksum=done.checksum,
                        )
                    )
                    report.downloaded.append(item.id)
                    report.bytes_downloaded += done.size
                except Exception as exc:  # one item's failure never stops the others
                    report.failed[item.id] = _describe(exc)
                finally:
                    task.advance()

        # One deadline (the client's default) for all the items, as download_many.
        with vs._requester.deadline(NOT_GIVEN):
            async with asyncio.TaskGroup() as group:
                for item in items:
                    group.create_task(archive(item))
    return report
