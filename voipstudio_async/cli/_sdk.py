"""The SDK's write and download verbs, as the CLI uses them.

Thin delegations to the resource methods (``vs.monitors.download``,
``vs.voicemessages.move``, ...), keyed by the collection the CLI works on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from .._bulk import BulkResult
from .._client import VoipStudio
from .._download import DownloadResult, ProgressCallback

__all__ = ["MediaCollection", "delete_items", "download_file", "move_voicemails"]

MediaCollection = Literal["monitors", "voicemessages"]


async def download_file(
    vs: VoipStudio,
    collection: MediaCollection,
    item_id: int,
    target: Path,
    *,
    expected_size: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> DownloadResult:
    """Download one item's MP3 atomically to ``target``."""
    resource = vs.monitors if collection == "monitors" else vs.voicemessages
    return await resource.download(
        item_id, target, expected_size=expected_size, on_progress=on_progress
    )


async def delete_items(
    vs: VoipStudio, collection: MediaCollection, ids: Sequence[int]
) -> BulkResult[None]:
    """DELETE the items by id, in chunks; one outcome per id."""
    resource = vs.monitors if collection == "monitors" else vs.voicemessages
    return await resource.delete(ids)


async def move_voicemails(vs: VoipStudio, ids: Sequence[int], folder: str) -> BulkResult[None]:
    """PATCH the voicemails' folder, in chunks; one outcome per id."""
    return await vs.voicemessages.move(ids, folder=folder)
