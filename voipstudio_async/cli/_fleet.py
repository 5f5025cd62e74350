"""``voipstudio fleet sync|archive``: every account of an accounts file, on Dask.

The work is ``voipstudio_async.fleet.run_fleet`` on a ``--scheduler``'s cluster or on a
``LocalCluster`` started and stopped with the command. ``--fake-accounts N`` serves N
fake accounts on loopback from this process and writes their accounts file to a
temporary folder, so a fleet runs with no set-up.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import EXIT_FAILED, EXIT_OK, UserError
from ._output import Ui
from ._progress_lines import progress_line
from ._sync import _DEFAULT_DATASET, _RESOURCES, _parse_resources, parse_lookback

if TYPE_CHECKING:
    from ..fleet import AccountResult, FleetReport, Job, ProgressEvent

__all__ = ["add_fleet_parser", "fleet_command"]

_COLUMNS = ("account", "status", "rows", "files", "bytes", "duration", "error")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def _scheduler(text: str) -> str:
    if not text.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise argparse.ArgumentTypeError(
            f"expected a scheduler address such as tcp://host:8786, got {text!r}"
        )
    return text


def _add_common(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--accounts",
        metavar="FILE",
        help="accounts file (TOML): each account's name and its secret_env or secret_file",
    )
    source.add_argument(
        "--fake-accounts",
        type=_positive,
        metavar="N",
        help="run N accounts of the embedded fake server instead (no credentials needed)",
    )
    parser.add_argument(
        "--scheduler",
        type=_scheduler,
        metavar="ADDRESS",
        help="Dask scheduler to use, e.g. tcp://host:8786 (default: a local cluster started "
        "and stopped with the command)",
    )
    parser.add_argument(
        "--workers",
        type=_positive,
        default=None,
        metavar="N",
        help="local cluster: worker processes, each running one account at a time "
        "(default: the CPU count, at most 4)",
    )
    parser.add_argument(
        "--retries",
        type=_count,
        default=2,
        metavar="N",
        help="attempts after the first for an account that failed in a way worth "
        "retrying (5xx, network, destination); default 2",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="stop an account that runs longer than this (default: no limit)",
    )
    parser.add_argument(
        "--redis-url",
        metavar="URL",
        help="share each account's rate limit through this Redis with every other user "
        "of the account (needs the redis extra on the workers)",
    )
    parser.add_argument(
        "--summary-json", metavar="PATH", help="also write the summary as JSON to PATH"
    )


def add_fleet_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
    period: argparse.ArgumentParser,
    s3: argparse.ArgumentParser,
) -> None:
    """The ``fleet`` subcommand with its ``sync`` and ``archive`` actions."""
    fleet = commands.add_parser(
        "fleet",
        help="sync or archive many accounts on Dask (the fleet extra)",
        description=(
            "Run sync or archive for every account of an accounts file, each account one "
            "Dask task on a worker that reads its secret itself. Exit code 0 when every "
            "account succeeded, 1 when any failed, 2 for a usage error."
        ),
    )
    actions = fleet.add_subparsers(dest="action", required=True, metavar="ACTION")
    sync = actions.add_parser(
        "sync",
        parents=[common],
        help="voipstudio sync for each account",
        description="Load each account's history into its own dataset, incrementally.",
        epilog="URL holds {account}: duckdb:///lake/{account}.duckdb, "
        "s3://bucket/{account}, file:///lake/{account}, or a postgresql:// URL (a schema "
        "voipstudio_{account} per account unless --dataset says otherwise).",
    )
    _add_common(sync)
    sync.add_argument("--to", required=True, metavar="URL", help="destination, with {account}")
    sync.add_argument(
        "--dataset",
        default=None,
        metavar="NAME",
        help=f"schema per account, may hold {{account}} (default {_DEFAULT_DATASET}, or "
        f"{_DEFAULT_DATASET}_{{account}} when the URL has no {{account}})",
    )
    sync.add_argument(
        "--resources",
        type=_parse_resources,
        default=_RESOURCES,
        metavar="NAMES",
        help=f"comma-separated tables (default {','.join(_RESOURCES)})",
    )
    sync.add_argument(
        "--lookback",
        type=parse_lookback,
        default=timedelta(days=7),
        metavar="SPAN",
        help="re-read this much recent history for changed rows (default 7d)",
    )
    archive = actions.add_parser(
        "archive",
        parents=[common, period, s3],
        help="voipstudio archive (export and downloads) for each account",
        description="Export each account's CDRs of the period and download its recordings "
        "and voicemails (re-runs skip verified files). Fleets do not move or purge.",
    )
    _add_common(archive)
    archive.add_argument(
        "--dest",
        required=True,
        metavar="DIR",
        help="directory or s3://bucket/prefix holding {account}, e.g. s3://bucket/{account}/",
    )
    archive.add_argument("--cdrs-format", choices=("csv", "jsonl"), default="csv")
    archive.add_argument(
        "--concurrency",
        type=_positive,
        default=8,
        metavar="N",
        help="downloads in flight per account (default 8)",
    )


def _progress(event: ProgressEvent, started: dict[str, float]) -> str:
    """An account's progress in the line format of ``sync`` and ``archive`` in logs, after
    its name: ``account001: progress cdrs: 1200 items, 0 B, 400 items/s``."""
    now = time.monotonic()
    if event.what in ("started", "attempt failed"):
        started[event.account] = now
        return f"{event.account}: {event.what}"
    elapsed = now - started.setdefault(event.account, now)
    line = progress_line(event.what, items=event.done, nbytes=event.bytes, elapsed=elapsed)
    return f"{event.account}: {line}"


def _job(args: argparse.Namespace, pipelines_dir: str | None) -> Job:
    from ..fleet import ArchiveJob, SyncJob

    if args.action == "sync":
        return SyncJob(
            args.to,
            dataset=args.dataset,
            resources=tuple(args.resources),
            lookback=args.lookback,
            pipelines_dir=pipelines_dir,
        )
    return ArchiveJob(
        args.dest,
        args.since,
        args.until,
        cdrs_format=args.cdrs_format,
        concurrency=args.concurrency,
        s3_endpoint_url=args.s3_endpoint_url,
    )


@contextmanager
def _fake_accounts(n: int, folder: Path) -> Iterator[Path]:
    """Serve ``n`` fake accounts on loopback; yield their accounts file."""
    from ..testing import FakeAccounts, LoopbackServer

    fleet = FakeAccounts(n)
    with LoopbackServer(fleet) as base_url:
        yield fleet.write_accounts_file(folder / "accounts.toml", base_url)


def _client(stack: ExitStack, args: argparse.Namespace, ui: Ui) -> Any:
    import distributed

    dask: Any = distributed  # untyped
    if args.scheduler:
        try:
            client = stack.enter_context(dask.Client(args.scheduler, timeout=30))
        except OSError as exc:
            raise UserError(f"--scheduler {args.scheduler}: {exc}") from None
    else:
        # The nannies' notes on stopping workers are noise in a command's output.
        logging.getLogger("distributed").setLevel(logging.INFO if ui.verbose else logging.ERROR)
        workers = args.workers or min(4, os.cpu_count() or 1)
        # One account at a time per worker process: accounts are latency-bound, and
        # dlt's normalising and DuckDB's writer want a core each.
        cluster = stack.enter_context(
            dask.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
            )
        )
        client = stack.enter_context(dask.Client(cluster))
    if client.dashboard_link and _has_dashboard():
        ui.say(f"dashboard: {client.dashboard_link}", aside=True)
    return client


def _has_dashboard() -> bool:
    # Dask serves its dashboard only with bokeh installed; no dead link otherwise.
    return importlib.util.find_spec("bokeh") is not None


def _cells(result: AccountResult) -> dict[str, Any]:
    return {
        "account": result.account,
        "status": result.status,
        "rows": result.rows,
        "files": result.files,
        "bytes": result.bytes,
        "duration": f"{result.duration:.1f}s",
        "error": result.error or "",
    }


def _write_summary(path: str, report: FleetReport) -> None:
    try:
        Path(path).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    except OSError as exc:
        raise UserError(f"--summary-json {path}: {exc.strerror or exc}") from None


async def fleet_command(args: argparse.Namespace, ui: Ui, environ: Mapping[str, str]) -> int:
    """Run the fleet; print progress lines, the table, and write ``--summary-json``."""
    if args.fake:
        raise UserError("fleet runs fake accounts with --fake-accounts N, not --fake")
    try:
        import distributed  # noqa: F401

        from ..fleet import AccountsFileError, FleetPlanError, load_accounts, plan
    except ImportError:
        raise UserError("fleet needs Dask: pip install 'voipstudio-async[fleet]'") from None
    if args.action == "sync":
        try:
            import dlt  # noqa: F401
        except ImportError:
            raise UserError(
                "fleet sync needs dlt: pip install 'voipstudio-async[fleet,warehouse]'"
            ) from None
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    folder = Path(tempfile.mkdtemp(prefix="voipstudio-fleet-"))
    try:
        with ExitStack() as stack:
            if args.fake_accounts:
                path = stack.enter_context(_fake_accounts(args.fake_accounts, folder))
            else:
                path = Path(args.accounts)
            pipelines = str(folder / "pipelines") if args.fake_accounts else None
            try:
                accounts = load_accounts(path)
                job = _job(args, pipelines)
                plan(job, accounts)
            except (AccountsFileError, FleetPlanError) as exc:
                raise UserError(str(exc)) from None
            ui.say(f"fleet {args.action}: {len(accounts)} accounts", aside=True)
            client = _client(stack, args, ui)
            report = await _run(client, accounts, job, args, ui)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ui.table(_COLUMNS, [_cells(result) for result in report.results])
    failed = sum(not result.ok for result in report.results)
    ui.say(
        f"{len(report.results) - failed} of {len(report.results)} accounts done in "
        f"{report.duration:.1f}s" + (f", {failed} failed" if failed else "")
    )
    if args.summary_json:
        _write_summary(args.summary_json, report)
    return EXIT_OK if report.ok else EXIT_FAILED


async def _run(
    client: Any, accounts: list[Any], job: Job, args: argparse.Namespace, ui: Ui
) -> FleetReport:
    from ..fleet import FleetStoppedError, run_fleet

    stop = threading.Event()
    finished: list[AccountResult] = []

    def on_result(result: AccountResult) -> None:
        finished.append(result)
        detail = f"{result.rows:,} rows"
        if result.files:
            detail += f", {result.files:,} files, {result.bytes:,} bytes"
        ui.say(
            f"{result.account}: {result.status} in {result.duration:.1f}s, {detail}"
            + (f": {result.error}" if result.error else ""),
            aside=True,
        )

    started: dict[str, float] = {}

    def on_progress(event: ProgressEvent) -> None:
        if event.what != "finished":  # the result line says it
            ui.say(_progress(event, started), aside=True)

    work: Callable[[], FleetReport] = lambda: run_fleet(  # noqa: E731
        client,
        accounts,
        job,
        retries=args.retries,
        timeout=args.timeout,
        redis_url=args.redis_url,
        on_progress=on_progress,
        on_result=on_result,
        stop=stop,
    )
    future = asyncio.get_running_loop().run_in_executor(None, work)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        # Ctrl-C or SIGTERM: running accounts stop at their next page or file, the rest
        # never start; every destination keeps only what it committed.
        ui.warn("stopping: running accounts end at their next page or file")
        stop.set()
        with suppress(FleetStoppedError):
            await future
        ui.table(_COLUMNS, [_cells(result) for result in finished])
        ui.warn(f"stopped: {len(finished)} of {len(accounts)} accounts had finished")
        raise
