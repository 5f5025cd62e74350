"""``vs.voicemessages``: voicemail messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from voipstudio_history_client.api.voicemessages import (
    delete_all_voicemessages,
    delete_voicemessages,
    download_voicemessage_mp3,
    get_voicemessage,
    list_voicemessages,
    update_voicemessages,
)
from voipstudio_history_client.models import (
    Voicemessage,
    VoicemessageItem,
    VoicemessageList,
    VoicemessagePatch,
)
from voipstudio_history_client.models.voicemessage_sort_field import VOICEMESSAGE_SORT_FIELD_VALUES

from .._bulk import BulkResult
from .._bulk import bulk_patch as _bulk_patch
from .._constants import DEFAULT_BULK_CHUNK_ITEMS, DEFAULT_BULK_CONCURRENCY
from .._operations import calls, operation
from .._request.requester import NOT_GIVEN, DeadlineArg, TimeoutArg
from ._base import KeysetListResource, ListEndpoint, check_id
from ._verbs import (
    DeleteAllEndpoint,
    DeleteEndpoint,
    FileEndpoint,
    _DeleteAll,
    _IdDeletes,
    _Mp3Downloads,
)

_GET_VOICEMESSAGE = operation(get_voicemessage)
_UPDATE = operation(update_voicemessages)


class Voicemessages(
    KeysetListResource[Voicemessage], _IdDeletes, _DeleteAll, _Mp3Downloads[Voicemessage]
):
    """Voicemail messages (``/voicemessages``).

    ``delete(ids)`` sends ``DELETE /voicemessages/1,2,3``, ``delete_all(confirm=True)``
    ``DELETE /voicemessages``. ``download``, ``stream`` and ``download_many`` fetch
    ``GET /voicemessages/{id}.mp3`` for an id or a ``Voicemessage`` and save it as
    ``voicemessage-<id>.mp3`` in a directory ``dest``.
    """

    _list_op = ListEndpoint(
        operation(list_voicemessages),
        VoicemessageList.from_dict,
        frozenset(VOICEMESSAGE_SORT_FIELD_VALUES),
    )
    _delete_op = DeleteEndpoint(operation(delete_voicemessages))
    _delete_all_op = DeleteAllEndpoint(operation(delete_all_voicemessages))
    _mp3_op = FileEndpoint(operation(download_voicemessage_mp3), "voicemessage")
    _mp3_model = Voicemessage

    @calls(_GET_VOICEMESSAGE)
    async def get(
        self, id: int, *, timeout: TimeoutArg = NOT_GIVEN, deadline: DeadlineArg = NOT_GIVEN
    ) -> Voicemessage:
        """One voicemail's metadata by id.

        Args:
            id: The item's id.
            timeout: Seconds (or an ``httpx.Timeout``) for the request; default the
                client's.
            deadline: Seconds for the whole call, retries included; default the client's.

        Returns:
            The item with that id, as a ``Voicemessage`` model.

        Raises:
            ValueError: ``id`` is not a positive integer; nothing was sent.
            NotFoundError: No item has that id.
            APIStatusError: The API answered with another error status.
            APITimeoutError: The call did not finish in time.
        """
        return await self._get_item(
            _GET_VOICEMESSAGE,
            VoicemessageItem.from_dict,
            check_id(id),
            timeout=timeout,
            deadline=deadline,
        )

    @calls(_UPDATE)
    async def update(
        self,
        items: Iterable[Mapping[str, Any] | VoicemessagePatch],
        *,
        chunk_size: int = DEFAULT_BULK_CHUNK_ITEMS,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        deadline: DeadlineArg = NOT_GIVEN,
    ) -> BulkResult[None]:
        """PATCH voicemails (``PATCH /voicemessages``): ``{"id": 7, "folder": "Work"}`` items.

        Items are mappings or ``VoicemessagePatch`` models. All are validated before
        anything is sent (positive int id, known fields, no id repeated with different
        values; ``ValueError`` lists the problems). Sent in chunks of ``chunk_size``,
        ``concurrency`` at a time, never replayed after an ambiguous failure. One
        outcome per input item, in order; an empty input sends nothing.

        Args:
            items: The changes, one mapping or model per item, each with its ``id``.
            chunk_size: Items per request.
            concurrency: Requests in flight at once.
            deadline: Seconds for the whole call (default the client's).

        Returns:
            One outcome per input item, in input order (``result.ok``, ``result.failed``).

        Raises:
            ValueError: An item is refused (the message lists the problems); nothing
                was sent.
        """
        with self._requester.deadline(deadline):
            return await _bulk_patch(
                self._requester,
                items,
                build_kwargs=lambda body: _UPDATE.build(body=body),
                model_cls=VoicemessagePatch,
                path_template=_UPDATE.path,
                chunk_size=chunk_size,
                concurrency=concurrency,
            )

    @calls(_UPDATE)
    async def move(
        self,
        ids: Iterable[int],
        *,
        folder: int | str,
        chunk_size: int = DEFAULT_BULK_CHUNK_ITEMS,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
        deadline: DeadlineArg = NOT_GIVEN,
    ) -> BulkResult[None]:
        """Move voicemails to ``folder`` (e.g. ``"Work"``): ``update`` with only the folder.

        Args:
            ids: The voicemails' ids.
            folder: The folder's name (e.g. ``"Work"``) or id.
            chunk_size: Items per request.
            concurrency: Requests in flight at once.
            deadline: Seconds for the whole call (default the client's).

        Returns:
            One outcome per id, in input order (``result.ok``, ``result.failed``).

        Raises:
            ValueError: ``ids`` is empty, an id is refused or ``folder`` is empty;
                nothing was sent.
            TypeError: ``ids`` is not an iterable of ints (a string, for instance).
        """
        if isinstance(folder, bool) or not isinstance(folder, int | str) or folder == "":
            raise ValueError(f"folder must be a folder name or id, got {folder!r}")
        if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
            raise TypeError(f"ids must be an iterable of ints, got {type(ids).__name__}")
        items = [{"id": item_id, "folder": folder} for item_id in ids]
        if not items:
            raise ValueError("ids is empty: nothing to move")
        return await self.update(
            items,
            chunk_size=chunk_size,
            concurrency=concurrency,
            deadline=deadline,
        )
