"""Downloading the recordings or voicemails of a period into a directory, resumably."""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from voipstudio_history_client.models import Monitor, Voicemessage

from .._bulk import ItemOutcome
from .._client import VoipStudio
from .._download import DownloadResult
from .._errors import APIConnectionError, APIStatusError, IncompleteDownloadError
from .._filters import FilterArg
from ..resources import Monitors, Voicemessages
from ._errors import UserError
from ._manifest import MANIFEST_NAME, Entry, Manifest
from ._output import Task
from ._query import DATE_FIELDS
from ._storage import S3Location

__all__ = [
    "MONITORS",
    "VOICEMESSAGES",
    "FetchReport",
    "MediaCollection",
    "MediaKind",
    "Recheck",
    "describe_error",
    "fetch_period",
    "file_name",
    "list_items",
    "prepare_directory",
    "prepare_media_directory",
    "removing_new_directories",
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


Recheck = Callable[[list[int]], Awaitable[list[int]]]
"""``recheck(ids)``: those of ``ids`` whose file is verified against the manifest right now."""


@dataclass(slots=True)
class FetchReport:
    """What one download run did, per item id."""

    kind: MediaKind
    directory: Path | S3Location
    recheck: Recheck
    listed: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Metadata of every item of the period, by id."""
    downloaded: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    bytes_downloaded: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


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
    if directory.exists() and not directory.is_dir():
        raise UserError(f"cannot write to {directory}: not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UserError(f"cannot write to {directory}: {reason}") from None


@contextlib.contextmanager
def removing_new_directories(*directories: Path) -> Iterator[None]:
    """On an exception, remove the ``directories`` (and parents) the block created that are
    still empty: a failed run leaves no empty folders behind."""
    missing: list[Path] = []
    for directory in directories:
        for path in (directory, *directory.parents):
            if path.exists() or path in missing:
                break
            missing.append(path)
    try:
        yield
    except BaseException:
        # Deepest first, so a parent is empty by the time its turn comes.
        for path in sorted(missing, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                path.rmdir()
        raise


def prepare_media_directory(directory: Path) -> None:
    """``prepare_directory``, and refuse a manifest that is not a regular file."""
    prepare_directory(directory)
    manifest = directory / MANIFEST_NAME
    if manifest.exists() and not manifest.is_file():
        raise UserError(f"cannot write {manifest}: not a regular file")


def file_name(kind: MediaKind, metadata: dict[str, Any]) -> str:
    """``2026-08-01_093012_42.mp3``: sorts by time; the id keeps names unique."""
    stamp = metadata.get(kind.date_field)
    item_id = metadata["id"]
    if isinstance(stamp, str) and len(stamp) >= 19 and stamp[:4].isdigit():
        return f"{stamp[:10]}_{stamp[11:19].replace(':', '')}_{item_id}.mp3"
    return f"{item_id}.mp3"


async def list_items(
    vs: VoipStudio, kind: MediaKind, filters: Sequence[FilterArg]
) -> list[Monitor | Voicemessage]:
    """Every matching item, by ascending id."""
    return [item async for item in kind.resource(vs).iterate_consistent(filter=filters)]


def _expected_size(metadata: dict[str, Any]) -> int | None:
    size = metadata.get("size")
    return size if isinstance(size, int) and size >= 0 else None


async def _recheck(directory: Path, ids: list[int]) -> list[int]:
    manifest = Manifest(directory)  # read again: the files could have changed meanwhile
    return [item_id for item_id in ids if await manifest.verified(item_id)]


async def fetch_period(
    vs: VoipStudio,
    kind: MediaKind,
    *,
    filters: Sequence[FilterArg],
    directory: Path,
    concurrency: int,
    task: Task,
) -> FetchReport:
    """List the matching items, then download those not already verified in the manifest.

    Each file is recorded in the manifest as soon as it is in place.
    """
    prepare_media_directory(directory)
    items = await list_items(vs, kind, filters)
    task.set_total(len(items))
    report = FetchReport(
        kind,
        directory,
        functools.partial(_recheck, directory),
        listed={item.id: item.to_dict() for item in items},
    )
    async with Manifest(directory) as manifest:
        names: dict[int, str] = {}
        missing: list[Any] = []  # the models: download_many checks each file against its size
        for item in items:
            metadata = report.listed[item.id]
            entry = await manifest.verified(item.id)
            if entry is not None and _expected_size(metadata) in (None, entry.size):
                report.skipped.append(item.id)
                task.advance()
                continue
            names[item.id] = entry.file if entry is not None else file_name(kind, metadata)
            missing.append(item)

        def record(outcome: ItemOutcome[DownloadResult]) -> None:
            item_id, result = outcome.id, outcome.value
            if outcome.ok and result is not None:
                metadata = report.listed[item_id]
                entry = Entry.now(
                    kind.singular, item_id, names[item_id], result.size, result.sha256, metadata
                )
                manifest.record(entry)
                report.downloaded.append(item_id)
                report.bytes_downloaded += result.size
            else:
                error = outcome.error
                report.failed[item_id] = describe_error(error) if error else "failed"
            task.advance()

        reported: dict[int, int] = {}

        def progress(item_id: int, done: int, total: int | None) -> None:
            # Monotonic per id, across retries too: count only the new bytes.
            task.advance(0, nbytes=done - reported.get(item_id, 0))
            reported[item_id] = done

        await kind.resource(vs).download_many(
            missing,
            directory,
            concurrency=concurrency,
            file_name=names.__getitem__,
            skip_existing=False,
            on_item=record,
            on_progress=progress,
        )
    return report
