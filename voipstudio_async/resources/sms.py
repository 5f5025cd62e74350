"""``vs.sms``: SMS dictionaries."""

from __future__ import annotations

from voipstudio_history_client.api.sms import get_sms_dictionaries
from voipstudio_history_client.models import SmsDictionary

from .._operations import calls, operation
from .._request.requester import NOT_GIVEN, DeadlineArg, TimeoutArg
from ._base import Resource

_GET_SMS_DICTIONARIES = operation(get_sms_dictionaries)


class Sms(Resource):
    """SMS (``/sms``): only the dictionaries belong to the History module."""

    @calls(_GET_SMS_DICTIONARIES)
    async def dictionaries(
        self, *, timeout: TimeoutArg = NOT_GIVEN, deadline: DeadlineArg = NOT_GIVEN
    ) -> SmsDictionary:
        """The SMS dictionaries.

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
            _GET_SMS_DICTIONARIES, SmsDictionary.from_dict, timeout=timeout, deadline=deadline
        )
