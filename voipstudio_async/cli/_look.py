"""``<collection> list`` and ``<collection> get ID``: quick looks, as tables or JSON."""

from __future__ import annotations

import argparse
from typing import Any

from .._client import VoipStudio
from ._args import Collection
from ._errors import EXIT_OK
from ._output import Ui
from ._query import build_filters

__all__ = ["get_command", "list_command"]

_COLUMNS: dict[Collection, tuple[str, ...]] = {
    "cdrs": ("id", "calldate", "type", "disposition", "src", "dst", "duration", "charge"),
    "monitors": ("id", "timestamp", "type", "caller", "called", "duration", "size"),
    "voicemessages": ("id", "origtime", "folder", "is_new", "callerid", "dialled", "duration"),
}


async def _page(
    vs: VoipStudio, collection: Collection, options: dict[str, Any]
) -> tuple[list[dict[str, Any]], int | None]:
    if collection == "cdrs":
        cdrs = await vs.cdrs.list(**options)
        return [i.to_dict() for i in cdrs.items], cdrs.total
    if collection == "monitors":
        monitors = await vs.monitors.list(**options)
        return [i.to_dict() for i in monitors.items], monitors.total
    voicemails = await vs.voicemessages.list(**options)
    return [i.to_dict() for i in voicemails.items], voicemails.total


async def list_command(vs: VoipStudio, ui: Ui, args: argparse.Namespace) -> int:
    """One page of matching items; ``--json`` prints ``{"total", "page", "items"}``."""
    collection: Collection = args.command
    filters = build_filters(collection, since=args.since, until=args.until, filters=args.filter)
    options: dict[str, Any] = {
        "page": args.page,
        "limit": args.limit,
        "filter": filters,
        "sort": args.sort,
        "direction": "DESC" if args.desc else None,
    }
    page_items, total = await _page(vs, collection, options)
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
    if collection == "cdrs":
        item = (await vs.cdrs.get(args.id)).to_dict()
    elif collection == "monitors":
        item = (await vs.monitors.get(args.id)).to_dict()
    else:
        item = (await vs.voicemessages.get(args.id)).to_dict()
    if args.json:
        ui.json(item)
    else:
        ui.table(("field", "value"), [{"field": k, "value": v} for k, v in item.items()])
    return EXIT_OK
