"""Sync or archive many accounts on Dask distributed (the ``fleet`` extra).

::

    from distributed import Client, LocalCluster
    from voipstudio_async.fleet import SyncJob, load_accounts, run_fleet

    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        report = run_fleet(
            client,
            load_accounts("accounts.toml"),
            SyncJob("duckdb:///lake/{account}.duckdb"),
        )
    print(report.ok, [(r.account, r.status, r.rows) for r in report.results])

Each account is one task that reads the account's secret on the worker that runs it
(``secret_env``/``secret_file`` in the accounts file), so no secret enters the task
graph, the scheduler or the dashboard. ``voipstudio fleet`` is the same on the command
line.
"""

from __future__ import annotations

from ._accounts import Account, AccountsFileError, SecretUnavailableError, load_accounts
from ._jobs import ArchiveJob, FleetPlanError, Job, SyncJob, plan
from ._results import AccountFailedError, AccountResult, FleetReport, Status
from ._run import FleetStoppedError, ProgressEvent, run_fleet
from ._task import RunSettings, run_account

__all__ = [
    "Account",
    "AccountFailedError",
    "AccountResult",
    "AccountsFileError",
    "ArchiveJob",
    "FleetPlanError",
    "FleetReport",
    "FleetStoppedError",
    "Job",
    "ProgressEvent",
    "RunSettings",
    "SecretUnavailableError",
    "Status",
    "SyncJob",
    "load_accounts",
    "plan",
    "run_account",
    "run_fleet",
]
