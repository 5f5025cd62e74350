"""Load the account's history into DuckDB, PostgreSQL or Delta tables with dlt.

Needs the ``warehouse`` extra (dlt with DuckDB)::

    from voipstudio_async.warehouse import history_source
    pipeline = dlt.pipeline("voipstudio", destination="duckdb", dataset_name="voipstudio")
    pipeline.run(history_source())

``sync()`` does the same for a destination URL (what ``voipstudio sync`` runs).
"""

from __future__ import annotations

from ._columns import DATE_FIELDS, RESOURCES, ResourceName
from ._destination import (
    DEFAULT_DATASET,
    DEFAULT_URL,
    DestinationError,
    MissingExtraError,
    Target,
    parse_destination,
)
from ._source import DEFAULT_LOOKBACK, ClientFactory, ProgressCallback, history_source
from ._sync import SyncReport, TableCounts, sync

__all__ = [
    "DATE_FIELDS",
    "DEFAULT_DATASET",
    "DEFAULT_LOOKBACK",
    "DEFAULT_URL",
    "RESOURCES",
    "ClientFactory",
    "DestinationError",
    "MissingExtraError",
    "ProgressCallback",
    "ResourceName",
    "SyncReport",
    "TableCounts",
    "Target",
    "history_source",
    "parse_destination",
    "sync",
]
