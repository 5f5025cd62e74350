"""``sync()``: run the history source into a destination with a dlt pipeline.

A pipeline's local working state lives under ``pipelines_dir`` (dlt's default,
``~/.dlt/pipelines``), named after the destination and dataset. Load packages left by a
run that was killed are loaded first, and their rows counted (each package carries the
state its extract ended with, which holds the counts). dlt's ``run()`` then reconciles
the local state with the one the destination committed with its rows (a destination
that was wiped or replaced is loaded from the start).

``stop`` (a ``threading.Event``) ends the walks at the next page: what was fetched is
loaded and committed with its cursor, so the next run goes on from there.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import dlt
from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.common.pipeline import get_dlt_pipelines_dir
from dlt.common.versioned_state import decompress_state, json_decode_state, json_encode_state
from dlt.pipeline.exceptions import PipelineStepFailed

from .._errors import VoipStudioError
from ._columns import RESOURCES
from ._destination import DEFAULT_DATASET, DestinationError, Target
from ._source import (
    DEFAULT_LOOKBACK,
    EXTRACTED,
    SOURCE_NAME,
    ClientFactory,
    ProgressCallback,
    history_source,
)

__all__ = ["DestinationError", "SyncReport", "TableCounts", "sync"]

_STATE_FILE = "state.json"


@dataclass
class TableCounts:
    """Rows a sync handed to one table: ``new`` past the cursor, ``updated`` changed."""

    new: int = 0
    """Rows past the table's cursor (not loaded before)."""
    updated: int = 0
    """Rows the lookback re-read and found changed."""


@dataclass
class SyncReport:
    """What one ``sync()`` loaded, per table (rows of resumed packages included)."""

    destination: str
    """The destination, as shown (no password)."""
    dataset: str
    """The schema the tables are in, as the destination names it (``My Data`` → ``my_data``)."""
    tables: dict[str, TableCounts] = field(default_factory=dict)
    """The rows handed to each table, by table name (``cdrs``, ``monitors``, ...)."""
    resumed_packages: int = 0
    """Load packages a killed run left behind, loaded before this run's walk."""
    resumed_rows: int = 0
    """The rows of those packages (counted in ``tables`` too)."""
    stopped: bool = False
    """``stop`` ended a walk early (what the walks fetched is loaded)."""


def _name(identity: str, dataset: str, account: str | None) -> str:
    digest = hashlib.sha256(f"{identity}#{dataset}".encode()).hexdigest()[:12]
    return f"voipstudio_{account}_{digest}" if account else f"voipstudio_{digest}"


def pipeline_name(target: Target, dataset: str, account: str | None = None) -> str:
    """A pipeline per destination and dataset (their working states must not mix), named
    after the account too when a fleet runs it (``voipstudio_<account>_<hash>``)."""
    return _name(target.identity, dataset, account)


def _adopt_legacy(
    target: Target, dataset: str, account: str | None, pipelines_dir: str | None
) -> None:
    """Give the pipeline an earlier version named for this destination to its new name.

    Its working directory is renamed, with the name inside its state; without one here,
    its state is first restored from the destination (where dlt keeps it by name).
    """
    # Fleets came after the old names; a URL without a user had no ":***" to drop.
    if target.legacy_identity in (None, target.identity) or account:
        return
    root = Path(pipelines_dir or get_dlt_pipelines_dir())
    new = _name(target.identity, dataset, account)
    old = _name(target.legacy_identity, dataset, account)
    if (root / new / _STATE_FILE).exists():
        return
    if not (root / old / _STATE_FILE).exists():
        legacy = dlt.pipeline(
            old,
            destination=target.dlt_destination(),
            dataset_name=dataset,
            pipelines_dir=str(root),
        )
        legacy.sync_destination()
        if SOURCE_NAME not in legacy.state.get("sources", {}):
            shutil.rmtree(root / old, ignore_errors=True)
            return
    shutil.rmtree(root / new, ignore_errors=True)  # a directory without state is empty
    (root / old).rename(root / new)
    state_file = root / new / _STATE_FILE
    state = json_decode_state(state_file.read_text(encoding="utf-8"))
    state["pipeline_name"] = new
    state_file.write_text(json_encode_state(cast(Any, state)), encoding="utf-8")


def _package_counts(pipeline: Any, load_ids: Iterable[str]) -> dict[str, TableCounts]:
    """Rows per table of pending load packages, from the state each one was extracted with."""
    counts: dict[str, TableCounts] = {}
    for load_id in load_ids:
        doc = pipeline.get_load_package_state(load_id).get("pipeline_state")
        if not doc:
            continue
        state = decompress_state(doc["state"])
        resources = state.get("sources", {}).get(SOURCE_NAME, {}).get("resources", {})
        for name, resource in resources.items():
            extracted = resource.get(EXTRACTED)
            if name in RESOURCES and extracted:
                table = counts.setdefault(name, TableCounts())
                table.new += int(extracted[0])
                table.updated += int(extracted[1])
    return counts


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
    stop: threading.Event | None = None,
) -> SyncReport:
    """Load the account's history into ``target`` (blocking: call it from a thread).

    Args:
        target: Where to load (``parse_destination``).
        client_factory: Builds the client (default ``VoipStudio.from_env``).
        resources: The tables to load.
        lookback: How much recent history to re-read for changed rows.
        dataset: The schema to load into.
        pipelines_dir: Where dlt keeps the pipeline's working state.
        on_progress: Called with ``(table, new, updated)`` for each batch.
        account: A fleet's account name, part of the pipeline's name.
        stop: When set, the walks end at the next row; what they fetched is loaded.

    Returns:
        What each table received.

    Raises:
        MissingExtraError: The destination's driver is not installed (nothing sent).
        DestinationError: The destination failed (one line, no password).
        VoipStudioError: The API failed.
    """
    if not isinstance(dataset, str) or not dataset.strip():
        raise ValueError(f"dataset must be a non-empty name, got {dataset!r}")
    target.check_dataset(dataset)
    target.check_installed()
    target.check_bucket()
    report = SyncReport(target.display, NamingConvention().normalize_table_identifier(dataset))
    lock = threading.Lock()

    def count(table: str, new: int, updated: int) -> None:
        with lock:
            counts = report.tables.setdefault(table, TableCounts())
            counts.new += new
            counts.updated += updated
        if on_progress is not None:
            on_progress(table, new, updated)

    def stopped(table: str) -> None:
        report.stopped = True

    source = history_source(
        client_factory,
        resources,
        lookback,
        on_progress=count,
        stop=stop,
        on_stopped=stopped,
        # Delta tables made before lists were built hold `labels` as strings.
        json_lists=target.table_format != "delta",
    )
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
        _adopt_legacy(target, dataset, account, pipelines_dir)
        pipeline = dlt.pipeline(
            pipeline_name(target, dataset, account),
            destination=target.dlt_destination(),
            dataset_name=dataset,
            **options,
        )
        if pipeline.has_pending_data:
            pending = [
                *pipeline.list_extracted_load_packages(),
                *pipeline.list_normalized_load_packages(),
            ]
            pipeline.normalize()  # keeps the load ids: every package is now a normalized one
            resumed = _package_counts(pipeline, pending)
            pipeline.load()
            report.resumed_packages = len(pending)
            for table, rows in resumed.items():
                report.resumed_rows += rows.new + rows.updated
                count(table, rows.new, rows.updated)
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
