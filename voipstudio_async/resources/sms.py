"""``vs.sms``: SMS dictionaries."""

from __future__ import annotations

from voipstudio_history_client.api.sms import get_sms_dictionaries
from voipstudio_history_client.models import SmsDictionary

from .._transport import NOT_GIVEN, TimeoutArg
from ._base import Resource


class Sms(Resource):
    """SMS (``/sms``): only the dictionaries belong to the History module."""

    async def dictionaries(self, *, timeout: TimeoutArg = NOT_GIVEN) -> SmsDictionary:
        """The SMS dictionaries."""
        return await self._get_model(
            get_sms_dictionaries._get_kwargs(),
            SmsDictionary.from_dict,
            path_template="/sms/dictionaries",
            timeout=timeout,
        )
