"""``vs.chats``: chat sessions."""

from __future__ import annotations

from voipstudio_history_client.api.chats import get_chat, list_chats
from voipstudio_history_client.models import Chat, ChatItem, ChatList
from voipstudio_history_client.models.chat_sort_field import CHAT_SORT_FIELD_VALUES

from .._operations import calls, operation
from .._request.requester import NOT_GIVEN, DeadlineArg, TimeoutArg
from ._base import KeysetListResource, ListEndpoint, check_id

_GET_CHAT = operation(get_chat)


class Chats(KeysetListResource[Chat]):
    """Chat sessions (``/chats``)."""

    _list_op = ListEndpoint(
        operation(list_chats), ChatList.from_dict, frozenset(CHAT_SORT_FIELD_VALUES)
    )

    @calls(_GET_CHAT)
    async def get(
        self, id: int, *, timeout: TimeoutArg = NOT_GIVEN, deadline: DeadlineArg = NOT_GIVEN
    ) -> Chat:
        """One chat by id.

        Args:
            id: The item's id.
            timeout: Seconds (or an ``httpx.Timeout``) for the request; default the
                client's.
            deadline: Seconds for the whole call, retries included; default the client's.

        Returns:
            The item with that id, as a ``Chat`` model.

        Raises:
            ValueError: ``id`` is not a positive integer; nothing was sent.
            NotFoundError: No item has that id.
            APIStatusError: The API answered with another error status.
            APITimeoutError: The call did not finish in time.
        """
        return await self._get_item(
            _GET_CHAT, ChatItem.from_dict, check_id(id), timeout=timeout, deadline=deadline
        )
