"""``vs.monitors``: call recordings."""

from __future__ import annotations

from voipstudio_history_client.api.monitors import (
    delete_all_monitors,
    delete_monitors,
    download_monitor_mp3,
    get_monitor,
    list_monitors,
)
from voipstudio_history_client.models import Monitor, MonitorItem, MonitorList
from voipstudio_history_client.models.monitor_sort_field import MONITOR_SORT_FIELD_VALUES

from .._operations import calls, operation
from .._request.requester import NOT_GIVEN, DeadlineArg, TimeoutArg
from ._base import KeysetListResource, ListEndpoint, check_id
from ._verbs import (
    DeleteAllEndpoint,
    DeleteEndpoint,
    FileEndpoint,
    _DeleteAll,
    _IdDeletes,
    _Mp3Downloads,
)

_GET = operation(get_monitor)


class Monitors(KeysetListResource[Monitor], _IdDeletes, _DeleteAll, _Mp3Downloads[Monitor]):
    """Call recordings (``/monitors``).

    ``delete(ids)`` sends ``DELETE /monitors/1,2,3``, ``delete_all(confirm=True)``
    ``DELETE /monitors``. ``download``, ``stream`` and ``download_many`` fetch
    ``GET /monitors/{id}.mp3`` for an id or a ``Monitor`` (then also verified against
    its ``size``) and save it as ``monitor-<id>.mp3`` in a directory ``dest``.
    """

    _list_op = ListEndpoint(
        operation(list_monitors), MonitorList.from_dict, frozenset(MONITOR_SORT_FIELD_VALUES)
    )
    _delete_op = DeleteEndpoint(operation(delete_monitors))
    _delete_all_op = DeleteAllEndpoint(operation(delete_all_monitors))
    _mp3_op = FileEndpoint(operation(download_monitor_mp3), "monitor")
    _mp3_model = Monitor

    @calls(_GET)
    async def get(
        self, id: int, *, timeout: TimeoutArg = NOT_GIVEN, deadline: DeadlineArg = NOT_GIVEN
    ) -> Monitor:
        """One recording's metadata by id.

        Args:
            id: The item's id.
            timeout: Seconds (or an ``httpx.Timeout``) for the request; default the
                client's.
            deadline: Seconds for the whole call, retries included; default the client's.

        Returns:
            The item with that id, as a ``Monitor`` model.

        Raises:
            ValueError: ``id`` is not a positive integer; nothing was sent.
            NotFoundError: No item has that id.
            APIStatusError: The API answered with another error status.
            APITimeoutError: The call did not finish in time.
        """
        return await self._get_item(
            _GET, MonitorItem.from_dict, check_id(id), timeout=timeout, deadline=deadline
        )
