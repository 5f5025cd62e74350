"""The SDK's write and download verbs, as the CLI uses them.

The resource classes do not expose ``download``/``delete``/``move`` yet, so these call
the engines in ``_download``/``_bulk`` with the generated request builders, exactly
as the resources will. When the resource verbs land, each function becomes a
one-line delegation and the rest of the CLI does not change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from voipstudio_history_client.api.monitors import delete_monitors, download_monitor_mp3
from voipstudio_history_client.api.voicemessages import (
    delete_voicemessages,
    download_voicemessage_mp3,
    update_voicemessages,
)
from voipstudio_history_client.models import VoicemessagePatch

from .._bulk import BulkResult, bulk_delete, bulk_patch
from .._client import VoipStudio
from .._download import DownloadResult, ProgressCallback, download

__all__ = ["MediaCollection", "delete_items", "download_file", "move_voicemails"]

MediaCollection = Literal["monitors", "voicemessages"]

_DOWNLOADS: dict[MediaCollection, tuple[Callable[[int], Mapping[str, Any]], str]] = {
    "monitors": (download_monitor_mp3._get_kwargs, "/monitors/{id}.mp3"),
    "voicemessages": (download_voicemessage_mp3._get_kwargs, "/voicemessages/{id}.mp3"),
}
_DELETES: dict[MediaCollection, tuple[Callable[[list[int]], Mapping[str, Any]], str]] = {
    "monitors": (lambda ids: delete_monitors._get_kwargs(id=ids), "/monitors/{id}"),
    "voicemessages": (
        lambda ids: delete_voicemessages._get_kwargs(id=ids),
        "/voicemessages/{id}",
    ),
}


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
    build, template = _DOWNLOADS[collection]
    return await download(
        vs._requester,
        build(item_id),
        target,
        path_template=template,
        default_name=target.name,
        expected_size=expected_size,
        on_progress=on_progress,
    )


async def delete_items(
    vs: VoipStudio, collection: MediaCollection, ids: Sequence[int]
) -> BulkResult[None]:
    """DELETE the items by id, in chunks; one outcome per id."""
    build, template = _DELETES[collection]
    return await bulk_delete(vs._requester, ids, build_kwargs=build, path_template=template)


async def move_voicemails(vs: VoipStudio, ids: Sequence[int], folder: str) -> BulkResult[None]:
    """PATCH the voicemails' folder, in chunks; one outcome per id."""
    return await bulk_patch(
        vs._requester,
        [{"id": item_id, "folder": folder} for item_id in ids],
        build_kwargs=lambda body: update_voicemessages._get_kwargs(body=body),
        model_cls=VoicemessagePatch,
        path_template="/voicemessages",
    )
