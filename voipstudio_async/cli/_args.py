"""The command line: argparse parsers and the parsing of dates, filters and ids."""

from __future__ import annotations

import argparse
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast, get_args

from .. import __version__
from .._filters import Filter, FilterValue, Operator
from ._defaults import (
    DEFAULT_CONCURRENCY,
    FAKE_CDRS,
    FAKE_MONITORS,
    FAKE_VOICEMESSAGES,
    FIRST_YEAR,
    MAX_CONCURRENCY,
)
from ._fleet import add_fleet_parser
from ._sync import add_sync_parser

__all__ = [
    "COLLECTIONS",
    "DATES_HELP",
    "FILTER_HELP",
    "FORMULA_GUARD_HELP",
    "S3_HELP",
    "S3_OBJECT_HELP",
    "Collection",
    "build_parser",
    "parse_args",
    "parse_date",
    "parse_filter",
    "parse_ids",
]

Collection = Literal["cdrs", "monitors", "voicemessages"]
COLLECTIONS: tuple[Collection, ...] = ("cdrs", "monitors", "voicemessages")

_OPERATORS: tuple[str, ...] = get_args(Operator)

DATES_HELP = (
    "DATE is YYYY-MM-DD or 'YYYY-MM-DD HH:MM:SS' (UTC unless it carries an offset such as "
    "+02:00); --since is inclusive, --until is exclusive, so --since 2026-08-01 "
    "--until 2026-09-01 is all of August."
)
FILTER_HELP = (
    f"FILTER is FIELD:OP:VALUE with OP one of {', '.join(_OPERATORS)} "
    "(e.g. duration:gt:60, disposition:eq:ANSWERED, src:like:+44); repeat to AND them."
)

# Digits only, without a leading zero or plus: "0044..." and "+44..." stay phone numbers.
_INT = re.compile(r"^-?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^-?(0|[1-9][0-9]*)\.[0-9]+$")
_IDS = re.compile(r"^[0-9]+(,[0-9]+)*$")


