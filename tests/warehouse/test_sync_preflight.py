"""``voipstudio sync`` checks its destination before the first request: a missing driver
names the ``pip install`` line, a missing S3 bucket is refused (never created), and in
both cases nothing is sent and nothing is left behind. The dataset is reported by the
name the destination gives it."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

from voipstudio_async.cli import EXIT_OK, EXIT_USAGE, run
from voipstudio_async.testing import FakeVoipStudio


async def _sync(*argv: str, environ: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run(["sync", *argv], stdout=out, stderr=err, environ=environ)
    return code, out.getvalue(), err.getvalue()


def _left(tmp_path: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("postgresql://loader@127.0.0.1:1/history", "psycopg2", "warehouse-postgres"),
        ("file:///{tmp}/lake", "deltalake", "warehouse-delta"),
        ("s3://some-bucket/lake", "deltalake", "warehouse-delta"),
        ("s3://some-bucket/lake", "s3fs", "warehouse-delta"),
        ("duckdb:///calls.duckdb", "duckdb", "warehouse"),
    ],
)
async def test_a_missing_driver_is_named_before_any_request(
    tmp_path: Path,
    account: FakeVoipStudio,
    environ: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    module: str,
    extra: str,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if the extra were not installed
    before = _left(tmp_path)
    code, out, err = await _sync("--to", url.format(tmp=tmp_path), environ=environ)
    assert code == EXIT_USAGE and out == ""
    assert err.endswith(f"needs {module}: pip install 'voipstudio-async[{extra}]'\n"), err
    assert len(err.splitlines()) == 1
    assert account.requests == []
    assert _left(tmp_path) == before


@pytest.mark.parametrize("prefix", ["", "/lake", "/a/b/c"])
async def test_a_missing_bucket_is_refused_not_created(
    tmp_path: Path,
    account: FakeVoipStudio,
    environ: dict[str, str],
    aws_env: dict[str, str],
    s3: Any,
    prefix: str,
) -> None:
    before = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    code, out, err = await _sync(
        "--to", f"s3://no-such-bucket{prefix}", environ={**environ, **aws_env}
    )
    assert code == EXIT_USAGE and out == ""
    assert "no bucket 'no-such-bucket' (a sync does not create buckets)" in err
    assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == before
    assert account.requests == []
    assert not (tmp_path / "dlt").exists()


async def test_an_existing_bucket_is_loaded(
    account: FakeVoipStudio,
    environ: dict[str, str],
    aws_env: dict[str, str],
    bucket: str,
    s3: Any,
) -> None:
    code, out, err = await _sync(
        "--to", f"s3://{bucket}/lake", "--resources", "chats", environ={**environ, **aws_env}
    )
    assert code == EXIT_OK, err
    assert f"chats          {account.count('chats')} new, 0 updated" in out
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="lake/")["Contents"]]
    assert any("/chats/" in key for key in keys), keys


@pytest.mark.parametrize(
    ("dataset", "real"),
    [("My Data", "my_data"), ("History2026", "history2026"), ("archive", "archive")],
)
async def test_the_dataset_is_reported_by_its_real_name(
    tmp_path: Path, environ: dict[str, str], dataset: str, real: str
) -> None:
    code, out, err = await _sync(
        "--to", "duckdb:///calls.duckdb", "--resources", "chats", "--dataset", dataset,
        environ=environ,
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert out.splitlines()[-1] == f"-> duckdb:///calls.duckdb (dataset {real})"
    import duckdb

    with duckdb.connect(str(tmp_path / "calls.duckdb"), read_only=True) as con:
        rows = con.execute("select schema_name from duckdb_schemas()").fetchall()
    schemas = {row[0] for row in rows}
    assert real in schemas
