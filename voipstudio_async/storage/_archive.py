"""Recordings and voicemails downloaded straight into an S3 prefix, resumably.

``download_to_s3`` is ``download_many`` into an ``S3Destination``, in one call: each
body is streamed from VoIPstudio into an ``Upload`` (no object appears before it is
complete, and S3 checks every part's SHA-256), then recorded in
``PREFIX/manifest.jsonl`` with its size, SHA-256 and the checksum S3 stores.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from voipstudio_history_client.models import Monitor, Voicemessage

from .._bulk import BulkResult, ItemOutcome
from .._constants import DEFAULT_BULK_CONCURRENCY
from .._download import ManyProgressCallback
from .._request.requester import NOT_GIVEN, DeadlineArg
from ..resources import Monitors, Voicemessages
from ._destination import S3Destination, StoredFile
from ._location import S3Location
from ._s3 import S3Store

__all__ = ["StoredFile", "StoredItemCallback", "download_to_s3"]

StoredItemCallback = Callable[[ItemOutcome[StoredFile]], Awaitable[None] | None]
"""``on_item(outcome)``: one id's final outcome, as soon as it is known; sync or async."""


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

    ``await download_to_s3(vs.monitors, ids, "s3://bucket/calls/2026-08")`` is
    ``await vs.monitors.download_many(ids, S3Destination("s3://bucket/calls/2026-08"))``
    with the ``S3Destination``'s arguments among its own. Each object
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
        MissingExtraError: The ``s3`` extra is not installed.
        OSError: The bucket or the manifest cannot be read or written.
    """
    destination = S3Destination(dest, store=store, endpoint_url=endpoint_url, kind=kind)
    given: Iterable[Any] = items  # models of the other resource are refused as ids there
    return await resource.download_many(
        given,
        destination,
        concurrency=concurrency,
        on_progress=on_progress,
        skip_existing=skip_existing,
        on_item=on_item,
        file_name=file_name,
        deadline=deadline,
    )
