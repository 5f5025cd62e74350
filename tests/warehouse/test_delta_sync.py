"""The history source into Delta tables on a local directory (dlt's filesystem destination)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from deltalake import DeltaTable
from test_duckdb_sync import change_some
from warehouse_helpers import Rows, assert_matches_fake, counts, run_sync

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio
from voipstudio_async.warehouse import RESOURCES


def read(root: Path) -> Rows:
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in RESOURCES:
        tables[name] = DeltaTable(str(root / "voipstudio" / name)).to_pyarrow_table().to_pylist()
    return tables


async def test_first_and_incremental_sync_merge_into_delta(
    tmp_path: Path,
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
) -> None:
    root = tmp_path / "lake"
    root.mkdir()
    url = f"file://{root}"
    assert counts(run_sync(url, factory, pipelines_dir))["cdrs"] == (fake.count("cdrs"), 0)
    await change_some(fake, factory)
    fake.insert("cdrs", 6)

    second = run_sync(url, factory, pipelines_dir)

    assert second.tables["cdrs"].new == 6 and second.tables["cdrs"].updated == 2
    assert_matches_fake(read(root), fake)
