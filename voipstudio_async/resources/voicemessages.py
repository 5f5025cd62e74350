"""``vs.voicemessages``: voicemail messages."""

from __future__ import annotations

from voipstudio_history_client.api.voicemessages import get_voicemessage, list_voicemessages
from voipstudio_history_client.models import Voicemessage, VoicemessageItem, VoicemessageList

from .._transport import NOT_GIVEN, Requester, TimeoutArg
from ._base import KeysetListResource, ListEndpoint, check_id

_LIST: ListEndpoint[Voicemessage] = ListEndpoint(
    list_voicemessages._get_kwargs, VoicemessageList.from_dict, "/voicemessages"
)


class Voicemessages(KeysetListResource[Voicemessage]):
    """Voicemail messages (``/voicemessages``)."""

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester, _LIST)

    async def get(self, id: int, *, timeout: TimeoutArg = NOT_GIVEN) -> Voicemessage:
        """One voicemail's metadata by id."""
        item = await self._get_model(
            get_voicemessage._get_kwargs(check_id(id)),
            VoicemessageItem.from_dict,
            path_template="/voicemessages/{id}",
            timeout=timeout,
        )
        return item.data
