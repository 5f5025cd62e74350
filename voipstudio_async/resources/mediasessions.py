"""``vs.mediasessions``: media session dictionaries."""

from __future__ import annotations

from voipstudio_history_client.api.mediasessions import get_mediasession_dictionaries
from voipstudio_history_client.models import MediaSessionDictionary

from .._transport import NOT_GIVEN, TimeoutArg
from ._base import Resource


class MediaSessions(Resource):
    """Media sessions (``/mediasessions``): only the dictionaries."""

    async def dictionaries(self, *, timeout: TimeoutArg = NOT_GIVEN) -> MediaSessionDictionary:
        """The media session dictionaries."""
        return await self._get_model(
            get_mediasession_dictionaries._get_kwargs(),
            MediaSessionDictionary.from_dict,
            path_template="/mediasessions/dictionaries",
            timeout=timeout,
        )
