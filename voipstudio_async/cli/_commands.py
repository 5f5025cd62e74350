"""What each command does, given a client, the parsed arguments and the UI."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from .._client import VoipStudio
from .._filters import FilterArg
from ._errors import EXIT_FAILED, EXIT_OK, UserError
from ._export import STDOUT, check_output, export_cdrs
from ._look import get_command, list_command
from ._media import (
    MONITORS,
    VOICEMESSAGES,
    FetchReport,
    MediaKind,
    fetch_period,
    prepare_directory,
    prepare_media_directory,
    removing_new_directories,
)
from ._output import Task, Ui
from ._query import build_filters
from ._report import print_export, print_fetch, print_write
from ._s3 import S3Store, S3Target
from ._s3media import fetch_period_to_s3
from ._storage import S3Location, parse_destination
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


def _endpoint_url(args: argparse.Namespace, destination: object) -> str | None:
    url: str | None = args.s3_endpoint_url
    if url is None:
        return None
    if not isinstance(destination, S3Location):
        raise UserError("--s3-endpoint-url applies to s3:// destinations only")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise UserError("--s3-endpoint-url: expected http(s)://HOST[:PORT] without credentials")
    return url


async def _destination(
    stack: AsyncExitStack, args: argparse.Namespace, text: str, *, is_object: bool
) -> Path | S3Target:
    """The local path or S3 object/prefix ``text`` names, S3's checked reachable."""
    if not text.strip():
        raise UserError(f"{'-o/--output' if is_object else '--dest'}: empty path")
    where = parse_destination(text, is_object=is_object)
    endpoint_url = _endpoint_url(args, where)
    if isinstance(where, Path):
        return where
    connections = getattr(args, "concurrency", 0) + 2  # the manifest and the export too
    store = await stack.enter_async_context(S3Store(endpoint_url, connections=connections))
    await store.check_bucket(where)
    return S3Target(store, where)


async def export_command(vs: VoipStudio, args: argparse.Namespace, ctx: Context) -> int:
    filters = build_filters("cdrs", since=args.since, until=args.until, filters=args.filter)
    async with AsyncExitStack() as stack:
        output: Path | IO[str] | S3Target = ctx.ui.stdout
        if args.output != STDOUT:
            output = await _destination(stack, args, args.output, is_object=True)
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
    if isinstance(output, Path | S3Target):
        print_export(ctx.ui, rows, output)
    else:  # stdout holds the rows: the summary goes to stderr
        ctx.ui.say(f"{'CDRs':<11} {rows} rows -> standard output", aside=True)
    return EXIT_OK


async def _fetch(
    vs: VoipStudio,
    kind: MediaKind,
    filters: Sequence[FilterArg],
    where: Path | S3Target,
    concurrency: int,
    task: Task,
) -> FetchReport:
    if isinstance(where, S3Target):
        return await fetch_period_to_s3(
            vs, kind, filters=filters, target=where, concurrency=concurrency, task=task
        )
    return await fetch_period(
        vs, kind, filters=filters, directory=where, concurrency=concurrency, task=task
    )


async def download_command(vs: VoipStudio, args: argparse.Namespace, ctx: Context) -> int:
    kind = MONITORS if args.command == "monitors" else VOICEMESSAGES
    filters = build_filters(
        kind.collection, since=args.since, until=args.until, filters=args.filter
    )
    async with AsyncExitStack() as stack:
        where = await _destination(stack, args, args.dest, is_object=False)
        if isinstance(where, Path):
            stack.enter_context(removing_new_directories(where))
        with ctx.ui.progress() as tracker:
            report = await _fetch(
                vs, kind, filters, where, args.concurrency, tracker.task(kind.label, None)
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


def _below(where: Path | S3Target, name: str) -> Path | S3Target:
    if isinstance(where, S3Target):
        return S3Target(where.store, where.location.child(name))
    return where / name


def prepare_archive(dest: Path | S3Target, output: Path | S3Target) -> None:
    """Check every local destination of an archive (the directory, the CDR file, each media
    directory) before the first request, so none is found unusable late."""
    if isinstance(dest, Path) and isinstance(output, Path):
        prepare_directory(dest)
        check_output(output)
        for kind in (MONITORS, VOICEMESSAGES):
            prepare_media_directory(dest / kind.collection)


async def archive_command(vs: VoipStudio, args: argparse.Namespace, ctx: Context) -> int:
    """Export, download both media kinds, then the optional move and purge."""
    _check_purge_allowed(args, ctx)
    async with AsyncExitStack() as stack:
        dest = await _destination(stack, args, args.dest, is_object=False)
        if isinstance(dest, Path):
            stack.enter_context(
                removing_new_directories(
                    *(dest / kind.collection for kind in (MONITORS, VOICEMESSAGES))
                )
            )
        return await _archive(vs, args, ctx, dest)


async def _archive(
    vs: VoipStudio, args: argparse.Namespace, ctx: Context, dest: Path | S3Target
) -> int:
    period = {"since": args.since, "until": args.until}
    cdr_filters = build_filters("cdrs", **period)
    monitor_filters = build_filters("monitors", **period)
    voicemail_filters = build_filters("voicemessages", **period)
    output = _below(dest, f"cdrs.{args.cdrs_format}")
    prepare_archive(dest, output)
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
            await _fetch(
                vs,
                kind,
                filters,
                _below(dest, kind.collection),
                args.concurrency,
                tracker.task(kind.label, None),
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
