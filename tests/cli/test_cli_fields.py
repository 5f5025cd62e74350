"""Exports and filters speak the API's JSON field names (``type``), never attribute names."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from urllib.parse import parse_qs

import attrs
import pytest
from cli_helpers import PERIOD, Cli, period_ids
from voipstudio_history_client.models import Cdr, Monitor, Voicemessage

from voipstudio_async._fields import json_names
from voipstudio_async.cli._query import DATE_FIELDS, FIELDS
from voipstudio_async.testing import FakeVoipStudio


def sent_filters(fake: FakeVoipStudio) -> list[list[dict[str, object]]]:
    """The decoded ``filter`` parameter of every request the fake saw."""
    return [
        json.loads(parse_qs(r.query)["filter"][0])
        for r in fake.requests
        if "filter" in parse_qs(r.query)
    ]


async def test_csv_has_a_type_column_filled_in_every_row(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    out = tmp_path / "cdrs.csv"
    assert (await cli("cdrs", "export", *PERIOD, "-o", str(out))).code == 0
    with out.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        assert "type" in (reader.fieldnames or ())
        assert "type_" not in (reader.fieldnames or ())
        rows = list(reader)
    assert len(rows) == len(period_ids(fake, "cdrs", "calldate"))
    assert all(row["type"] == fake.get("cdrs", int(row["id"]))["type"] for row in rows)
    assert {row["type"] for row in rows} == {"I", "O", "M"}


async def test_filter_on_type_reaches_the_api_as_type(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    out = tmp_path / "inbound.jsonl"
    options = ["--filter", "type:eq:I", "--format", "jsonl", "-o", str(out)]
    result = await cli("cdrs", "export", *PERIOD, *options)
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows and {row["type"] for row in rows} == {"I"}
    sent = sent_filters(fake)
    assert sent and all({"property": "type", "operator": "eq", "value": "I"} in f for f in sent)


@pytest.mark.parametrize(
    "argv",
    [
        ["cdrs", "export", *PERIOD, "--filter", "type_:eq:I", "-o", "x.csv"],
        ["cdrs", "list", "--filter", "type_:eq:I"],
        ["cdrs", "list", "--sort", "type_"],
        ["monitors", "list", "--sort", "type_"],
    ],
)
async def test_attribute_names_are_refused_listing_the_json_names(
    cli: Cli, fake: FakeVoipStudio, argv: list[str]
) -> None:
    result = await cli(*argv)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert "no field 'type_'" in lines[0] and "did you mean 'type'?" in lines[0]
    assert "fields: id, " in lines[0] and ", type, " in lines[0]
    assert fake.requests == []


@pytest.mark.parametrize("model", [Cdr, Monitor, Voicemessage])
def test_json_names_follow_the_models(model: type[attrs.AttrsInstance]) -> None:
    names = tuple(json_names(model).values())
    attributes = [f.name for f in attrs.fields(model) if f.init]
    assert len(names) == len(attributes)
    assert not any(name.endswith("_") for name in names)
    assert "type" in names or model is Voicemessage


def test_period_fields_are_json_names() -> None:
    for collection, field in DATE_FIELDS.items():
        assert field in FIELDS[collection]


async def test_period_filters_use_the_date_fields(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    for collection in ("monitors", "voicemessages"):
        result = await cli(collection, "list", *PERIOD, "--json")
        assert result.code == 0, result.err
    properties = {c["property"] for f in sent_filters(fake) for c in f}
    assert properties == {DATE_FIELDS["monitors"], DATE_FIELDS["voicemessages"]}
