"""One account's run, on a Dask worker: read its secret there, sync or archive, report.

Failures worth another attempt (5xx storms, dropped connections, an unreachable
destination) raise ``AccountFailedError`` so Dask retries the task; the others (refused
credentials, a missing secret, a bad request, the per-account timeout, the fleet being
stopped) are returned as a failed ``AccountResult`` at once. Progress goes to the
fleet's Dask event topic; nothing sent holds a secret.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import time
from collections.abc import Coroutine
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._client import VoipStudio
from .._constants import FLEET_MAX_RETRIES, FLEET_PROGRESS_EVERY, FLEET_STOP_POLL
from .._errors import (
    AuthenticationError,
    BadRequestError,
    PermissionDeniedError,
    TwoFactorRequiredError,
    VoipStudioError,
)
from .._policies.ratelimit import RateLimit
from ._accounts import Account, SecretUnavailableError
from ._jobs import ArchiveJob, Job, SyncJob
from ._results import AccountFailedError, AccountResult

__all__ = ["RunSettings", "StopRequested", "run_account"]


@dataclass(frozen=True, slots=True)
class RunSettings:
    """What every account's task shares (no secret: ``redis_url`` must not hold one).

    Args:
        run_id: The run's id: names its progress topic and stop event.
        timeout: Seconds one account may run (None: no limit).
        max_retries: The client's ``max_retries`` on the worker.
        redis_url: A Redis URL the accounts' rate limiters share (None: each its own).
    """

    run_id: str
    timeout: float | None = None
    max_retries: int = FLEET_MAX_RETRIES
    redis_url: str | None = None

    @property
    def topic(self) -> str:
        """The Dask event topic of the run's progress."""
        return f"voipstudio-fleet-{self.run_id}"

    @property
    def stop_event(self) -> str:
        """The name of the ``distributed.Event`` that stops the run."""
        return f"voipstudio-fleet-stop-{self.run_id}"


class StopRequested(Exception):
    """The fleet was stopped, or the account ran past its timeout."""


class _Watch:
    """The account's deadline and the fleet's stop event, polled from the work's threads."""

    def __init__(self, settings: RunSettings, account: str) -> None:
        self._settings = settings
        self._account = account
        self._deadline = None if settings.timeout is None else time.monotonic() + settings.timeout
        self._lock = threading.Lock()
        self._checked = 0.0
        self._stopped = False
        self._sent: dict[str, float] = {}
        self._event: Any = None
        self._worker: Any = None
        try:
            import distributed

            dask: Any = distributed  # untyped
            self._worker = dask.get_worker()
            self._event = dask.Event(settings.stop_event)
        except (ImportError, ValueError):  # not on a Dask worker (run in process)
            pass

    def check(self) -> None:
        """Raise ``StopRequested`` past the deadline or once the fleet is stopped."""
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise StopRequested(f"timed out after {self._settings.timeout:g} s")
        now = time.monotonic()
        with self._lock:
            if self._event is not None and now - self._checked >= FLEET_STOP_POLL:
                self._checked = now
                self._stopped = self._stopped or bool(self._event.is_set())
            if self._stopped:
                raise StopRequested("stopped")

    def progress(self, what: str, done: int, nbytes: int = 0, *, final: bool = False) -> None:
        """Send a progress event at most once a second per ``what`` (and the final one)."""
        if self._worker is None:
            return
        now = time.monotonic()
        with self._lock:
            if not final and now - self._sent.get(what, 0.0) < FLEET_PROGRESS_EVERY:
                return
            self._sent[what] = now
        self._worker.log_event(
            self._settings.topic,
            {"account": self._account, "what": what, "done": done, "bytes": nbytes},
        )


def _client(account: Account, settings: RunSettings) -> VoipStudio:
    limit = RateLimit(redis_url=settings.redis_url) if settings.redis_url else None
    options: dict[str, Any] = {"max_retries": settings.max_retries}
    if limit is not None:
        options["rate_limit"] = limit
    return account.client(**options)


def _sync(account: Account, job: SyncJob, settings: RunSettings, watch: _Watch) -> AccountResult:
    from ..warehouse import DestinationError, parse_destination, sync

    # As voipstudio sync: dlt neither phones home nor logs below errors in the workers' logs.
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    target = parse_destination(job.destination_for(account.name))
    if target.kind == "duckdb":  # lake/{account}.duckdb: the folder is the fleet's to make
        Path(target.location).parent.mkdir(parents=True, exist_ok=True)
    totals: dict[str, int] = {}

    def advance(table: str, new: int, updated: int) -> None:
        watch.check()  # raising here stops dlt's extract; nothing half-loaded is committed
        totals[table] = totals.get(table, 0) + new + updated
        watch.progress(table, totals[table])

    try:
        report = sync(
            target,
            client_factory=lambda: _client(account, settings),
            resources=job.resources,
            lookback=job.lookback,
            dataset=job.dataset_for(account.name),
            pipelines_dir=job.pipelines_dir,
            on_progress=advance,
            account=account.name,
        )
    except DestinationError as exc:
        raise AccountFailedError(f"{target.display}: {exc}") from None
    for table, counts in report.tables.items():
        watch.progress(table, counts.new + counts.updated, final=True)
    rows = sum(counts.new + counts.updated for counts in report.tables.values())
    return AccountResult(account.name, "ok", rows=rows, destination=target.display)


