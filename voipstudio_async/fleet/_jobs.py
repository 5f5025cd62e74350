"""What a fleet runs for each account: a sync or an archive, its destination per account.

A destination holds ``{account}``, replaced by each account's name, so every account gets
a DuckDB file, a PostgreSQL dataset or an S3/directory prefix of its own. The plan is
checked on the caller's side before any task is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from .._constants import DEFAULT_LOOKBACK
from ..warehouse._columns import RESOURCES
from ._accounts import Account, AccountsFileError, check_unique

__all__ = ["ArchiveJob", "FleetPlanError", "Job", "SyncJob", "plan"]

PLACEHOLDER = "{account}"


class FleetPlanError(ValueError):
    """The fleet cannot run as asked: e.g. two accounts would write one DuckDB file."""


def _fill(template: str, name: str) -> str:
    return template.replace(PLACEHOLDER, name)


@dataclass(frozen=True, slots=True)
class SyncJob:
    """``voipstudio sync`` for each account.

    ``to`` is a ``sync --to`` URL holding ``{account}`` in the path (a DuckDB file, a
    directory or S3 prefix of Delta tables) or, for PostgreSQL, anywhere (``dataset``
    then defaults to ``voipstudio_{account}``: a schema per account).

    Args:
        to: The destination URL, holding ``{account}`` where accounts must differ.
        dataset: The schema (may hold ``{account}``; default above).
        resources: The tables to load (default all).
        lookback: How far behind the newest row to re-read for changes.
        pipelines_dir: Where dlt keeps the pipelines' working state (None: dlt's).
        command: Always ``"sync"`` (tells the jobs apart).
    """

    to: str
    dataset: str | None = None
    resources: tuple[str, ...] = RESOURCES
    lookback: timedelta = DEFAULT_LOOKBACK
    pipelines_dir: str | None = None

    command: Literal["sync"] = "sync"

    def dataset_for(self, name: str) -> str:
        """The account's dataset (schema).

        Args:
            name: The account's name, put for ``{account}``.

        Returns:
            The schema name.
        """
        if self.dataset is not None:
            return _fill(self.dataset, name)
        return "voipstudio" if PLACEHOLDER in self.to else f"voipstudio_{name}"

    def destination_for(self, name: str) -> str:
        """The account's ``--to`` URL.

        Args:
            name: The account's name, put for ``{account}``.

        Returns:
            The URL.
        """
        return _fill(self.to, name)


@dataclass(frozen=True, slots=True)
class ArchiveJob:
    """``voipstudio archive`` (CDR export and both media kinds, no move or purge) for
    each account into ``dest``: a directory or ``s3://bucket/prefix`` holding ``{account}``.

    Args:
        dest: A directory or ``s3://bucket/prefix`` holding ``{account}``.
        since: The start of the period archived (inclusive).
        until: The end of the period archived (exclusive).
        cdrs_format: ``"csv"`` or ``"jsonl"``.
        concurrency: Downloads in flight per account (1 to 256).
        formula_guard: Prefix CSV cells that a spreadsheet would run as formulas.
        s3_endpoint_url: An S3-compatible endpoint (None: AWS).
        command: Always ``"archive"`` (tells the jobs apart).
    """

    dest: str
    since: datetime
    until: datetime
    cdrs_format: Literal["csv", "jsonl"] = "csv"
    concurrency: int = 8
    formula_guard: bool = True
    s3_endpoint_url: str | None = None

    command: Literal["archive"] = "archive"

    def destination_for(self, name: str) -> str:
        """The account's archive directory or prefix.

        Args:
            name: The account's name, put for ``{account}``.

        Returns:
            The directory or ``s3://`` URL.
        """
        return _fill(self.dest, name)


Job = SyncJob | ArchiveJob
"""What a fleet runs for each account: a ``SyncJob`` or an ``ArchiveJob``."""


def _sync_plan(job: SyncJob, names: Sequence[str]) -> None:
    from ..warehouse import parse_destination

    writers: dict[str, str] = {}
    for name in names:
        try:
            target = parse_destination(job.destination_for(name), {})
            target.check_dataset(job.dataset_for(name))
        except ValueError as exc:
            raise FleetPlanError(f"--to for account {name}: {exc}") from None
        # DuckDB allows one writing process per file, so a file per account; elsewhere a
        # dataset per account keeps tables and dlt's state apart.
        key = target.identity
        if target.kind != "duckdb":
            key += "#" + job.dataset_for(name)
        other = writers.setdefault(key, name)
        if other != name:
            if target.kind == "duckdb":
                raise FleetPlanError(
                    f"accounts {other} and {name} would both write {target.display}: DuckDB "
                    f"allows one writing process per file; put {PLACEHOLDER} in the file name, "
                    f"e.g. duckdb:///lake/{PLACEHOLDER}.duckdb"
                )
            raise FleetPlanError(
                f"accounts {other} and {name} would both write {target.display} "
                f"(dataset {job.dataset_for(name)}): put {PLACEHOLDER} in the URL or the dataset"
            )


def _archive_plan(job: ArchiveJob, names: Sequence[str]) -> None:
    if job.since >= job.until:
        raise FleetPlanError("since must be before until")
    if not 1 <= job.concurrency <= 256:
        raise FleetPlanError("concurrency must be from 1 to 256")
    if PLACEHOLDER not in job.dest:
        raise FleetPlanError(
            f"--dest {job.dest!r} would put every account's archive in one place: put "
            f"{PLACEHOLDER} in it, e.g. s3://bucket/{PLACEHOLDER}/ or archive/{PLACEHOLDER}"
        )
    if not job.dest.startswith("s3://"):
        resolved = {str(Path(job.destination_for(n)).resolve()): n for n in names}
        if len(resolved) != len(names):
            raise FleetPlanError(f"--dest {job.dest!r}: two accounts resolve to one directory")


def plan(job: Job, accounts: Sequence[Account]) -> None:
    """Check ``job`` for ``accounts`` before anything runs.

    Args:
        job: The ``SyncJob`` or ``ArchiveJob``.
        accounts: The accounts it would run for.

    Raises:
        FleetPlanError: a destination is bad or two accounts would share one.
        AccountsFileError: two accounts share a name.
    """
    if not accounts:
        raise AccountsFileError("no accounts to run")
    check_unique(accounts)
    names = [account.name for account in accounts]
    if isinstance(job, SyncJob):
        _sync_plan(job, names)
    else:
        _archive_plan(job, names)
