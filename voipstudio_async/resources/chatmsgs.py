"""``vs.chatmsgs``."""

from __future__ import annotations

from voipstudio_history_client.api.chatmsgs import delete_all_chatmsgs, delete_chatmsgs

from .._operations import operation
from ._verbs import DeleteAllEndpoint, DeleteEndpoint, _DeleteAll, _IdDeletes


class ChatMsgs(_IdDeletes, _DeleteAll):
    """Chat messages (``/chatmsgs``): deletes only.

    ``delete(ids)`` sends ``DELETE /chatmsgs/1,2,3``, ``delete_all(confirm=True)``
    ``DELETE /chatmsgs``.
    """

    _delete_op = DeleteEndpoint(operation(delete_chatmsgs))
    _delete_all_op = DeleteAllEndpoint(operation(delete_all_chatmsgs))
