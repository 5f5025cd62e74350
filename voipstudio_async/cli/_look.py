"""``<collection> list`` and ``<collection> get ID``: quick looks, as tables or JSON."""

from __future__ import annotations

import argparse
from typing import Any

from .._client import VoipStudio
from ..resources import Cdrs, Monitors, Voicemessages
from ._args import Collection
from ._errors import EXIT_OK
from ._output import Ui
from ._query import build_filters, check_field

__all__ = ["get_command", "list_command"]

_COLUMNS: dict[Collection, tuple[str, ...]] = {
    "cdrs": ("id", "calldate", "type", "disposition", "src", "dst", "duration", "charge"),
    "monitors": ("id", "timestamp", "type", "caller", "called", "duration", "size"),
    "voicemessages": ("id", "origtime", "folder", "is_new", "callerid", "dialled", "duration"),
}


def _resource(vs: VoipStudio, collection: Collection) -> Cdrs | Monitors | Voicemessages:
    resource: Cdrs | Monitors | Voicemessages = getattr(vs, collection)
    return resource


async def list_command(vs: VoipStudio, ui: Ui, args: argparse.Namespace) -> int:
    """One page of matching items; ``--json`` prints ``{"total", "page", "items"}``."""
    collection: Collection = args.command
    filters = build_filters(collection, since=args.since, until=args.until, filters=args.filter)
    if args.sort is not None:
        check_field(collection, args.sort)
    options: dict[str, Any] = {
        "page": args.page,
        "limit": args.limit,
        "filter": filters,
        "sort": args.sort,
        "direction": "DESC" if args.desc else None,
    }
    page = await _resource(vs, collection).list(**options)
    page_items, total = [i.to_dict() for i in page.items], page.total
    if args.json:
        ui.json({"total": total, "page": args.page, "items": page_items})
        return EXIT_OK
    ui.table(_COLUMNS[collection], page_items)
    if total is not None:
        ui.say(f"{len(page_items)} shown, {total} matching (page {args.page})")
    return EXIT_OK


async def get_command(vs: VoipStudio, ui: Ui, args: argparse.Namespace) -> int:
    """One item: every field, one per row (or its JSON)."""
    collection: Collection = args.command
    item = (await _resource(vs, collection).get(args.id)).to_dict()
    if args.json:
        ui.json(item)
    else:
        ui.table(("field", "value"), [{"field": k, "value": v} for k, v in item.items()])
    return EXIT_OK
