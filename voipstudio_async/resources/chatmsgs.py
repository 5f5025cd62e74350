"""``vs.chatmsgs``."""

from __future__ import annotations

from collections.abc import Iterable

from voipstudio_history_client.api.chatmsgs import delete_all_chatmsgs, delete_chatmsgs

from .._bulk import DEFAULT_CHUNK_SIZE, DEFAULT_CONCURRENCY, BulkResult, DeleteAllResult
from .._bulk import bulk_delete as _bulk_delete
from .._bulk import delete_all as _delete_all
from ._base import Resource


class ChatMsgs(Resource):
    """Chat messages (``/chatmsgs``): deletes only."""

    async def delete(
        self,
        ids: Iterable[int],
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> BulkResult[None]:
        """Delete chat messages by id (``DELETE /chatmsgs/1,2,3``), in chunks.

        An empty ``ids`` raises ``ValueError`` and sends nothing. One outcome per id.
        """
        return await _bulk_delete(
            self._requester,
            ids,
            build_kwargs=lambda chunk: delete_chatmsgs._get_kwargs(ids=chunk),
            path_template="/chatmsgs/{ids}",
            chunk_size=chunk_size,
            concurrency=concurrency,
        )

    async def delete_all(self, *, confirm: bool = False) -> DeleteAllResult:
        """Delete every chat message (``DELETE /chatmsgs``): only with ``confirm=True``."""
        return await _delete_all(
            self._requester,
            build_kwargs=delete_all_chatmsgs._get_kwargs,
            path_template="/chatmsgs",
            confirm=confirm,
        )
