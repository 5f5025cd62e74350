"""From ``--since``/``--until``/``--filter`` to the API's filter conditions, per collection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import attrs
from voipstudio_history_client.models import Cdr, Monitor, Voicemessage

from .._filters import Filter
from ._args import Collection
from ._errors import UserError

__all__ = ["DATE_FIELDS", "FIELDS", "build_filters"]

DATE_FIELDS: dict[Collection, str] = {
    "cdrs": "calldate",
    "monitors": "timestamp",
    "voicemessages": "origtime",
}
"""The field each collection's period is filtered on."""


def _fields(model: type[attrs.AttrsInstance]) -> tuple[str, ...]:
    return tuple(f.name for f in attrs.fields(model) if f.name != "additional_properties")


FIELDS: dict[Collection, tuple[str, ...]] = {
    "cdrs": _fields(Cdr),
    "monitors": _fields(Monitor),
    "voicemessages": _fields(Voicemessage),
}
"""Every field the spec defines per collection, in spec order."""


def _utc(moment: datetime) -> datetime:
    # The API reads naive times as UTC; an explicit offset is converted to match.
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def build_filters(
    collection: Collection,
    *,
    since: datetime | None,
    until: datetime | None,
    filters: Sequence[Filter] = (),
) -> list[Filter]:
    """``since <= date < until`` on the collection's date field, ANDed with ``filters``.

    Raises ``UserError`` for an empty period or a field the collection does not have.
    """
    known = FIELDS[collection]
    for condition in filters:
        if condition.property not in known:
            raise UserError(
                f"{collection} have no field {condition.property!r} (fields: {', '.join(known)})"
            )
    start = None if since is None else _utc(since)
    end = None if until is None else _utc(until)
    if start is not None and end is not None and end <= start:
        raise UserError(f"--until ({end}) must be after --since ({start}); --until is exclusive")
    field = DATE_FIELDS[collection]
    conditions = []
    if start is not None:
        conditions.append(Filter(field, "gte", start))
    if end is not None:
        conditions.append(Filter(field, "lt", end))
    return conditions + list(filters)
