"""The history source into Delta tables (dlt's filesystem destination): on a local
directory and on S3 (moto's standalone server on loopback)."""

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


def read_s3(url: str, aws: dict[str, str]) -> Rows:
    options = {
        "AWS_ACCESS_KEY_ID": aws["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": aws["AWS_SECRET_ACCESS_KEY"],
        "AWS_REGION": aws["AWS_DEFAULT_REGION"],
        "AWS_ENDPOINT_URL": aws["AWS_ENDPOINT_URL"],
        "AWS_ALLOW_HTTP": "true",
    }
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in RESOURCES:
        table = DeltaTable(f"{url}/voipstudio/{name}", storage_options=options)
        tables[name] = table.to_pyarrow_table().to_pylist()
    return tables


async def test_first_and_incremental_sync_merge_into_delta_on_s3(
    bucket: str,
    aws_env: dict[str, str],
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
) -> None:
    url = f"s3://{bucket}/lake"
    first = run_sync(url, factory, pipelines_dir, environ=aws_env)
    assert counts(first) == {name: (fake.count(name), 0) for name in RESOURCES}
    assert_matches_fake(read_s3(url, aws_env), fake)
    await change_some(fake, factory)
    fake.insert("cdrs", 6)
    fake.insert("voicemessages", 2)

    second = run_sync(url, factory, pipelines_dir, environ=aws_env)

    assert counts(second)["cdrs"] == (6, 2)
    assert counts(second)["voicemessages"] == (2, 1)
    assert_matches_fake(read_s3(url, aws_env), fake)
