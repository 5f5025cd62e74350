"""``voipstudio cdrs export``: every CDR of the period exactly once, safe CSV, atomic file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from cli_helpers import PERIOD, SINCE, UNTIL, Cli, files, period_ids

from voipstudio_async.cli._export import CSV_COLUMNS, neutralise
from voipstudio_async.testing import FakeVoipStudio


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        return list(reader)


async def test_csv_has_every_cdr_of_the_period_once(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    out = tmp_path / "cdrs.csv"
    result = await cli("cdrs", "export", *PERIOD, "-o", str(out))
    assert result.code == 0, result.err
    rows = read_csv(out)
    expected = period_ids(fake, "cdrs", "calldate")
    assert len(expected) > 1000  # the walk needed more than one page
    assert [int(r["id"]) for r in rows] == expected
    assert f"{len(expected)} rows" in result.out
    assert files(tmp_path) == ["cdrs.csv"]  # no temporary file left behind


async def test_since_is_inclusive_and_until_exclusive(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    at_since = fake.insert("cdrs", 1, calldate=f"{SINCE} 00:00:00")[0]
    before_until = fake.insert("cdrs", 1, calldate="2026-08-31 23:59:59")[0]
    at_until = fake.insert("cdrs", 1, calldate=f"{UNTIL} 00:00:00")[0]
    out = tmp_path / "cdrs.jsonl"
    result = await cli("cdrs", "export", *PERIOD, "--format", "jsonl", "-o", str(out))
    assert result.code == 0, result.err
    ids = {json.loads(line)["id"] for line in out.read_text().splitlines()}
    assert {at_since, before_until} <= ids
    assert at_until not in ids


async def test_jsonl_rows_are_the_records(cli: Cli, fake: FakeVoipStudio, tmp_path: Path) -> None:
    out = tmp_path / "cdrs.jsonl"
    options = ["--filter", "duration:gt:300", "--format", "jsonl", "-o", str(out)]
    result = await cli("cdrs", "export", *PERIOD, *options)
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    wanted = set(period_ids(fake, "cdrs", "calldate"))
    expected = [r for r in fake.records("cdrs") if r["id"] in wanted and r["duration"] > 300]
    assert rows and rows == expected


async def test_csv_cells_cannot_run_as_formulas(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    ident = fake.insert("cdrs", 1, calldate="2026-08-15 12:00:00", charge=-0.5, **RISKY)[0]
    out = tmp_path / "cdrs.csv"
    assert (await cli("cdrs", "export", *PERIOD, "-o", str(out))).code == 0
    row = next(r for r in read_csv(out) if r["id"] == str(ident))
    for field, value in RISKY.items():
        assert row[field] == "'" + value
    assert row["charge"] == "-0.5"  # numbers stay numbers
    assert row["clid"] == fake.get("cdrs", ident)["clid"]  # harmless text is untouched


RISKY = {
    "dst_name": '=HYPERLINK("http://evil")',
    "info": "@SUM(A1)",
    "metadata": "-2+3",
    "src_name": "\tTab",
    "context": "\rCR",
    "dst": "+1+cmd|' /C calc'!A0",
}


async def test_phone_numbers_are_written_as_they_are(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    numbers = {"src": "+442079460000", "dst": "+15550100", "info": "-12.5", "metadata": "+7"}
    ident = fake.insert("cdrs", 1, calldate="2026-08-15 12:00:00", **numbers)[0]
    out = tmp_path / "cdrs.csv"
    assert (await cli("cdrs", "export", *PERIOD, "-o", str(out))).code == 0
    rows = read_csv(out)
    row = next(r for r in rows if r["id"] == str(ident))
    assert {field: row[field] for field in numbers} == numbers
    assert not any(cell.startswith("'+") for r in rows for cell in r.values())


@pytest.mark.parametrize("command", ["export", "archive"])
async def test_no_formula_guard_writes_cells_verbatim(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path, command: str
) -> None:
    ident = fake.insert("cdrs", 1, calldate="2026-08-15 12:00:00", **RISKY)[0]
    if command == "export":
        out = tmp_path / "cdrs.csv"
        argv = ["cdrs", "export", *PERIOD, "-o", str(out), "--no-formula-guard"]
    else:
        out = tmp_path / "archive" / "cdrs.csv"
        argv = ["archive", *PERIOD, "--dest", str(out.parent), "--no-formula-guard"]
    result = await cli(*argv)
    assert result.code == 0, result.err
    row = next(r for r in read_csv(out) if r["id"] == str(ident))
    assert {field: row[field] for field in RISKY} == RISKY


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t1", "\r1", "-2+3", "+1+cmd|' /C calc'!A0", "+", "-"],
)
def test_neutralise_formulas(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "text", ["+442079460000", "-12.5", "+7", "-0", "0044123", "a=b", "", "12", "John +44"]
)
def test_neutralise_leaves_data_alone(text: str) -> None:
    assert neutralise(text) == text


async def test_rows_inserted_or_deleted_during_the_export(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    before = period_ids(fake, "cdrs", "calldate")
    first_half, second_half = before[: len(before) // 2], before[len(before) // 2 :]
    deleted = [first_half[3], second_half[-5], second_half[-4]]
    inserted: list[int] = []
    walk_requests = 0
    part_sizes: list[int] = []

    def churn(method: str, path: str) -> None:
        nonlocal walk_requests
        if method != "GET" or path != "/cdrs":
            return
        walk_requests += 1
        part_sizes.extend(p.stat().st_size for p in tmp_path.glob(".cdrs.csv.*.part"))
        if walk_requests == 3:  # after the first page of the walk was written
            inserted.extend(fake.insert("cdrs", 4, calldate="2026-08-20 10:00:00"))
            fake.delete("cdrs", deleted)

    fake.on_request(churn)
    out = tmp_path / "cdrs.csv"
    result = await cli("cdrs", "export", *PERIOD, "-o", str(out))
    assert result.code == 0, result.err
    ids = [int(r["id"]) for r in read_csv(out)]
    assert walk_requests >= 4
    assert len(ids) == len(set(ids))  # no duplicates
    assert set(before) - set(deleted) <= set(ids)  # none missed among the survivors
    assert set(ids) <= set(before) | set(inserted)
    assert ids == sorted(ids)
    assert part_sizes and max(part_sizes) > 0  # rows reached the disk while the walk ran


async def test_a_failed_export_leaves_no_file(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    out = tmp_path / "cdrs.csv"
    out.write_text("the previous export\n")
    seen = 0

    def break_after_first_page(method: str, path: str) -> None:
        nonlocal seen
        seen += method == "GET" and path == "/cdrs"
        if seen == 3:
            fake.fail("/cdrs", 500)

    fake.on_request(break_after_first_page)
    result = await cli("cdrs", "export", *PERIOD, "-o", str(out))
    assert result.code == 1
    assert "500" in result.err and "Traceback" not in result.err
    assert out.read_text() == "the previous export\n"  # untouched
    assert files(tmp_path) == ["cdrs.csv"]
