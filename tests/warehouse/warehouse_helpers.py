"""Shared checks: what a destination holds against what the fake holds."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio
from voipstudio_async.warehouse import RESOURCES, SyncReport, parse_destination, sync

Rows = Mapping[str, Sequence[Mapping[str, Any]]]
"""Per table, the loaded rows as dicts (``labels`` as a list)."""


def run_sync(
    url: str,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
    lookback: timedelta = timedelta(days=7),
    environ: Mapping[str, str] | None = None,
) -> SyncReport:
    return sync(
        parse_destination(url, environ),
        client_factory=factory,
        lookback=lookback,
        pipelines_dir=pipelines_dir,
    )


def counts(report: SyncReport) -> dict[str, tuple[int, int]]:
    return {name: (c.new, c.updated) for name, c in report.tables.items()}


def labels(value: Any) -> list[str]:
    """A ``labels`` cell as a list, whether the destination gives JSON text or a list."""
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value if value is not None else [])


def assert_matches_fake(rows: Rows, fake: FakeVoipStudio) -> None:
    """Every table holds each of the fake's rows exactly once, with current values."""
    for name in RESOURCES:
        expected = {r["id"]: r for r in fake.records(name)}  # type: ignore[arg-type]
        loaded = rows[name]
        ids = [row["id"] for row in loaded]
        assert len(ids) == len(set(ids)), f"{name}: duplicate ids"
        assert set(ids) == set(expected), f"{name}: id sets differ"
        by_id = {row["id"]: row for row in loaded}
        if name == "cdrs":
            for ident, record in expected.items():
                assert labels(by_id[ident]["labels"]) == list(record.get("labels") or [])
                assert by_id[ident]["info"] == record.get("info"), (
                    by_id[ident]["info"],
                    record.get("info"),
                )
        if name == "voicemessages":
            for ident, record in expected.items():
                assert by_id[ident]["folder"] == str(record["folder"])


def list_walks(fake: FakeVoipStudio, path: str) -> list[list[dict[str, Any]]]:
    """The ``filter`` of each logged ``GET path`` list request, decoded."""
    walks = []
    for request in fake.requests:
        if request.method == "GET" and request.path == path:
            query = parse_qs(urlsplit("?" + request.query).query)
            walks.append(json.loads(query["filter"][0]) if "filter" in query else [])
    return walks


STALLED_PAGE = 2
"""A stalled walk waits for this list request of the CDR walk (one page is in)."""


class Stall:
    """Holds the fake's answer to the ``STALLED_PAGE``-th ``GET /cdrs`` while armed."""

    def __init__(self) -> None:
        self.armed = False
        self.seen = 0
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self, method: str, path: str) -> None:
        if not self.armed or (method, path) != ("GET", "/cdrs"):
            return
        self.seen += 1
        if self.seen == STALLED_PAGE:
            self.reached.set()
            self.release.wait(60)

    def arm(self) -> None:
        self.seen = 0
        self.reached.clear()
        self.release.clear()
        self.armed = True

    def disarm(self) -> None:
        self.armed = False
        self.release.set()