def parse_date(text: str) -> datetime:
    """``YYYY-MM-DD`` or an ISO datetime (space or ``T``, optional offset), year 1000 on."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid date {text!r}: expected YYYY-MM-DD or 'YYYY-MM-DD HH:MM:SS'"
        ) from None
    # The API reads a date's year as four digits; no call history is that old anyway.
    if moment.year < FIRST_YEAR:
        raise argparse.ArgumentTypeError(
            f"invalid date {text!r}: the year must be {FIRST_YEAR} or later"
        )
    return moment


def _value(text: str) -> FilterValue:
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


def parse_filter(text: str) -> Filter:
    """``FIELD:OP:VALUE``; VALUE may itself contain colons (times)."""
    parts = text.split(":", 2)
    if len(parts) != 3 or not parts[0].strip() or not parts[2]:
        raise argparse.ArgumentTypeError(
            f"invalid filter {text!r}: expected FIELD:OP:VALUE, e.g. duration:gt:60"
        )
    field, op, raw = parts[0].strip(), parts[1].strip().lower(), parts[2]
    if op not in _OPERATORS:
        raise argparse.ArgumentTypeError(
            f"invalid filter {text!r}: unknown operator {op!r} (use one of {', '.join(_OPERATORS)})"
        )
    operator = cast(Operator, op)
    return Filter(field, operator, raw if operator == "like" else _value(raw))


def parse_ids(text: str) -> list[int]:
    """``1,2,3``: positive ids separated by commas."""
    cleaned = text.replace(" ", "")
    if not _IDS.match(cleaned) or any(int(part) < 1 for part in cleaned.split(",")):
        raise argparse.ArgumentTypeError(
            f"invalid ids {text!r}: expected positive integers separated by commas"
        )
    return [int(part) for part in cleaned.split(",")]


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def _concurrency(text: str) -> int:
    number = _positive_int(text)
    if number > MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(
            f"expected at most {MAX_CONCURRENCY} downloads at once, got {text!r}"
        )
    return number


@dataclass(frozen=True)
class _Parents:
    common: argparse.ArgumentParser
    period: argparse.ArgumentParser
    filters: argparse.ArgumentParser
    optional_period: argparse.ArgumentParser
    downloads: argparse.ArgumentParser
    look: argparse.ArgumentParser
    s3: argparse.ArgumentParser


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """``--fake``, ``-q``, ``-v``: before the command and after it alike.

    The subcommands' copies (``suppress``) set nothing unless given, so an option given
    before the command is not reset by the subcommand's defaults.
    """

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "--fake",
        action="store_true",
        default=default(False),
        help="run against the embedded fake VoIPstudio server: no credentials, "
        f"{FAKE_CDRS:,} CDRs, {FAKE_MONITORS:,} recordings and {FAKE_VOICEMESSAGES:,} "
        "voicemails from May to October 2026",
    )
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="store_true", default=default(False), help="print errors only"
    )
    loudness.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default(0),
        help="log retries (-vv: every request)",
    )


def _parents() -> _Parents:
    common = argparse.ArgumentParser(add_help=False)
    _add_global_options(common, suppress=True)

    period = argparse.ArgumentParser(add_help=False)
    period.add_argument(
        "--since", type=parse_date, required=True, metavar="DATE", help="start (inclusive)"
    )
    period.add_argument(
        "--until", type=parse_date, required=True, metavar="DATE", help="end (exclusive)"
    )

    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument(
        "--filter",
        type=parse_filter,
        action="append",
        default=[],
        metavar="FILTER",
        help="FIELD:OP:VALUE condition (repeatable)",
    )

    optional_period = argparse.ArgumentParser(add_help=False)
    optional_period.add_argument("--since", type=parse_date, metavar="DATE", help="inclusive")
    optional_period.add_argument("--until", type=parse_date, metavar="DATE", help="exclusive")

    s3 = argparse.ArgumentParser(add_help=False)
    s3.add_argument(
        "--s3-endpoint-url",
        metavar="URL",
        help="S3-compatible endpoint for s3:// destinations (default: AWS_ENDPOINT_URL or AWS)",
    )

    downloads = argparse.ArgumentParser(add_help=False)
    downloads.add_argument(
        "--dest",
        required=True,
        metavar="DIR",
        help="directory (or file:// or s3://bucket/prefix URL) for the files and manifest.jsonl",
    )
    downloads.add_argument(
        "--concurrency",
        type=_concurrency,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"downloads in flight at once, 1 to {MAX_CONCURRENCY} (default {DEFAULT_CONCURRENCY})",
    )

    look = argparse.ArgumentParser(add_help=False)
    look.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return _Parents(common, period, filters, optional_period, downloads, look, s3)


def _paragraphs(*parts: str) -> str:
    # Raw formatting keeps the paragraphs apart; wrap each one here instead.
    return "\n\n".join(
        textwrap.fill(paragraph, 79) for part in parts for paragraph in part.split("\n\n")
    )


def _add(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    parents: list[argparse.ArgumentParser],
    help: str,
    *,
    description: str | None = None,
    epilog: tuple[str, ...] = (),
) -> argparse.ArgumentParser:
    """A subcommand whose description and epilog keep their paragraphs."""
    return sub.add_parser(
        name,
        parents=parents,
        help=help,
        description=_paragraphs(description) if description else None,
        epilog=_paragraphs(*epilog) if epilog else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_look_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: _Parents, name: str
) -> None:
    lister = _add(
        sub,
        "list",
        [parents.common, parents.optional_period, parents.filters, parents.look],
        f"one page of {name}",
        description=(
            f"Show one page of the {name} that match the optional period and filters: a "
            "table of the main fields, or with --json every field as "
            '{"total", "page", "items"}.'
        ),
        epilog=(DATES_HELP, FILTER_HELP),
    )
    lister.add_argument(
        "--limit", type=_positive_int, default=20, metavar="N", help="rows (default 20)"
    )
    lister.add_argument(
        "--page", type=_positive_int, default=1, metavar="N", help="1-based page number"
    )
    lister.add_argument("--sort", metavar="FIELD", help="sort by this field (its JSON name)")
    lister.add_argument("--desc", action="store_true", help="sort in descending order")
    getter = _add(
        sub,
        "get",
        [parents.common, parents.look],
        f"one of the {name} by id",
        description=(
            f"Show every field of one of the {name}, one per row, or with --json as it "
            "came from the API. Ids are in the first column of list."
        ),
    )
    getter.add_argument("id", type=_positive_int, help="the id (a positive integer)")


def _add_download_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: _Parents, what: str
) -> None:
    _add(
        sub,
        "download",
        [parents.common, parents.period, parents.filters, parents.downloads, parents.s3],
        f"download the {what} of a period, resumably",
        description=(
            f"Download every {what[:-1]} of the period into DIR, atomically, and record each "
            "file (id, metadata, size, sha256) in DIR/manifest.jsonl. A re-run skips the "
            "files the manifest lists that are still complete and verified."
        ),
        epilog=(DATES_HELP, FILTER_HELP, S3_HELP),
    )


FORMULA_GUARD_HELP = (
    "CSV cells that a spreadsheet would run as a formula (starting with = @ tab or CR, "
    "or + or - not followed by a plain number) are prefixed with a single quote; "
    "numbers such as +442079460000 or -12.5 are written as they are."
)


def _add_formula_guard(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-formula-guard",
        dest="formula_guard",
        action="store_false",
        help="write CSV cells exactly as the API sent them (for database imports)",
    )


S3_HELP = (
    "An s3://bucket/prefix destination (the s3 extra) gets the same guarantees as a "
    "directory: objects appear only complete, the manifest beside them records each "
    "size and sha256, re-runs skip what is verified in the bucket. Credentials come "
    "from the usual AWS environment and config files; AWS_ENDPOINT_URL or "
    "--s3-endpoint-url points at an S3-compatible store."
)

S3_OBJECT_HELP = (
    "An s3://bucket/key output (the s3 extra) is uploaded as the rows come and appears "
    "only complete. Credentials come from the usual AWS environment and config files; "
    "AWS_ENDPOINT_URL or --s3-endpoint-url points at an S3-compatible store."
)

EXIT_CODES_HELP = (
    "Credentials come from the environment: VOIPSTUDIO_USER_ID and VOIPSTUDIO_API_KEY, or "
    "VOIPSTUDIO_TOKEN, or VOIPSTUDIO_EMAIL and VOIPSTUDIO_PASSWORD; VOIPSTUDIO_BASE_URL "
    "points elsewhere (e.g. a loopback fake).\n\n"
    "Exit codes: 0 everything done; 1 some items failed, or the API or network gave up; "
    "2 usage error (arguments, dates, filters, credentials, --dest); 130 interrupted."
)


def build_parser() -> argparse.ArgumentParser:
    """The ``voipstudio`` parser: ``args.command`` and ``args.action`` select the work."""
    parents = _parents()
    parser = argparse.ArgumentParser(
        prog="voipstudio",
        description="Archive VoIPstudio call history: CDRs, call recordings and voicemails.",
        epilog=_paragraphs(EXIT_CODES_HELP),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    cdrs = commands.add_parser("cdrs", help="call detail records")
    cdrs_sub = cdrs.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = _add(
        cdrs_sub,
        "export",
        [parents.common, parents.period, parents.filters, parents.s3],
        "export the CDRs of a period to CSV or JSON Lines",
        description=(
            "Stream the CDRs of a period to FILE as pages arrive, walking by id so rows "
            "inserted or deleted meanwhile are neither missed nor repeated. FILE appears "
            "complete or not at all. " + FORMULA_GUARD_HELP
        ),
        epilog=(DATES_HELP, FILTER_HELP, S3_OBJECT_HELP),
    )
    export.add_argument(
        "--format", choices=("csv", "jsonl"), default="csv", help="file format (default csv)"
    )
    export.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="file to write (a path, file:// or s3://bucket/key URL; - for standard output)",
    )
    _add_formula_guard(export)
    _add_look_commands(cdrs_sub, parents, "CDRs")

    monitors = commands.add_parser("monitors", help="call recordings")
    monitors_sub = monitors.add_subparsers(dest="action", required=True, metavar="ACTION")
    _add_download_command(monitors_sub, parents, "recordings")
    _add_look_commands(monitors_sub, parents, "recordings")

    voicemails = commands.add_parser("voicemessages", help="voicemail messages")
    voicemails_sub = voicemails.add_subparsers(dest="action", required=True, metavar="ACTION")
    _add_download_command(voicemails_sub, parents, "voicemails")
    move = _add(
        voicemails_sub,
        "move",
        [parents.common],
        "move voicemails to another folder",
        description=(
            "Move the voicemails with the given ids to FOLDER (e.g. Old). Ids that fail are "
            "listed with the reason; the others are moved. Exit code 1 when any failed."
        ),
    )
    move.add_argument(
        "--ids",
        type=parse_ids,
        action="append",
        required=True,
        metavar="ID[,ID...]",
        help="voicemail ids (repeatable)",
    )
    move.add_argument("--folder", required=True, help="target folder, e.g. Old")
    _add_look_commands(voicemails_sub, parents, "voicemails")

    archive = _add(
        commands,
        "archive",
        [parents.common, parents.period, parents.downloads, parents.s3],
        "CDRs, recordings and voicemails of a period in one run",
        description=(
            "Export the CDRs of the period to DIR/cdrs.csv (or .jsonl), download its "
            "recordings to DIR/monitors/ and its voicemails to DIR/voicemessages/ (each "
            "with a manifest.jsonl; re-runs skip verified files), then optionally move "
            "the archived voicemails and purge the archived recordings and voicemails "
            "from VoIPstudio. Purge deletes only items "
            "whose file is verified against the manifest (size and sha256) just before."
        ),
        epilog=(DATES_HELP, S3_HELP, EXIT_CODES_HELP),
    )
    archive.add_argument(
        "--cdrs-format", choices=("csv", "jsonl"), default="csv", help="default csv"
    )
    _add_formula_guard(archive)
    archive.add_argument(
        "--move-voicemails", metavar="FOLDER", help="then move archived voicemails to FOLDER"
    )
    archive.add_argument(
        "--purge",
        action="store_true",
        help="then delete archived recordings and voicemails from VoIPstudio",
    )
    archive.add_argument("-y", "--yes", action="store_true", help="with --purge: do not ask")
    archive.add_argument(
        "--dry-run",
        action="store_true",
        help="with --move-voicemails/--purge: archive, but only show what they would change",
    )
    add_sync_parser(commands, parents.common)
    add_fleet_parser(commands, parents.common, parents.period, parents.s3)
    return parser


def _check(args: argparse.Namespace) -> str | None:
    """A problem argparse cannot see: options given together that do not fit."""
    if args.quiet and args.verbose:
        return "-q/--quiet and -v/--verbose exclude each other"
    if args.command != "archive":
        return None
    if args.dry_run and not (args.purge or args.move_voicemails):
        return "--dry-run shows what --purge or --move-voicemails would change: add one of them"
    if args.yes and not args.purge:
        return "--yes answers the --purge question: it needs --purge"
    return None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse ``argv`` (``sys.argv[1:]`` when None); exits 2 with a message on bad usage."""
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = _check(args)
    if problem:
        parser.error(problem)
    return args
