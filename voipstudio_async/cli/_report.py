"""Summaries printed at the end of a command."""

from __future__ import annotations

from pathlib import Path

from ._defaults import LISTED_FAILURES
from ._media import FetchReport
from ._output import Ui
from ._s3 import S3Target
from ._units import human_bytes
from ._writes import WriteReport

__all__ = ["print_export", "print_fetch", "print_write"]


def print_export(ui: Ui, rows: int, output: Path | S3Target) -> None:
    ui.say(f"{'CDRs':<11} {rows} rows -> {output}")


def print_fetch(ui: Ui, report: FetchReport) -> None:
    """Counts on stdout; each failure with its reason on stderr (even with --quiet)."""
    label = report.kind.label
    ui.say(
        f"{label:<11} {len(report.listed)} in the period: "
        f"{len(report.downloaded)} downloaded ({human_bytes(report.bytes_downloaded)}), "
        f"{len(report.skipped)} skipped (already archived), {len(report.failed)} failed "
        f"-> {report.directory}/"
    )
    _print_failures(ui, report.kind.singular, report.failed)


def print_write(ui: Ui, report: WriteReport, verb: str, *, dry_run: bool) -> None:
    """``verb`` is e.g. ``moved to Old`` or ``deleted``."""
    kept = f"; {len(report.kept)} kept (file not verified in the manifest)" if report.kept else ""
    if dry_run:
        ids = ", ".join(str(i) for i in report.planned[:20])
        more = f", ... ({len(report.planned) - 20} more)" if len(report.planned) > 20 else ""
        listed = f": {ids}{more}" if report.planned else ""
        ui.say(f"dry run: would have {verb} {len(report.planned)} {report.label}{listed}{kept}")
        return
    failed = f", {len(report.failed)} failed" if report.failed else ""
    ui.say(f"{report.label:<11} {len(report.done)} {verb}{failed}{kept}")
    _print_failures(ui, report.singular, report.failed)


def _print_failures(ui: Ui, what: str, failed: dict[int, str]) -> None:
    for item_id, reason in sorted(failed.items())[:LISTED_FAILURES]:
        ui.warn(f"failed {what} {item_id}: {reason}")
    if len(failed) > LISTED_FAILURES:
        ui.warn(f"... and {len(failed) - LISTED_FAILURES} more failures")
