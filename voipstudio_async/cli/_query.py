"""From ``--since``/``--until``/``--filter`` to the API's filter conditions, per collection."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import UTC, datetime

from voipstudio_history_client.models import Cdr, Monitor, Voicemessage

from .._fields import dated_by, json_names
from .._filters import Filter
from ._args import Collection
from ._errors import UserError

__all__ = ["DATE_FIELDS", "FIELDS", "build_filters", "check_field"]

DATE_FIELDS: dict[Collection, str] = {
    "cdrs": dated_by(Cdr),
    "monitors": dated_by(Monitor),
    "voicemessages": dated_by(Voicemessage),
}
"""The field each collection's period is filtered on (the spec's ``x-voipstudio-dated-by``)."""


FIELDS: dict[Collection, tuple[str, ...]] = {
    "cdrs": tuple(json_names(Cdr).values()),
    "monitors": tuple(json_names(Monitor).values()),
    "voicemessages": tuple(json_names(Voicemessage).values()),
}
"""Every field the spec defines per collection, by its JSON name, in spec order."""


def check_field(collection: Collection, name: str) -> None:
    """Raise ``UserError`` naming the valid fields unless ``name`` is one of ``collection``'s."""
    known = FIELDS[collection]
    if name in known:
        return
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UserError(f"{collection} have no field {name!r} ({hint}fields: {', '.join(known)})")


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
    for condition in filters:
        check_field(collection, condition.property)
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
