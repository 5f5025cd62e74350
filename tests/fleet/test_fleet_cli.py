"""``voipstudio fleet`` as users run it: a process of its own, on its local cluster or on the
tests' scheduler; exit codes, the table, the summary and a prompt stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from conftest import Cluster, Served

VOIPSTUDIO = Path(sys.executable).parent / "voipstudio"


def _env(cluster: Cluster) -> dict[str, str]:
    return {**cluster.env, "PYTHONUNBUFFERED": "1"}


def _first(served: Served, n: int, tmp_path: Path) -> Path:
    """An accounts file of the first ``n`` accounts (their secrets files shared)."""
    small = tmp_path / f"first{n}.toml"
    text = served.accounts_file.read_text().split("[[accounts]]")
    small.write_text("[[accounts]]".join(text[: n + 1]))
    secrets = served.accounts_file.with_name("accounts.secrets")
    (tmp_path / f"first{n}.secrets").symlink_to(secrets)
    return small


def test_fake_accounts_on_a_local_cluster_with_no_set_up(tmp_path: Path, cluster: Cluster) -> None:
    """The issue's done criterion, with 3 accounts and one table to keep it quick."""
    summary = tmp_path / "summary.json"
    done = subprocess.run(
        [
            VOIPSTUDIO,
            "fleet",
            "sync",
            "--fake-accounts",
            "3",
            "--workers",
            "1",
            "--to",
            "duckdb:///lake/{account}.duckdb",
            "--resources",
            "cdrs",
            "--summary-json",
            str(summary),
        ],
        cwd=tmp_path,
        env=_env(cluster),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    names = ["account001", "account002", "account003"]
    for name in names:
        assert name in done.stdout
        with duckdb.connect(str(tmp_path / "lake" / f"{name}.duckdb"), read_only=True) as db:
            assert db.execute("select count(*) from voipstudio.cdrs").fetchone()[0] > 0
    assert "3 of 3 accounts done" in done.stdout
    assert "account001: ok in" in done.stderr
    data = json.loads(summary.read_text())
    assert data["ok"] is True
    assert [a["account"] for a in data["accounts"]] == names
    assert {a["status"] for a in data["accounts"]} == {"ok"}


def test_a_failed_account_exits_1_and_the_table_names_it(
    tmp_path: Path, cluster: Cluster, served: Served
) -> None:
    accounts = served.accounts()[:3]
    Path(accounts[1].secret_file or "").write_text("not-the-key")
    small = _first(served, 3, tmp_path)
    summary = tmp_path / "s.json"
    done = subprocess.run(
        [
            VOIPSTUDIO,
            "fleet",
            "archive",
            "--accounts",
            str(small),
            "--scheduler",
            cluster.address,
            "--since",
            "2026-01-01",
            "--until",
            "2027-01-01",
            "--dest",
            str(tmp_path / "archive" / "{account}"),
            "--summary-json",
            str(summary),
        ],
        env=_env(cluster),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    rows = {a["account"]: a for a in json.loads(summary.read_text())["accounts"]}
    assert rows[accounts[1].name]["status"] == "failed"
    assert "refused the credentials" in rows[accounts[1].name]["error"]
    assert {rows[a.name]["status"] for a in (accounts[0], accounts[2])} == {"ok"}
    assert "2 of 3 accounts done" in done.stdout and "1 failed" in done.stdout
    assert "not-the-key" not in done.stdout + done.stderr + summary.read_text()


def test_sigterm_stops_promptly_and_a_rerun_completes_every_account_once(
    tmp_path: Path, cluster: Cluster, served: Served
) -> None:
    names = list(served.fake)[:6]
    for name in names:
        served.fake[name].add_latency("*", 1.0)  # a long run, latency-bound
    lake = tmp_path / "lake"
    command = [VOIPSTUDIO, "fleet", "sync", "--accounts", str(_first(served, 6, tmp_path))]
    command += ["--scheduler", cluster.address, "--resources", "cdrs"]
    command += ["--to", f"duckdb:///{lake}/{{account}}.duckdb"]
    env = {**_env(cluster), "DLT_DATA_DIR": str(tmp_path / "dlt")}
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:  # wait until the first accounts are loading
            if ": started" in line:
                break
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 10
    assert proc.returncode == 130, err
    assert "stopped:" in err
    for name in names:
        served.fake[name].clear_faults()
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    for name in names:
        with duckdb.connect(str(lake / f"{name}.duckdb"), read_only=True) as db:
            ids = [row[0] for row in db.execute("select id from voipstudio.cdrs").fetchall()]
        assert sorted(ids) == served.fake[name].ids("cdrs"), name


def test_usage_errors_exit_2_before_any_cluster(tmp_path: Path) -> None:
    for args, message in [
        (["--fake-accounts", "2", "--to", "duckdb:///one.duckdb"], "one writing process"),
        (
            ["--accounts", str(tmp_path / "none.toml"), "--to", "duckdb:///{account}.duckdb"],
            "No such file",
        ),
        (["--fake-accounts", "0", "--to", "x"], "whole number >= 1"),
        (["--fake-accounts", "2", "--scheduler", "host:8786", "--to", "x"], "tcp://host:8786"),
    ]:
        done = subprocess.run(
            [VOIPSTUDIO, "fleet", "sync", *args],
            cwd=tmp_path,
            env={**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
