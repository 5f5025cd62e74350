"""Rows to Arrow batches: the cell conversions each column kind needs."""

from __future__ import annotations

from datetime import UTC, datetime

from voipstudio_history_client.types import UNSET

from voipstudio_async.warehouse._columns import shape


def test_cells_are_converted_per_column_kind() -> None:
    table = shape("cdrs")
    first = dict.fromkeys(table.fields, UNSET)
    first.update(id=1, calldate="2026-05-01 10:00:00", type=2, labels=["a", "b"], charge=0.5)
    second = dict.fromkeys(table.fields, UNSET)
    second.update(id=2, calldate="0000-00-00 00:00:00", type="O", labels=None)

    batch = table.to_arrow([tuple(first.values()), tuple(second.values())])

    assert batch.schema == table.schema
    rows = batch.to_pylist()
    assert rows[0]["calldate"] == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert rows[1]["calldate"] is None  # the API's zero date
    assert [r["type"] for r in rows] == ["2", "O"]  # int | str codes as text
    assert [r["labels"] for r in rows] == [["a", "b"], None]  # an Arrow list: dlt's json
    assert [r["charge"] for r in rows] == [0.5, None]  # UNSET as NULL
    assert all(r["info"] is None for r in rows)


def test_an_empty_batch_has_the_tables_schema() -> None:
    table = shape("voicemessages")
    batch = table.to_arrow([])
    assert batch.num_rows == 0 and batch.schema == table.schema
