"""``vs.chats``: chat sessions."""

from __future__ import annotations

from voipstudio_history_client.api.chats import get_chat, list_chats
from voipstudio_history_client.models import Chat, ChatItem, ChatList
from voipstudio_history_client.models.chat_sort_field import CHAT_SORT_FIELD_VALUES

from .._transport import NOT_GIVEN, Requester, TimeoutArg
from ._base import KeysetListResource, ListEndpoint, check_id

_LIST: ListEndpoint[Chat] = ListEndpoint(
    list_chats._get_kwargs, ChatList.from_dict, "/chats", frozenset(CHAT_SORT_FIELD_VALUES)
)


class Chats(KeysetListResource[Chat]):
    """Chat sessions (``/chats``)."""

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester, _LIST)

    async def get(self, id: int, *, timeout: TimeoutArg = NOT_GIVEN) -> Chat:
        """One chat by id."""
        item = await self._get_model(
            get_chat._get_kwargs(check_id(id)),
            ChatItem.from_dict,
            path_template="/chats/{id}",
            timeout=timeout,
        )
        return item.data
