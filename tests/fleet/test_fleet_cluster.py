"""``run_fleet`` on a real cluster: a ``dask scheduler`` and two ``dask worker`` processes,
20 fake accounts, into DuckDB, PostgreSQL and moto S3."""

from __future__ import annotations

import csv
import io
import json
import pickle
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from _postgres import PG_PASSWORD
from conftest import N_ACCOUNTS, Cluster, Served

from voipstudio_async.fleet import AccountResult, ArchiveJob, ProgressEvent, SyncJob, run_fleet

# dlt's normalising and the walks of five tables per account: minutes of CPU on 2 cores for
# 20 accounts, so the PostgreSQL and kill runs load what proves the point (CDRs and media).
_QUICK = ("cdrs", "voicemessages")
_SENTINEL = "sentinel-" + uuid.uuid4().hex


def _graph(client: Any) -> bytes:
    """The scheduler's tasks of the fleet, pickled (what the scheduler holds)."""

    def dump(dask_scheduler: Any) -> bytes:
        specs = [
            (key, ts.run_spec)
            for key, ts in dask_scheduler.tasks.items()
            if str(key).startswith("voipstudio-")
        ]
        return pickle.dumps(specs)

    data: bytes = client.run_on_scheduler(dump)
    return data


def _duckdb_ids(path: Path, table: str) -> list[int]:
    with duckdb.connect(str(path), read_only=True) as db:
        return [row[0] for row in db.execute(f"select id from voipstudio.{table}").fetchall()]


def test_duckdb_every_account_once_despite_a_killed_worker_and_bad_credentials(
    client: Any, cluster: Cluster, served: Served, tmp_path: Path
) -> None:
    accounts = served.accounts()
    wrong = accounts[6].name
    Path(accounts[6].secret_file or "").write_text(_SENTINEL)  # a wrong API key
    lake = tmp_path / "lake"
    job = SyncJob(
        f"duckdb:///{lake}/{{account}}.duckdb",
        resources=_QUICK,
        pipelines_dir=str(tmp_path / "p"),
    )
    mid_run = threading.Event()
    killed = threading.Event()
    graphs: list[bytes] = []
    events: list[ProgressEvent] = []
    finished: list[AccountResult] = []

    def on_progress(event: ProgressEvent) -> None:  # in the client's event loop: no waiting
        events.append(event)
        # Mid-run: once several accounts finished and others are loading, kill a worker.
        if len(finished) >= 4 and event.what == "cdrs":
            mid_run.set()

    def killer() -> None:
        if mid_run.wait(120):
            graphs.append(_graph(client))
            cluster.kill("w1")
            killed.set()

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()

    report = run_fleet(
        client,
        accounts,
        job,
        on_progress=on_progress,
        on_result=finished.append,
        retries=1,
    )
    mid_run.set()
    thread.join(30)
    assert killed.is_set()
    by_name = {result.account: result for result in report.results}
    assert [r.account for r in report.results] == [a.name for a in accounts]
    failed = by_name.pop(wrong)
    assert failed.status == "failed"
    assert "refused the credentials" in (failed.error or "")
    assert not report.ok
    for name, result in by_name.items():
        fake = served.fake[name]
        assert result.status == "ok", (name, result.error)
        for table in _QUICK:
            ids = _duckdb_ids(lake / f"{name}.duckdb", table)
            assert sorted(ids) == fake.ids(table), (name, table)  # each row exactly once
    assert not (lake / f"{wrong}.duckdb").exists() or not _tables(lake / f"{wrong}.duckdb")
    # Secrets: no API key (nor the wrong one) in the scheduler's tasks, the logs, the
    # progress events or the summary.
    keys = [served.fake[a.name].credentials.api_key for a in accounts] + [_SENTINEL]
    summary = json.dumps(report.to_json())
    seen = [graphs[0], cluster.log_text().encode(), repr(events).encode(), summary.encode()]
    for key in keys:
        for where in seen:
            assert key.encode() not in where
    assert b"run_account" in graphs[0]  # the dump holds the tasks themselves


