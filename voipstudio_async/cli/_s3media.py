"""Downloading the recordings or voicemails of a period straight into an S3 prefix.

The S3 counterpart of ``_media.fetch_period``, over the SDK's
``voipstudio_async.storage.download_to_s3`` (atomic uploads, the manifest, stale-upload
clean-up, retries by the client's rules): this module lists the period, names the
objects as the command does, and reports progress and outcomes.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence

from .._bulk import ItemOutcome
from .._client import VoipStudio
from .._filters import FilterArg
from ..storage import S3Manifest, StoredFile, download_to_s3
from ._media import FetchReport, MediaKind, describe_error, file_name, list_items
from ._output import Task
from ._s3 import S3Target, describe_s3_error

__all__ = ["fetch_period_to_s3"]


def _describe(exc: BaseException) -> str:
    return describe_s3_error(exc) if isinstance(exc, OSError) else describe_error(exc)


async def _recheck(manifest: S3Manifest, concurrency: int, ids: list[int]) -> list[int]:
    await manifest.load()  # as the bucket is now, right before a purge
    gate = asyncio.Semaphore(concurrency)

    async def check(item_id: int) -> bool:
        async with gate:
            return await manifest.verified(item_id) is not None

    found = await asyncio.gather(*(check(item_id) for item_id in ids))
    return [item_id for item_id, ok in zip(ids, found, strict=True) if ok]


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
    report = FetchReport(
        kind,
        prefix,
        functools.partial(_recheck, S3Manifest(store, prefix), concurrency),
        listed={item.id: item.to_dict() for item in items},
    )
    reported: dict[int, int] = {}

    def progress(item_id: int, done: int, total: int | None) -> None:
        # Monotonic per id, across retries too: count only the new bytes.
        task.advance(0, nbytes=done - reported.get(item_id, 0))
        reported[item_id] = done

    def record(outcome: ItemOutcome[StoredFile]) -> None:
        stored = outcome.value
        if stored is not None and stored.skipped:
            report.skipped.append(outcome.id)
        elif stored is not None:
            report.downloaded.append(outcome.id)
            report.bytes_downloaded += stored.size
        else:
            report.failed[outcome.id] = _describe(outcome.error) if outcome.error else "failed"
        task.advance()

    await download_to_s3(
        kind.resource(vs),
        items,
        prefix,
        store=store,
        file_name=lambda item_id: file_name(kind, report.listed[item_id]),
        kind=kind.singular,
        concurrency=concurrency,
        on_progress=progress,
        on_item=record,
    )
    return report
