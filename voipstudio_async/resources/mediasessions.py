"""``vs.mediasessions``: media session dictionaries."""

from __future__ import annotations

from voipstudio_history_client.api.mediasessions import get_mediasession_dictionaries
from voipstudio_history_client.models import MediaSessionDictionary

from .._operations import calls, operation
from .._request.requester import NOT_GIVEN, DeadlineArg, TimeoutArg
from ._base import Resource

_GET_MEDIASESSION_DICTIONARIES = operation(get_mediasession_dictionaries)


class MediaSessions(Resource):
    """Media sessions (``/mediasessions``): only the dictionaries."""

    @calls(_GET_MEDIASESSION_DICTIONARIES)
    async def dictionaries(
        self, *, timeout: TimeoutArg = NOT_GIVEN, deadline: DeadlineArg = NOT_GIVEN
    ) -> MediaSessionDictionary:
        """The media session dictionaries.

        Args:
            timeout: Seconds (or an ``httpx.Timeout``) for the request; default the
                client's.
            deadline: Seconds for the whole call, retries included; default the client's.

        Returns:
            The lookup values of the coded fields, by field.

        Raises:
            APIStatusError: The API answered with another error status.
            APITimeoutError: The call did not finish in time.
        """
        return await self._get_model(
            _GET_MEDIASESSION_DICTIONARIES,
            MediaSessionDictionary.from_dict,
            timeout=timeout,
            deadline=deadline,
        )