class _Counter:
    """The archive's progress ``Task``: counts items and bytes, and polls the watch."""

    def __init__(self, label: str, watch: _Watch) -> None:
        self.label = label
        self.items = 0
        self.bytes = 0
        self._watch = watch

    def advance(self, items: int = 1, nbytes: int = 0) -> None:
        self.items += items
        self.bytes += nbytes
        self._watch.progress(self.label, self.items, self.bytes)

    def set_total(self, total: int | None) -> None:
        pass


async def _archive_async(
    account: Account, job: ArchiveJob, settings: RunSettings, watch: _Watch
) -> AccountResult:
    from ..cli._commands import _below, _destination, _fetch, prepare_archive
    from ..cli._export import export_cdrs
    from ..cli._media import MONITORS, VOICEMESSAGES
    from ..cli._query import build_filters

    args = argparse.Namespace(s3_endpoint_url=job.s3_endpoint_url, concurrency=job.concurrency)
    async with AsyncExitStack() as stack:
        vs = await stack.enter_async_context(_client(account, settings))
        dest = await _destination(stack, args, job.destination_for(account.name), is_object=False)
        output = _below(dest, f"cdrs.{job.cdrs_format}")
        prepare_archive(dest, output)
        cdrs = _Counter("cdrs", watch)
        rows = await export_cdrs(
            vs,
            filters=build_filters("cdrs", since=job.since, until=job.until),
            fmt=job.cdrs_format,
            output=output,
            task=cdrs,
            formula_guard=job.formula_guard,
        )
        files = nbytes = 0
        failed: list[str] = []
        for kind in (MONITORS, VOICEMESSAGES):
            counter = _Counter(kind.collection, watch)
            report = await _fetch(
                vs,
                kind,
                build_filters(kind.collection, since=job.since, until=job.until),
                _below(dest, kind.collection),
                job.concurrency,
                counter,
            )
            files += len(report.downloaded)
            nbytes += report.bytes_downloaded
            failed += [f"{kind.singular} {i}: {why}" for i, why in report.failed.items()]
    if failed:
        raise AccountFailedError(f"{len(failed)} download(s) failed, first: {failed[0]}")
    return AccountResult(
        account.name, "ok", rows=rows, files=files, bytes=nbytes, destination=str(dest)
    )


def _run_async(main: Coroutine[Any, Any, AccountResult], watch: _Watch) -> AccountResult:
    """Run ``main`` in a loop of this thread, cancelled when the watch says stop."""

    async def guarded() -> AccountResult:
        work = asyncio.ensure_future(main)
        while not work.done():
            await asyncio.wait({work}, timeout=FLEET_STOP_POLL / 2)
            try:
                watch.check()
            except StopRequested:
                work.cancel()
                with suppress(asyncio.CancelledError):
                    await work
                raise
        return work.result()

    return asyncio.run(guarded())


def _failure(exc: BaseException) -> tuple[str, bool]:
    """The one-line description of ``exc`` and whether another attempt may succeed."""
    from ..cli._errors import UserError

    if isinstance(exc, StopRequested):
        return str(exc), False
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        return f"the API refused the credentials: {exc}", False
    if isinstance(exc, TwoFactorRequiredError):
        return "the account needs two-factor sign-in: give it an API key or a token", False
    if isinstance(exc, BadRequestError):
        return f"the API rejected the request: {exc}", False
    if isinstance(exc, SecretUnavailableError | UserError | ValueError):
        return str(exc), False
    if isinstance(exc, AccountFailedError):
        return str(exc), True
    if isinstance(exc, VoipStudioError):
        return f"API error: {exc}", True
    if isinstance(exc, OSError):
        from ..cli._media import describe_error

        return describe_error(exc), True
    return f"{type(exc).__name__}: {exc}", True


def run_account(account: Account, job: Job, settings: RunSettings) -> AccountResult:
    """Run ``job`` for ``account`` here (a Dask worker), its secret read here.

    Args:
        account: the account (names only).
        job: the sync or archive to run.
        settings: the run's id, per-account timeout, retries and Redis URL.

    Returns:
        The account's result; a failure no retry can fix is returned with status
        ``"failed"`` (``"cancelled"`` when the fleet was stopped).

    Raises:
        AccountFailedError: a failure another attempt may fix (Dask retries the task).
    """
    started = time.monotonic()
    watch = _Watch(settings, account.name)
    watch.progress("started", 0, final=True)
    outcome: AccountResult | None = None
    retry: str | None = None
    try:
        if isinstance(job, SyncJob):
            outcome = _sync(account, job, settings, watch)
        else:
            outcome = _run_async(_archive_async(account, job, settings, watch), watch)
    except Exception as exc:  # every failure becomes one line; none escapes with its cause
        message, retryable = _failure(exc)
        if retryable:
            retry = message
        else:
            cancelled = isinstance(exc, StopRequested) and message == "stopped"
            outcome = AccountResult(
                account.name, "cancelled" if cancelled else "failed", error=message
            )
    duration = time.monotonic() - started
    if retry is not None:
        # Raised outside the except block, so no secret-bearing cause travels with it.
        watch.progress("attempt failed", 0, final=True)
        raise AccountFailedError(retry)
    assert outcome is not None
    watch.progress("finished", outcome.rows, outcome.bytes, final=True)
    return AccountResult(
        outcome.account,
        outcome.status,
        outcome.rows,
        outcome.files,
        outcome.bytes,
        duration,
        outcome.error,
        outcome.destination,
    )
