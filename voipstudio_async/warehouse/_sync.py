"""``sync()``: run the history source into a destination with a dlt pipeline.

A pipeline's local working state lives under ``pipelines_dir`` (dlt's default,
``~/.dlt/pipelines``), named after the destination and dataset. Load packages left by a
run that was killed are loaded first. dlt's ``run()`` then reconciles the local state
with the one the destination committed with its rows (a destination that was wiped
or replaced is loaded from the start).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from .._errors import VoipStudioError
from ._columns import RESOURCES
from ._destination import DEFAULT_DATASET, Target
from ._source import DEFAULT_LOOKBACK, ClientFactory, ProgressCallback, history_source

__all__ = ["DestinationError", "SyncReport", "TableCounts", "sync"]


class DestinationError(Exception):
    """The destination could not be reached, refused the credentials or the load.

    The message is one line and never holds the destination's password.
    """


@dataclass
class TableCounts:
    """Rows a sync handed to one table: ``new`` past the cursor, ``updated`` changed."""

    new: int = 0
    updated: int = 0


@dataclass
class SyncReport:
    """What one ``sync()`` loaded, per table."""

    destination: str
    dataset: str
    tables: dict[str, TableCounts] = field(default_factory=dict)
    resumed_packages: int = 0
    """Load packages a killed run left behind, loaded before this run's walk."""


def pipeline_name(target: Target, dataset: str, account: str | None = None) -> str:
    """A pipeline per destination and dataset (their working states must not mix), named
    after the account too when a fleet runs it (``voipstudio_<account>_<hash>``)."""
    identity = f"{target.identity}#{dataset}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    return f"voipstudio_{account}_{digest}" if account else f"voipstudio_{digest}"


def _one_line(exc: BaseException, target: Target) -> str:
    """The innermost cause's first line, with the destination's secrets removed."""
    inner = exc
    seen = {id(inner)}
    while True:
        cause = inner.__cause__ or inner.__context__
        if cause is None or id(cause) in seen:
            break
        seen.add(id(cause))
        inner = cause
    text = (str(inner).strip().splitlines() or [type(inner).__name__])[0]
    return target.scrub(f"{type(inner).__name__}: {text}")


def _api_error(exc: BaseException) -> VoipStudioError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, VoipStudioError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def sync(
    target: Target,
    *,
    client_factory: ClientFactory | None = None,
    resources: Iterable[str] = RESOURCES,
    lookback: timedelta = DEFAULT_LOOKBACK,
    dataset: str = DEFAULT_DATASET,
    pipelines_dir: str | None = None,
    on_progress: ProgressCallback | None = None,
    account: str | None = None,
) -> SyncReport:
    """Load the account's history into ``target`` (blocking: call it from a thread).

    ``account`` (a fleet's account name) goes into the pipeline's name.

    API errors are raised as the SDK's exceptions; destination failures as
    ``DestinationError``.
    """
    if not isinstance(dataset, str) or not dataset.strip():
        raise ValueError(f"dataset must be a non-empty name, got {dataset!r}")
    target.check_dataset(dataset)
    report = SyncReport(target.display, dataset)
    lock = threading.Lock()

    def count(table: str, new: int, updated: int) -> None:
        with lock:
            counts = report.tables.setdefault(table, TableCounts())
            counts.new += new
            counts.updated += updated
        if on_progress is not None:
            on_progress(table, new, updated)

    source = history_source(client_factory, resources, lookback, on_progress=count)
    for name in source.resources:
        if name in RESOURCES:
            report.tables[name] = TableCounts()
    if target.table_format is not None:
        for resource in source.resources.values():
            resource.apply_hints(table_format=target.table_format)
    if target.kind == "postgres":
        # dlt would COPY Arrow batches to PostgreSQL as CSV, which reads an empty string
        # as NULL; INSERT statements keep empty strings empty.
        for resource in source.resources.values():
            resource.apply_hints(file_format="insert_values")
    options: dict[str, Any] = {} if pipelines_dir is None else {"pipelines_dir": pipelines_dir}
    try:
        pipeline = dlt.pipeline(
            pipeline_name(target, dataset, account),
            destination=target.dlt_destination(),
            dataset_name=dataset,
            **options,
        )
        if pipeline.has_pending_data:
            report.resumed_packages = len(pipeline.list_extracted_load_packages()) + len(
                pipeline.list_normalized_load_packages()
            )
            pipeline.normalize()
            pipeline.load()
        pipeline.run(source)
    except PipelineStepFailed as exc:
        api = _api_error(exc)
        if api is not None:
            raise api from None
        raise DestinationError(_one_line(exc, target)) from None
    except VoipStudioError:
        raise
    except Exception as exc:  # dlt's configuration and connection errors
        api = _api_error(exc)
        if api is not None:
            raise api from None
        raise DestinationError(_one_line(exc, target)) from None
    return report
