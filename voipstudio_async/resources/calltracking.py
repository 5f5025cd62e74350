"""``vs.calltracking``: call-tracking CDRs (``/calltracking/cdrs``)."""

from __future__ import annotations

from voipstudio_history_client.api.calltracking import list_calltracking_cdrs
from voipstudio_history_client.models import CallTrackingCdr, CallTrackingCdrList
from voipstudio_history_client.models.call_tracking_cdr_sort_field import (
    CALL_TRACKING_CDR_SORT_FIELD_VALUES,
)

from .._operations import operation
from ._base import ListEndpoint, ListResource


class CallTracking(ListResource[CallTrackingCdr]):
    """Call-tracking CDRs (``/calltracking/cdrs``).

    Their ids are not always integers, so there is no ``iterate_consistent()``.
    """

    _list_op = ListEndpoint(
        operation(list_calltracking_cdrs),
        CallTrackingCdrList.from_dict,
        frozenset(CALL_TRACKING_CDR_SORT_FIELD_VALUES),
    )
