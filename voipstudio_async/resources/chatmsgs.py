"""``vs.chatmsgs``."""

from __future__ import annotations

from ._base import Resource


class ChatMsgs(Resource):
    """Chat messages (``/chatmsgs``): deletes only (added with the bulk/download verbs)."""
