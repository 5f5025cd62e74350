"""``vs.calltracking``: call-tracking CDRs (``/calltracking/cdrs``)."""

from __future__ import annotations

from voipstudio_history_client.api.calltracking import list_calltracking_cdrs
from voipstudio_history_client.models import CallTrackingCdr, CallTrackingCdrList
from voipstudio_history_client.models.call_tracking_cdr_sort_field import (
    CALL_TRACKING_CDR_SORT_FIELD_VALUES,
)

from .._transport import Requester
from ._base import ListEndpoint, ListResource

_LIST: ListEndpoint[CallTrackingCdr] = ListEndpoint(
    list_calltracking_cdrs._get_kwargs,
    CallTrackingCdrList.from_dict,
    "/calltracking/cdrs",
    frozenset(CALL_TRACKING_CDR_SORT_FIELD_VALUES),
)


class CallTracking(ListResource[CallTrackingCdr]):
    """Call-tracking CDRs (``/calltracking/cdrs``).

    Their ids are not always integers, so there is no ``iterate_consistent()``.
    """

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester, _LIST)
