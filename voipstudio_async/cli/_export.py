"""``cdrs export``: stream the CDRs of a period to CSV or JSON Lines, atomically."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TextIO

from .._client import VoipStudio
from .._filters import FilterArg
from ._errors import UserError
from ._output import Task
from ._query import FIELDS

__all__ = ["CSV_COLUMNS", "ExportFormat", "export_cdrs", "neutralise"]

ExportFormat = Literal["csv", "jsonl"]

CSV_COLUMNS: tuple[str, ...] = FIELDS["cdrs"]
"""The CSV header: every field the spec defines for a CDR, in spec order."""

# What spreadsheets treat as the start of a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A signed plain number (an E.164 "+4420...", a "-12.5") is a value to a spreadsheet,
# not a formula: quoting it would corrupt every phone number on a database import.
_SIGNED_NUMBER = re.compile(r"[+-][0-9]+(\.[0-9]+)?")
_BATCH = 1000


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


def _render(rows: Sequence[dict[str, Any]], fmt: ExportFormat, formula_guard: bool) -> str:
    if fmt == "jsonl":
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column), formula_guard) for column in CSV_COLUMNS])
    return buffer.getvalue()


def _open_temp(target: Path) -> tuple[Path, TextIO]:
    temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    try:
        # newline="" lets the csv module's CRLF through untouched.
        return temp, temp.open("x", encoding="utf-8", newline="")
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror or exc}") from None


async def export_cdrs(
    vs: VoipStudio,
    *,
    filters: Sequence[FilterArg],
    fmt: ExportFormat,
    output: Path,
    task: Task,
    formula_guard: bool = True,
) -> int:
    """Write every matching CDR to ``output`` exactly once; returns the row count.

    ``formula_guard`` quotes CSV cells a spreadsheet would run as a formula.

    Rows are written page by page (memory stays flat) to a temporary file beside
    ``output``, renamed into place only once the walk is complete. The keyset walk
    (by id) means rows inserted or deleted meanwhile cannot cause skips or repeats.
    """
    first = await vs.cdrs.list(limit=1, filter=filters)
    task.set_total(first.total)
    temp, file = _open_temp(output)
    rows = 0
    try:
        with file:
            if fmt == "csv":
                csv.writer(file).writerow(CSV_COLUMNS)
            batch: list[dict[str, Any]] = []
            async for cdr in vs.cdrs.iterate_consistent(filter=filters, page_size=_BATCH):
                batch.append(cdr.to_dict())
                if len(batch) >= _BATCH:
                    await asyncio.to_thread(file.write, _render(batch, fmt, formula_guard))
                    task.advance(len(batch))
                    rows += len(batch)
                    batch = []
            await asyncio.to_thread(file.write, _render(batch, fmt, formula_guard))
            task.advance(len(batch))
            rows += len(batch)
        os.replace(temp, output)
    finally:
        temp.unlink(missing_ok=True)
    return rows
