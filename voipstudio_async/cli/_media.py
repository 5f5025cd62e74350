"""Downloading the recordings or voicemails of a period into a directory, resumably."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .._client import VoipStudio
from .._errors import APIConnectionError, APIStatusError, IncompleteDownloadError
from .._filters import FilterArg
from ..resources import Monitors, Voicemessages
from ._errors import UserError
from ._manifest import Entry, Manifest
from ._output import Task
from ._query import DATE_FIELDS

__all__ = [
    "MONITORS",
    "VOICEMESSAGES",
    "FetchReport",
    "MediaCollection",
    "MediaKind",
    "RetryTuning",
    "describe_error",
    "fetch_period",
    "file_name",
    "list_items",
    "prepare_directory",
]


MediaCollection = Literal["monitors", "voicemessages"]


@dataclass(frozen=True, slots=True)
class MediaKind:
    """A collection whose items each have an MP3."""

    collection: MediaCollection
    label: str
    singular: str

    @property
    def date_field(self) -> str:
        """The field ``--since``/``--until`` filter on."""
        return DATE_FIELDS[self.collection]

    def resource(self, vs: VoipStudio) -> Monitors | Voicemessages:
        """The client's resource for this collection (``vs.monitors``, ...)."""
        resource: Monitors | Voicemessages = getattr(vs, self.collection)
        return resource


MONITORS = MediaKind("monitors", "recordings", "recording")
VOICEMESSAGES = MediaKind("voicemessages", "voicemails", "voicemail")


@dataclass(slots=True)
class FetchReport:
    """What one download run did, per item id."""

    kind: MediaKind
    directory: Path
    listed: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Metadata of every item of the period, by id."""
    downloaded: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    bytes_downloaded: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True, slots=True)
class RetryTuning:
    """Retries of a body cut short or a lost connection (the Requester retries statuses)."""

    attempts: int = 3
    delay: float = 0.5


def describe_error(exc: BaseException) -> str:
    """One line for the summary: the SDK's messages never hold credentials or queries."""
    if isinstance(exc, APIStatusError | APIConnectionError | IncompleteDownloadError):
        return str(exc)
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        return f"{reason}: {exc.filename or ''}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


def prepare_directory(directory: Path) -> None:
    """Create ``directory`` and prove it writable, or raise ``UserError``."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UserError(f"cannot write to {directory}: {reason}") from None


def file_name(kind: MediaKind, metadata: dict[str, Any]) -> str:
    """``2026-08-01_093012_42.mp3``: sorts by time; the id keeps names unique."""
    stamp = metadata.get(kind.date_field)
    item_id = metadata["id"]
    if isinstance(stamp, str) and len(stamp) >= 19 and stamp[:4].isdigit():
        return f"{stamp[:10]}_{stamp[11:19].replace(':', '')}_{item_id}.mp3"
    return f"{item_id}.mp3"


async def list_items(
    vs: VoipStudio, kind: MediaKind, filters: Sequence[FilterArg]
) -> list[dict[str, Any]]:
    """The metadata of every matching item, by ascending id."""
    items = kind.resource(vs).iterate_consistent(filter=filters)
    return [item.to_dict() async for item in items]


class _Fetcher:
    def __init__(
        self,
        vs: VoipStudio,
        kind: MediaKind,
        manifest: Manifest,
        report: FetchReport,
        task: Task,
        retry: RetryTuning,
    ) -> None:
        self.vs = vs
        self.kind = kind
        self.manifest = manifest
        self.report = report
        self.task = task
        self.retry = retry

    async def run(self, items: Sequence[dict[str, Any]], concurrency: int) -> None:
        pending = iter(items)

        async def worker() -> None:
            # Workers share one iterator: each item is taken exactly once.
            for metadata in pending:
                item_id = int(metadata["id"])
                try:
                    await self.one(item_id, metadata)
                except Exception as exc:  # reported per item; the others carry on
                    self.report.failed[item_id] = describe_error(exc)
                    self.task.advance()

        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, len(items))):
                group.create_task(worker())

    async def one(self, item_id: int, metadata: dict[str, Any]) -> None:
        expected = metadata.get("size")
        expected_size = expected if isinstance(expected, int) and expected >= 0 else None
        entry = await self.manifest.verified(item_id)
        if entry is not None and expected_size in (None, entry.size):
            self.report.skipped.append(item_id)
            self.task.advance()
            return
        name = entry.file if entry is not None else file_name(self.kind, metadata)
        reported = 0

        def progress(done: int, total: int | None) -> None:
            # A retry starts again from byte 0: count only bytes beyond the last report.
            nonlocal reported
            if done > reported:
                self.task.advance(0, nbytes=done - reported)
                reported = done

        attempt = 1
        while True:
            try:
                result = await self.kind.resource(self.vs).download(
                    item_id,
                    self.manifest.directory / name,
                    expected_size=expected_size,
                    on_progress=progress,
                )
                break
            except (IncompleteDownloadError, APIConnectionError):
                if attempt >= self.retry.attempts:
                    raise
                await asyncio.sleep(self.retry.delay * 2 ** (attempt - 1))
                attempt += 1
        self.manifest.record(
            Entry.now(self.kind.singular, item_id, name, result.size, result.sha256, metadata)
        )
        self.report.downloaded.append(item_id)
        self.report.bytes_downloaded += result.size
        self.task.advance()


async def fetch_period(
    vs: VoipStudio,
    kind: MediaKind,
    *,
    filters: Sequence[FilterArg],
    directory: Path,
    concurrency: int,
    task: Task,
    retry: RetryTuning | None = None,
) -> FetchReport:
    """List the matching items, then download those not already verified in the manifest."""
    prepare_directory(directory)
    items = await list_items(vs, kind, filters)
    task.set_total(len(items))
    report = FetchReport(kind, directory, listed={int(m["id"]): m for m in items})
    async with Manifest(directory) as manifest:
        await _Fetcher(vs, kind, manifest, report, task, retry or RetryTuning()).run(
            items, concurrency
        )
    return report