def _tables(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as db:
        rows = db.execute(
            "select table_name from information_schema.tables where table_schema='voipstudio'"
        ).fetchall()
    return [row[0] for row in rows if not row[0].startswith("_dlt")]


def test_postgres_a_schema_per_account_and_reruns_are_incremental(
    client: Any, cluster: Cluster, served: Served, postgres_url: str, tmp_path: Path
) -> None:
    import psycopg2

    accounts = served.accounts()
    run_id = uuid.uuid4().hex[:6]
    # No password in the URL: the workers read PGPASSWORD, so it never enters a task.
    job = SyncJob(
        postgres_url.replace(f":{PG_PASSWORD}@", "@"),
        dataset=f"f{run_id}_{{account}}",
        resources=_QUICK,
        pipelines_dir=str(tmp_path / "p"),
    )
    graphs: list[bytes] = []
    # The first result: every other account's task is still on the scheduler.
    first = run_fleet(
        client, accounts, job, on_result=lambda _: graphs or graphs.append(_graph(client))
    )
    assert first.ok, [r.error for r in first.results if not r.ok]
    assert PG_PASSWORD.encode() not in b"".join(graphs)
    assert PG_PASSWORD not in cluster.log_text()
    changed = accounts[3].name
    new_ids = served.fake[changed].insert_cdrs(7)
    second = run_fleet(client, accounts[:5], job)  # the changed account and four others
    assert second.ok
    rows = {result.account: result.rows for result in second.results}
    assert rows.pop(changed) == 7
    assert set(rows.values()) == {0}  # nothing re-loaded elsewhere
    with psycopg2.connect(postgres_url) as db, db.cursor() as cursor:
        for account in accounts:
            fake = served.fake[account.name]
            for table in _QUICK:
                cursor.execute(f"select id from f{run_id}_{account.name}.{table}")
                ids = sorted(row[0] for row in cursor.fetchall())
                assert ids == fake.ids(table), (account.name, table)
    assert set(new_ids) <= set(served.fake[changed].ids("cdrs"))


def test_s3_archive_every_account_under_its_prefix_and_a_timeout_reported(
    client: Any, served: Served, moto_endpoint: str, tmp_path: Path
) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="s3-secret-never-printed",
    )
    bucket = f"fleet-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    accounts = served.accounts()
    slow = accounts[11].name
    served.fake[slow].add_latency("*", 5.0)  # each request 5 s: the account cannot finish
    job = ArchiveJob(f"s3://{bucket}/{{account}}", datetime(2026, 1, 1), datetime(2027, 1, 1))
    report = run_fleet(client, accounts, job, timeout=20.0)
    by_name = {result.account: result for result in report.results}
    late = by_name.pop(slow)
    assert late.status == "failed"
    assert "timed out" in (late.error or "")
    for name, result in by_name.items():
        fake = served.fake[name]
        assert result.ok, (name, result.error)
        body = s3.get_object(Bucket=bucket, Key=f"{name}/cdrs.csv")["Body"].read().decode()
        exported = [int(row["id"]) for row in csv.DictReader(io.StringIO(body))]
        assert sorted(exported) == fake.ids("cdrs")
        for kind in ("monitors", "voicemessages"):
            listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"{name}/{kind}/")
            keys = [o["Key"] for o in listing.get("Contents", [])]
            media = [k for k in keys if k.endswith(".mp3")]
            assert len(media) == fake.count(kind), (name, kind)
        assert result.files == fake.count("monitors") + fake.count("voicemessages")
    assert len(by_name) == N_ACCOUNTS - 1


@pytest.mark.parametrize("dest", ["s3://bucket/all", "archive/shared"])
def test_archive_refuses_a_destination_without_the_account(dest: str, client: Any) -> None:
    from voipstudio_async.fleet import Account, FleetPlanError

    job = ArchiveJob(dest, datetime(2026, 1, 1), datetime(2026, 2, 1))
    accounts = [Account("a", 1, secret_env="A"), Account("b", 2, secret_env="B")]
    with pytest.raises(FleetPlanError, match=r"\{account\}"):
        run_fleet(client, accounts, job)
