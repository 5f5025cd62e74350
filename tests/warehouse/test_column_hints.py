"""A sync's column hints agree with the Arrow tables it yields: dlt warns of no difference.

dlt compares each Arrow table's schema with the resource's declared columns and logs
"several column hints were different" on every sync when they disagree (issue 22).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from warehouse_helpers import labels

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio
from voipstudio_async.warehouse import parse_destination, sync


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def dlt_log() -> Iterator[list[logging.LogRecord]]:
    """Every record of dlt's own logger (``dlt``, which does not propagate to the root)."""
    logger = logging.getLogger("dlt")
    handler = _Records()
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


def _hint_warnings(records: list[logging.LogRecord]) -> list[str]:
    return [
        r.getMessage()
        for r in records
        if r.levelno >= logging.WARNING and "column hints" in r.getMessage()
    ]


@pytest.mark.parametrize("destination", ["duckdb", "postgres", "delta"])
@pytest.mark.parametrize(
    "cdr_labels", [["vip", "callback"], [], None], ids=["two", "empty", "null"]
)
def test_a_sync_logs_no_column_hint_difference(
    destination: str,
    cdr_labels: list[str] | None,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
    dlt_log: list[logging.LogRecord],
) -> None:
    ident = fake.insert("cdrs", 1, labels=cdr_labels)[0]
    if destination == "duckdb":
        url = f"duckdb:///{tmp_path / 'h.duckdb'}"
    elif destination == "delta":
        url = f"file://{tmp_path / 'lake'}"
    else:
        url = request.getfixturevalue("postgres_url")
    dataset = f"hints_{tmp_path.name[-8:].replace('-', '_')}".lower()

    def once() -> None:
        sync(
            parse_destination(url),
            client_factory=factory,
            dataset=dataset,
            pipelines_dir=pipelines_dir,
        )

    once()
    # The second run merges into the tables the first created.
    fake.insert("cdrs", 1, labels=["again"])
    once()
    assert _hint_warnings(dlt_log) == []
    assert labels(_loaded_labels(destination, url, dataset, ident)) == list(cdr_labels or [])


def _loaded_labels(destination: str, url: str, dataset: str, ident: int) -> object:
    query = f"select labels from {dataset}.cdrs where id = %s"
    if destination == "delta":
        from deltalake import DeltaTable

        root = url.removeprefix("file://")
        rows = DeltaTable(f"{root}/{dataset}/cdrs").to_pyarrow_table().to_pylist()
        return next(r["labels"] for r in rows if r["id"] == ident)
    if destination == "duckdb":
        import duckdb

        with duckdb.connect(url.removeprefix("duckdb:///"), read_only=True) as con:
            row = con.execute(query.replace("%s", "?"), [ident]).fetchone()
    else:
        import psycopg2

        with psycopg2.connect(url) as con, con.cursor() as cursor:
            cursor.execute(query, [ident])
            row = cursor.fetchone()
    assert row is not None
    return row[0]


def test_a_delta_table_keeps_labels_as_the_json_text_it_always_held(
    tmp_path: Path,
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
) -> None:
    """Delta tables made before arrays were built as lists have a string ``labels``
    column, which cannot take lists: Delta keeps the JSON text."""
    from deltalake import DeltaTable

    fake.insert("cdrs", 1, labels=["vip"])
    root = tmp_path / "lake"
    sync(parse_destination(f"file://{root}"), client_factory=factory, pipelines_dir=pipelines_dir)
    table = DeltaTable(str(root / "voipstudio" / "cdrs")).to_pyarrow_table()
    assert str(table.schema.field("labels").type) in ("string", "large_string", "string_view")
