"""``voipstudio sync``: load the account's history into DuckDB, PostgreSQL or Delta tables.

The work is ``voipstudio_async.warehouse.sync`` (dlt), run in a worker thread: dlt runs
the resources on an event loop of its own, so this module hands it a client factory
rather than a client.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from .._client import VoipStudio
from ._errors import EXIT_INTERRUPTED, EXIT_OK, UserError
from ._interrupt import graceful
from ._output import Task, Ui

if TYPE_CHECKING:
    from ..testing import FakeVoipStudio
    from ..warehouse import SyncReport, Target

__all__ = ["add_sync_parser", "parse_lookback", "sync_command"]

# Defaults of the warehouse module, repeated here so `--help` needs no dlt import.
_RESOURCES = ("cdrs", "monitors", "voicemessages", "chats", "msdrs")
_DEFAULT_URL = "duckdb:///voipstudio_history.duckdb"
_DEFAULT_DATASET = "voipstudio"
_LOOKBACK = re.compile(r"^(\d+)([dhw])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_lookback(text: str) -> timedelta:
    """``7d``, ``12h``, ``2w`` or ``0`` (no re-read)."""
    cleaned = text.strip().lower()
    if cleaned == "0":
        return timedelta(0)
    match = _LOOKBACK.match(cleaned)
    if not match:
        raise argparse.ArgumentTypeError(
            f"invalid lookback {text!r}: expected e.g. 7d, 12h, 2w, or 0 to turn it off"
        )
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def _parse_resources(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in _RESOURCES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"invalid resources {text!r}: expected some of {','.join(_RESOURCES)}"
        )
    return names


def add_sync_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """The ``sync`` subcommand."""
    parser = commands.add_parser(
        "sync",
        parents=[common],
        help="load the history into DuckDB, PostgreSQL or Delta tables, incrementally",
        description=(
            "Load CDRs, recordings, voicemails, chats and MSDRs into a database, one table "
            "each, merged on id. Each run asks only for rows past the last loaded id, and "
            "re-reads the last --lookback of each table to catch changed rows (labels, "
            "voicemail folders). Needs the 'warehouse' extra (DuckDB); 'warehouse-postgres' "
            "and 'warehouse-delta' add the other destinations."
        ),
        epilog=(
            "URL is duckdb:///file.duckdb (relative; duckdb:////abs/file.duckdb), "
            "postgresql://user:password@host:port/database, file:///directory or "
            "s3://bucket/prefix (Delta tables; AWS_* variables give S3 credentials and "
            "AWS_ENDPOINT_URL another endpoint). Exit code 2 for a bad URL, an unreachable "
            "destination or refused credentials."
        ),
    )
    parser.add_argument(
        "--to",
        default=_DEFAULT_URL,
        metavar="URL",
        help=f"destination (default {_DEFAULT_URL})",
    )
    parser.add_argument(
        "--resources",
        type=_parse_resources,
        default=_RESOURCES,
        metavar="NAMES",
        help=f"comma-separated tables to load (default {','.join(_RESOURCES)})",
    )
    parser.add_argument(
        "--lookback",
        type=parse_lookback,
        default=timedelta(days=7),
        metavar="SPAN",
        help="re-read this much recent history for changed rows, e.g. 7d, 12h; 0 turns "
        "it off (default 7d)",
    )
    parser.add_argument(
        "--dataset",
        default=_DEFAULT_DATASET,
        metavar="NAME",
        help=f"schema (dataset) to load into (default {_DEFAULT_DATASET})",
    )


def _factory(
    args: argparse.Namespace, environ: Mapping[str, str], max_retries: int
) -> Callable[[], VoipStudio]:
    if args.fake:
        from ._fake import fake_account

        fake: FakeVoipStudio = fake_account()
        creds = fake.credentials

        def build_fake() -> VoipStudio:
            return VoipStudio(
                creds.user_id,
                creds.api_key,
                base_url=fake.base_url,
                transport=fake.transport(),
                max_retries=max_retries,
            )

        return build_fake

    def build() -> VoipStudio:
        return VoipStudio.from_env(environ, max_retries=max_retries)

    return build


class _Stopped(Exception):
    """A signal stopped the sync; it loaded and kept ``report``."""

    def __init__(self, report: SyncReport) -> None:
        super().__init__("stopped")
        self.report = report


def _kept(report: SyncReport) -> str:
    rows = sum(c.new + c.updated for c in report.tables.values())
    tables = ", ".join(
        f"{name} {c.new + c.updated}" for name, c in report.tables.items() if c.new + c.updated
    )
    return f"{rows} rows loaded and kept{f' ({tables})' if tables else ''}"


async def _check_destination(target: Target) -> None:
    """The destination's driver and (S3) bucket, before any request to the API."""
    from ..warehouse import DestinationError, MissingExtraError

    try:
        target.check_installed()
        await asyncio.to_thread(target.check_bucket)
    except MissingExtraError as exc:
        raise UserError(str(exc)) from None
    except DestinationError as exc:
        raise UserError(str(exc)) from None


