"""The history source into a real PostgreSQL server on loopback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from test_duckdb_sync import change_some
from warehouse_helpers import Rows, assert_matches_fake, counts, list_walks, run_sync

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio
from voipstudio_async.warehouse import RESOURCES, DestinationError


def read(url: str, dataset: str) -> Rows:
    with psycopg2.connect(url) as con, con.cursor() as cursor:
        tables: dict[str, list[dict[str, Any]]] = {}
        for name in RESOURCES:
            cursor.execute(f"select * from {dataset}.{name}")
            columns = [d[0] for d in cursor.description or ()]
            tables[name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    con.close()
    return tables


async def test_first_and_incremental_sync(
    postgres_url: str,
    tmp_path: Path,
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
) -> None:
    dataset = f"t{tmp_path.name[-8:].replace('-', '_')}".lower()
    from voipstudio_async.warehouse import parse_destination, sync

    def once() -> dict[str, tuple[int, int]]:
        report = sync(
            parse_destination(postgres_url),
            client_factory=factory,
            dataset=dataset,
            pipelines_dir=pipelines_dir,
        )
        return counts(report)

    assert once() == {name: (fake.count(name), 0) for name in RESOURCES}
    assert_matches_fake(read(postgres_url, dataset), fake)
    last = fake.ids("cdrs")[-1]
    await change_some(fake, factory)
    fake.insert("cdrs", 5)
    fake.insert("voicemessages", 2)
    fake.reset_log()

    second = once()

    assert second["cdrs"] == (5, 2) and second["voicemessages"] == (2, 1)
    assert_matches_fake(read(postgres_url, dataset), fake)
    first_filter = list_walks(fake, "/cdrs")[0]
    assert first_filter[0]["operator"] == "gt" and 0 < first_filter[0]["value"] <= last
    with psycopg2.connect(postgres_url) as con, con.cursor() as cursor:
        cursor.execute(
            "select data_type from information_schema.columns "
            "where table_schema = %s and table_name = 'cdrs' and column_name = 'calldate'",
            (dataset,),
        )
        assert cursor.fetchone() == ("timestamp with time zone",)
    con.close()


def test_refused_credentials_are_one_line_without_the_password(
    postgres_url: str, factory: Callable[[], VoipStudio], pipelines_dir: str
) -> None:
    wrong = postgres_url.replace("pg-s3cret-pw", "not-the-pw")
    with pytest.raises(DestinationError) as caught:
        run_sync(wrong, factory, pipelines_dir)
    message = str(caught.value)
    assert "password authentication failed" in message
    assert "\n" not in message and "not-the-pw" not in message
