"""The history source into DuckDB: first sync, incremental merge, cursors, column types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from warehouse_helpers import Rows, assert_matches_fake, counts, labels, list_walks, run_sync

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio
from voipstudio_async.warehouse import DATE_FIELDS, RESOURCES, history_source

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "history.yaml"


def read(path: Path) -> Rows:
    with duckdb.connect(str(path), read_only=True) as con:
        tables: dict[str, list[dict[str, Any]]] = {}
        for name in RESOURCES:
            cursor = con.execute(f"select * from voipstudio.{name}")
            columns = [d[0] for d in cursor.description]
            tables[name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        return tables


async def change_some(fake: FakeVoipStudio, factory: Callable[[], VoipStudio]) -> None:
    """Two recent CDRs get labels and info, one recent voicemail is moved."""
    cdrs = fake.ids("cdrs")
    voicemails = fake.ids("voicemessages")
    async with factory() as vs:
        (
            await vs.cdrs.update(
                [
                    {"id": cdrs[-1], "labels": ["vip", "callback"]},
                    {"id": cdrs[-3], "info": "escalated"},
                ]
            )
        ).raise_for_failures()
        (await vs.voicemessages.move([voicemails[-2]], folder="Archive")).raise_for_failures()


async def test_second_sync_loads_exactly_the_new_and_changed_rows(
    tmp_path: Path,
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
) -> None:
    db = tmp_path / "history.duckdb"
    url = f"duckdb:///{db}"
    first = run_sync(url, factory, pipelines_dir)
    assert counts(first) == {name: (fake.count(name), 0) for name in RESOURCES}
    assert_matches_fake(read(db), fake)

    await change_some(fake, factory)
    fake.insert("cdrs", 7)
    fake.insert("voicemessages", 3)
    fake.insert("chats", 1)
    second = run_sync(url, factory, pipelines_dir)

    assert counts(second) == {
        "cdrs": (7, 2),
        "monitors": (0, 0),
        "voicemessages": (3, 1),
        "chats": (1, 0),
        "msdrs": (0, 0),
    }
    assert_matches_fake(read(db), fake)
    third = run_sync(url, factory, pipelines_dir)
    assert counts(third) == {name: (0, 0) for name in RESOURCES}


async def test_second_walk_starts_after_the_cursor_not_from_the_beginning(
    tmp_path: Path,
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
) -> None:
    url = f"duckdb:///{tmp_path / 'h.duckdb'}"
    run_sync(url, factory, pipelines_dir, lookback=timedelta(0))
    assert list_walks(fake, "/cdrs")[0] == []  # the first sync starts at the beginning
    last = fake.ids("cdrs")[-1]
    fake.insert("cdrs", 1000)
    fake.reset_log()

    report = run_sync(url, factory, pipelines_dir, lookback=timedelta(0))

    assert counts(report)["cdrs"] == (1000, 0)
    walks = list_walks(fake, "/cdrs")
    assert len(walks) <= 2  # the bound for a re-run without lookback
    assert walks[0] == [{"property": "id", "operator": "gt", "value": last}]


async def test_lookback_walk_starts_at_the_window_not_the_beginning(
    tmp_path: Path,
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
) -> None:
    url = f"duckdb:///{tmp_path / 'h.duckdb'}"
    run_sync(url, factory, pipelines_dir, lookback=timedelta(days=7))
    records = fake.records("cdrs")
    newest = max(r["calldate"] for r in records)
    window_start = str(__import__("datetime").datetime.fromisoformat(newest) - timedelta(days=7))
    floor = min(r["id"] for r in records if r["calldate"] >= window_start)
    fake.reset_log()

    run_sync(url, factory, pipelines_dir, lookback=timedelta(days=7))

    first_filter = list_walks(fake, "/cdrs")[0]
    assert first_filter == [{"property": "id", "operator": "gt", "value": floor - 1}]
    assert floor > len(records) // 2  # seven days of a six-month account


async def test_without_lookback_changes_to_loaded_rows_are_not_seen(
    tmp_path: Path,
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
) -> None:
    """The documented limit: only the lookback re-read catches changed rows."""
    db = tmp_path / "h.duckdb"
    run_sync(f"duckdb:///{db}", factory, pipelines_dir, lookback=timedelta(0))
    await change_some(fake, factory)
    report = run_sync(f"duckdb:///{db}", factory, pipelines_dir, lookback=timedelta(0))
    assert counts(report)["cdrs"] == (0, 0)
    last = fake.ids("cdrs")[-1]
    loaded = {row["id"]: row for row in read(db)["cdrs"]}
    assert labels(loaded[last]["labels"]) != ["vip", "callback"]


async def test_column_types_and_unparseable_dates(
    tmp_path: Path,
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
) -> None:
    zero = fake.insert("cdrs", 1, calldate="0000-00-00 00:00:00", type="O", labels=["a"])[0]
    numeric = fake.insert("cdrs", 1, type=2)[0]
    db = tmp_path / "h.duckdb"
    run_sync(f"duckdb:///{db}", factory, pipelines_dir)
    with duckdb.connect(str(db), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'voipstudio' and table_name = 'cdrs'"
            ).fetchall()
        )
        assert types["id"] == "BIGINT"
        assert types["calldate"] == "TIMESTAMP WITH TIME ZONE"
        assert types["type"] == "VARCHAR"
        assert types["charge"] == "DOUBLE"
        assert types["labels"] == "JSON"
        rows = con.execute(
            "select id, calldate, type, labels from voipstudio.cdrs where id in (?, ?) order by id",
            [zero, numeric],
        ).fetchall()
        assert rows[0][1] is None and rows[0][2] == "O" and rows[0][3] == '["a"]'
        assert rows[1][1] is not None and rows[1][2] == "2"
        dictionary = con.execute(
            "select field, code, label from voipstudio.cdrs_dictionary where field = 'type'"
        ).fetchall()
        assert ("type", "O", "Outbound") in dictionary


async def test_a_replaced_destination_is_loaded_from_the_start(
    tmp_path: Path,
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
) -> None:
    """The cursor comes from the destination, not from local working state."""
    db = tmp_path / "h.duckdb"
    run_sync(f"duckdb:///{db}", factory, pipelines_dir)
    db.unlink()
    report = run_sync(f"duckdb:///{db}", factory, pipelines_dir)
    assert counts(report)["cdrs"] == (fake.count("cdrs"), 0)
    assert_matches_fake(read(db), fake)


def test_date_fields_are_the_specs_documented_datetimes() -> None:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))["components"]["schemas"]
    names = {
        "cdrs": "Cdr",
        "monitors": "Monitor",
        "voicemessages": "Voicemessage",
        "chats": "Chat",
        "msdrs": "Msdr",
    }
    for resource, schema in names.items():
        dated = [
            field
            for field, prop in spec[schema]["properties"].items()
            if "YYYY-MM-DD HH:MM:SS" in prop.get("description", "")
        ]
        assert dated == [DATE_FIELDS[resource]]  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resources": ("cdrs", "calls")}, "resources must be some of"),
        ({"resources": ()}, "resources must be some of"),
        ({"lookback": timedelta(days=-1)}, "lookback must be a timedelta >= 0"),
        ({"lookback": 7}, "lookback must be a timedelta >= 0"),
    ],
)
def test_bad_arguments_are_refused_up_front(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        history_source(lambda: None, **kwargs)  # type: ignore[arg-type,return-value]