async def sync_command(
    args: argparse.Namespace, ui: Ui, environ: Mapping[str, str], max_retries: int
) -> int:
    """Run the sync in a worker thread and print what each table received.

    The first Ctrl-C or SIGTERM ends the walks at the next page; what they fetched is
    loaded and kept (exit 130); a second one ends the process at once.
    """
    try:
        from ..warehouse import DestinationError, parse_destination, sync
    except ImportError:
        raise UserError("sync needs dlt: pip install 'voipstudio-async[warehouse]'") from None
    if not args.dataset.strip():
        raise UserError("--dataset: give a name")
    try:
        target = parse_destination(args.to, environ)
        target.check_dataset(args.dataset)
    except ValueError as exc:
        raise UserError(f"--to: {exc}") from None
    await _check_destination(target)
    factory = _factory(args, environ, max_retries)
    if not args.fake:
        try:
            await factory().aclose()  # credentials are checked before dlt starts
        except ValueError as exc:
            raise UserError(f"credentials: {exc}") from None
    # dlt sends anonymous usage data unless told not to; a CLI run should not phone home.
    # Its log lines (schema notes, warnings) are shown with -v; errors come as one line.
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING" if ui.verbose else "ERROR")
    ui.note(f"syncing {', '.join(args.resources)} into {target.display} ({args.dataset})")
    stop = threading.Event()

    def stop_gracefully() -> None:
        stop.set()
        ui.warn(
            "stopping: the rows already fetched are being loaded and kept "
            "(Ctrl-C again to stop at once)"
        )

    try:
        with ui.progress() as tracker, graceful(stop_gracefully):
            tasks: dict[str, Task] = {name: tracker.task(name, None) for name in args.resources}

            def advance(table: str, new: int, updated: int) -> None:
                if table not in tasks:  # a resumed package of a table not asked for now
                    tasks[table] = tracker.task(table, None)
                tasks[table].advance(new + updated)

            try:
                report = await asyncio.to_thread(
                    sync,
                    target,
                    client_factory=factory,
                    resources=args.resources,
                    lookback=args.lookback,
                    dataset=args.dataset,
                    on_progress=advance,
                    stop=stop,
                )
            except DestinationError as exc:
                raise UserError(f"{target.display}: {exc}") from None
            if report.stopped:
                raise _Stopped(report)  # no step finished: no "done" progress lines
    except _Stopped as stopped:
        report = stopped.report
    if report.resumed_packages:
        ui.say(
            f"loaded {report.resumed_packages} package(s) an interrupted run left behind "
            f"({report.resumed_rows} rows)"
        )
    for name, counts in report.tables.items():
        ui.say(f"{name:<14} {counts.new} new, {counts.updated} updated")
    ui.say(f"-> {target.display} (dataset {report.dataset})")
    if report.stopped:
        ui.warn(f"interrupted: {_kept(report)}; the next sync goes on from there")
        return EXIT_INTERRUPTED
    if stop.is_set():
        ui.warn("the walks had ended when the signal came: everything was loaded")
    return EXIT_OK
