"""``vs.monitors``: call recordings."""

from __future__ import annotations

from voipstudio_history_client.api.monitors import get_monitor, list_monitors
from voipstudio_history_client.models import Monitor, MonitorItem, MonitorList

from .._transport import NOT_GIVEN, Requester, TimeoutArg
from ._base import KeysetListResource, ListEndpoint, check_id

_LIST: ListEndpoint[Monitor] = ListEndpoint(
    list_monitors._get_kwargs, MonitorList.from_dict, "/monitors"
)


class Monitors(KeysetListResource[Monitor]):
    """Call recordings (``/monitors``)."""

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester, _LIST)

    async def get(self, id: int, *, timeout: TimeoutArg = NOT_GIVEN) -> Monitor:
        """One recording's metadata by id."""
        item = await self._get_model(
            get_monitor._get_kwargs(check_id(id)),
            MonitorItem.from_dict,
            path_template="/monitors/{id}",
            timeout=timeout,
        )
        return item.data
