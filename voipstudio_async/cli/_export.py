"""``cdrs export``: stream the CDRs of a period to CSV or JSON Lines (a file or S3), atomically."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import stat
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import IO, Any, Literal, TextIO

from .._client import VoipStudio
from .._filters import FilterArg
from .._parts import commit_part, create_part, remove_stale_parts
from ..storage import S3Destination
from ._defaults import EXPORT_PAGE_SIZE
from ._errors import UserError
from ._output import Task
from ._query import FIELDS
from ._s3 import S3Target

try:  # several times faster on 1000-row batches; ships with the `fast` extra
    import orjson
except ImportError:  # the standard library writes the same bytes
    orjson = None  # type: ignore[assignment]

__all__ = ["CSV_COLUMNS", "STDOUT", "ExportFormat", "check_output", "export_cdrs", "neutralise"]

ExportFormat = Literal["csv", "jsonl"]

CSV_COLUMNS: tuple[str, ...] = FIELDS["cdrs"]
"""The CSV header: every field the spec defines for a CDR, in spec order."""

# What spreadsheets treat as the start of a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A signed plain number (an E.164 "+4420...", a "-12.5") is a value to a spreadsheet,
# not a formula: quoting it would corrupt every phone number on a database import.
_SIGNED_NUMBER = re.compile(r"[+-][0-9]+(\.[0-9]+)?")


def neutralise(text: str) -> str:
    """Prefix a single quote to a cell a spreadsheet would evaluate as a formula."""
    if not text.startswith(_FORMULA_STARTS) or _SIGNED_NUMBER.fullmatch(text):
        return text
    return "'" + text


def _csv_cell(value: Any, formula_guard: bool) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value  # numbers are data, even negative ones
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return neutralise(str(value)) if formula_guard else str(value)


def _jsonl(rows: Sequence[dict[str, Any]]) -> str:
    """One compact JSON object per line, the same bytes with or without orjson."""
    if orjson is not None:
        return b"".join(orjson.dumps(row) + b"\n" for row in rows).decode()
    return "".join(
        json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows
    )


def _render(rows: Sequence[dict[str, Any]], fmt: ExportFormat, formula_guard: bool) -> str:
    if fmt == "jsonl":
        return _jsonl(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column), formula_guard) for column in CSV_COLUMNS])
    return buffer.getvalue()


STDOUT = "-"
"""The ``-o`` value that means standard output."""


def _in_place(path: Path) -> bool:
    """Whether ``path`` is an existing file that must be written, never replaced.

    A device or FIFO (``/dev/stdout``, a named pipe) is written to as it is; renaming a
    temporary file onto it would replace it with a regular file nobody reads.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise UserError(f"cannot write {path}: is a directory")
    if stat.S_ISSOCK(mode):
        raise UserError(f"cannot write {path}: is a socket")
    return not stat.S_ISREG(mode)


def check_output(path: Path) -> None:
    """Raise ``UserError`` unless an export can write ``path``; sends nothing."""
    if _in_place(path):
        return
    parent = path.resolve().parent
    if not parent.is_dir():
        raise UserError(f"cannot write {path}: directory {parent} does not exist")


def _open(path: Path) -> tuple[TextIO, tuple[Path, Path] | None]:
    """Open the file rows go to: a part file beside a regular file, or ``path`` itself.

    Returns the open file and, unless it is ``path`` itself, the part file's path and
    the file to rename it onto.
    """
    try:
        if _in_place(path):
            # newline="" lets the csv module's CRLF through untouched.
            return path.open("w", encoding="utf-8", newline=""), None
        target = path.resolve()  # through a symlink: replace its file, keep the link
        remove_stale_parts(target.parent, [target.name])
        temp, fd = create_part(target)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    return os.fdopen(fd, "w", encoding="utf-8", newline=""), (temp, target)


def _header() -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(CSV_COLUMNS)
    return buffer.getvalue()


async def _write_rows(
    vs: VoipStudio,
    write: Callable[[str], Awaitable[Any]],
    filters: Sequence[FilterArg],
    fmt: ExportFormat,
    task: Task,
    formula_guard: bool,
) -> int:
    if fmt == "csv":
        await write(_header())
    rows = 0
    batch: list[dict[str, Any]] = []
    async for cdr in vs.cdrs.iterate_consistent(filter=filters, page_size=EXPORT_PAGE_SIZE):
        batch.append(cdr.to_dict())
        if len(batch) >= EXPORT_PAGE_SIZE:
            await write(_render(batch, fmt, formula_guard))
            task.advance(len(batch))
            rows += len(batch)
            batch = []
    await write(_render(batch, fmt, formula_guard))
    task.advance(len(batch))
    return rows + len(batch)


async def _write_file(
    vs: VoipStudio,
    file: IO[str],
    filters: Sequence[FilterArg],
    fmt: ExportFormat,
    task: Task,
    formula_guard: bool,
) -> int:

    async def write(text: str) -> None:
        await asyncio.to_thread(file.write, text)  # off the loop: a disk, pipe or FIFO may block

    rows = await _write_rows(vs, write, filters, fmt, task, formula_guard)
    await asyncio.to_thread(file.flush)
    return rows


async def _write_s3(
    vs: VoipStudio,
    target: S3Target,
    filters: Sequence[FilterArg],
    fmt: ExportFormat,
    task: Task,
    formula_guard: bool,
) -> int:
    # The SDK's writer: a killed run's upload of this key is cleaned up as everywhere else.
    async with S3Destination(target.location, store=target.store).open() as upload:

        async def write(text: str) -> None:
            await upload.write(text.encode("utf-8"))

        rows = await _write_rows(vs, write, filters, fmt, task, formula_guard)
        await upload.commit()
    return rows


async def export_cdrs(
    vs: VoipStudio,
    *,
    filters: Sequence[FilterArg],
    fmt: ExportFormat,
    output: Path | IO[str] | S3Target,
    task: Task,
    formula_guard: bool = True,
) -> int:
    """Write every matching CDR to ``output`` exactly once; returns the row count.

    ``formula_guard`` quotes CSV cells a spreadsheet would run as a formula.

    Rows are written page by page (memory stays flat). A path that is, or will be, a
    regular file gets them in a temporary file beside it, renamed into place only once
    the walk is complete (through a symlink: onto the file it points to). A device or
    FIFO at the path, or an open text stream such as standard output, is written to
    directly. An S3 object is uploaded as the rows come (a part at a time) and appears
    only once the walk is complete. The keyset walk (by id) means rows inserted or
    deleted meanwhile cannot cause skips or repeats.
    """
    first = await vs.cdrs.list(limit=1, filter=filters)
    task.set_total(first.total)
    if isinstance(output, S3Target):
        return await _write_s3(vs, output, filters, fmt, task, formula_guard)
    if not isinstance(output, Path):
        return await _write_file(vs, output, filters, fmt, task, formula_guard)
    # Off the loop: opening a FIFO for writing waits for its reader.
    file, part = await asyncio.to_thread(_open, output)
    try:
        with file:
            rows = await _write_file(vs, file, filters, fmt, task, formula_guard)
            if part is not None:
                await asyncio.to_thread(commit_part, file, *part)
    finally:
        if part is not None:
            part[0].unlink(missing_ok=True)
    return rows
