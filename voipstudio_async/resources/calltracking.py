"""``vs.calltracking``: the account's call tracking numbers (``/calltracking/cdrs``)."""

from __future__ import annotations

from voipstudio_history_client.api.calltracking import list_calltracking_cdrs
from voipstudio_history_client.models import CallTrackingNumber, CallTrackingNumberList
from voipstudio_history_client.models.call_tracking_number_sort_field import (
    CALL_TRACKING_NUMBER_SORT_FIELD_VALUES,
)

from .._operations import operation
from ._base import ListEndpoint, ListResource


class CallTracking(ListResource[CallTrackingNumber]):
    """Call tracking numbers (``/calltracking/cdrs``), typed as the reference's example
    of that path shows; their calls are ``vs.cdrs.calltracking_list()``.

    Their ids are not always integers, so there is no ``iterate_consistent()``.
    """

    _list_op = ListEndpoint(
        operation(list_calltracking_cdrs),
        CallTrackingNumberList.from_dict,
        frozenset(CALL_TRACKING_NUMBER_SORT_FIELD_VALUES),
    )
