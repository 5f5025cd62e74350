"""What each command does, given a client, the parsed arguments and the UI."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .._client import VoipStudio
from ._errors import EXIT_FAILED, EXIT_OK, UserError
from ._export import STDOUT, check_output, export_cdrs
from ._look import get_command, list_command
from ._media import (
    MONITORS,
    VOICEMESSAGES,
    FetchReport,
    fetch_period,
    prepare_directory,
    prepare_media_directory,
)
from ._output import Ui
from ._query import build_filters
from ._report import print_export, print_fetch, print_write
from ._writes import WriteReport, apply_delete, apply_move, collect, plan_delete, plan_move

__all__ = ["Context", "dispatch"]

Confirm = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Context:
    """What a command needs besides its arguments."""

    ui: Ui
    confirm: Confirm | None = None
    """Asks the user a yes/no question; None when nobody can answer (not a terminal)."""


async def dispatch(vs: VoipStudio, args: argparse.Namespace, ctx: Context) -> int:
    """Run the command ``args`` selects; returns the exit code."""
    action = getattr(args, "action", None)
    if args.command == "archive":
        return await archive_command(vs, args, ctx)
    if action == "export":
        return await export_command(vs, args, ctx)
    if action == "download":
        return await download_command(vs, args, ctx)
    if action == "move":
        return await move_command(vs, args, ctx)
    if action == "list":
        return await list_command(vs, ctx.ui, args)
    return await get_command(vs, ctx.ui, args)


async def export_command(vs: VoipStudio, args: argparse.Namespace, ctx: Context) -> int:
    filters = build_filters("cdrs", since=args.since, until=args.until, filters=args.filter)
    output: Path | IO[str] = ctx.ui.stdout if args.output == STDOUT else Path(args.output)
    if isinstance(output, Path):
        check_output(output)
    with ctx.ui.progress() as tracker:
        rows = await export_cdrs(
            vs,
            filters=filters,
            fmt=args.format,
            output=output,
            task=tracker.task("CDRs", None),
            formula_guard=args.formula_guard,
        )
    if isinstance(output, Path):
        print_export(ctx.ui, rows, output)
    else:  # stdout holds the rows: the summary goes to stderr
        ctx.ui.say(f"{'CDRs':<11} {rows} rows -> standard output", aside=True)
    return EXIT_OK


async def download_command(vs: VoipStudio, args: argparse.Namespace, ctx: Context) -> int:
    kind = MONITORS if args.command == "monitors" else VOICEMESSAGES
    filters = build_filters(
        kind.collection, since=args.since, until=args.until, filters=args.filter
    )
    with ctx.ui.progress() as tracker:
        report = await fetch_period(
            vs,
            kind,
            filters=filters,
            directory=Path(args.dest),
            concurrency=args.concurrency,
            task=tracker.task(kind.label, None),
        )
    print_fetch(ctx.ui, report)
    return EXIT_OK if report.ok else EXIT_FAILED


async def move_command(vs: VoipStudio, args: argparse.Namespace, ctx: Context) -> int:
    ids = list(dict.fromkeys(i for group in args.ids for i in group))
    result = await vs.voicemessages.move(ids, folder=args.folder)
    report = WriteReport(VOICEMESSAGES.label, VOICEMESSAGES.singular, planned=ids)
    collect(report, result)
    print_write(ctx.ui, report, f"moved to {args.folder}", dry_run=False)
    return EXIT_OK if not report.failed else EXIT_FAILED


def _check_purge_allowed(args: argparse.Namespace, ctx: Context) -> None:
    if args.purge and not (args.yes or args.dry_run or ctx.confirm is not None):
        raise UserError(
            "--purge deletes from VoIPstudio and cannot ask for confirmation here "
            "(not a terminal): add --yes, or --dry-run to see what it would delete"
        )


async def archive_command(vs: VoipStudio, args: argparse.Namespace, ctx: Context) -> int:
    """Export, download both media kinds, then the optional move and purge."""
    _check_purge_allowed(args, ctx)
    dest = Path(args.dest)
    period = {"since": args.since, "until": args.until}
    cdr_filters = build_filters("cdrs", **period)
    monitor_filters = build_filters("monitors", **period)
    voicemail_filters = build_filters("voicemessages", **period)
    # Every destination is checked before the first request, not found unusable late.
    prepare_directory(dest)
    output = dest / f"cdrs.{args.cdrs_format}"
    check_output(output)
    for kind in (MONITORS, VOICEMESSAGES):
        prepare_media_directory(dest / kind.collection)
    ui = ctx.ui
    ui.note(f"archiving {args.since} (inclusive) to {args.until} (exclusive) into {dest}")
    with ui.progress() as tracker:
        rows = await export_cdrs(
            vs,
            filters=cdr_filters,
            fmt=args.cdrs_format,
            output=output,
            task=tracker.task("CDRs", None),
            formula_guard=args.formula_guard,
        )
        fetched = [
            await fetch_period(
                vs,
                kind,
                filters=filters,
                directory=dest / kind.collection,
                concurrency=args.concurrency,
                task=tracker.task(kind.label, None),
            )
            for kind, filters in ((MONITORS, monitor_filters), (VOICEMESSAGES, voicemail_filters))
        ]
    print_export(ui, rows, output)
    for report in fetched:
        print_fetch(ui, report)
    ok = all(report.ok for report in fetched)
    _, voicemails = fetched
    if args.move_voicemails:
        ok = await _move_step(vs, voicemails, args.move_voicemails, args.dry_run, ui) and ok
    if args.purge:
        ok = await _purge_step(vs, fetched, args, ctx) and ok
    return EXIT_OK if ok else EXIT_FAILED


async def _move_step(
    vs: VoipStudio, voicemails: FetchReport, folder: str, dry_run: bool, ui: Ui
) -> bool:
    plan = plan_move(voicemails, folder)
    if not dry_run:
        await apply_move(vs, plan, folder)
    print_write(ui, plan, f"moved to {folder}", dry_run=dry_run)
    return not plan.failed


async def _purge_step(
    vs: VoipStudio, fetched: list[FetchReport], args: argparse.Namespace, ctx: Context
) -> bool:
    plans = [plan_delete(report) for report in fetched]
    if args.dry_run:
        for plan in plans:
            print_write(ctx.ui, plan, "deleted", dry_run=True)
        return True
    if not any(plan.planned for plan in plans):
        ctx.ui.say("purge: nothing verified to delete")
        return True
    if not args.yes:
        counts = " and ".join(f"{len(p.planned)} {p.label}" for p in plans)
        assert ctx.confirm is not None  # _check_purge_allowed
        if not ctx.confirm(f"Delete {counts} from VoIPstudio (archived and verified)? [y/N] "):
            ctx.ui.say("purge: cancelled, nothing deleted")
            return True
    for report, plan in zip(fetched, plans, strict=True):
        await apply_delete(vs, report, plan)
        print_write(ctx.ui, plan, "deleted", dry_run=False)
    return not any(plan.failed for plan in plans)
