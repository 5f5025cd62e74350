"""``run_fleet()``: each account one Dask task, results as they come, a stop that is prompt."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from .._constants import FLEET_ACCOUNT_RETRIES, FLEET_MAX_RETRIES, FLEET_WAIT_POLL
from ._accounts import Account
from ._jobs import Job, plan
from ._results import AccountResult, FleetReport
from ._task import RunSettings, run_account

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["FleetStoppedError", "ProgressEvent", "run_fleet"]


class FleetStoppedError(Exception):
    """``run_fleet`` was stopped before every account finished."""


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """A worker's note on one account: ``what`` (a table, ``cdrs``, ``monitors``,
    ``started``, ``attempt failed``, ``finished``) and how far it got.

    Attributes:
        account: The account's name.
        what: The step: a table, ``cdrs``, ``monitors``, ``started``, ``attempt failed``
            or ``finished``.
        done: Rows or files done in that step so far.
        bytes: Bytes downloaded in that step so far (0 for a sync).
    """

    account: str
    what: str
    done: int
    bytes: int


def _progress_handler(on_progress: Callable[[ProgressEvent], None]) -> Callable[[Any], None]:
    def handle(event: Any) -> None:
        _, payload = event
        if isinstance(payload, Mapping):
            on_progress(
                ProgressEvent(
                    str(payload.get("account")),
                    str(payload.get("what")),
                    int(payload.get("done", 0)),
                    int(payload.get("bytes", 0)),
                )
            )

    return handle


def _first_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return text or type(exc).__name__


def run_fleet(
    client: Client,
    accounts: Sequence[Account],
    job: Job,
    *,
    retries: int = FLEET_ACCOUNT_RETRIES,
    timeout: float | None = None,
    max_retries: int = FLEET_MAX_RETRIES,
    redis_url: str | None = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    on_result: Callable[[AccountResult], None] | None = None,
    stop: threading.Event | None = None,
) -> FleetReport:
    """Run ``job`` for every account on the cluster of ``client``; blocks until done.

    Each account is one task (key ``voipstudio-<command>-<account>-<run>``) that reads
    the account's secret on the worker. A failure worth another attempt is retried
    ``retries`` times (a worker lost mid-account reruns it elsewhere, as Dask does);
    one account failing never stops the others. ``stop`` being set (or Ctrl-C,
    ``KeyboardInterrupt``) sets the run's Dask stop event, which every running account
    polls between pages and files, cancels what has not started, and raises.

    Args:
        client: a ``distributed.Client`` (synchronous).
        accounts: the accounts (``load_accounts``), names unique.
        job: a ``SyncJob`` or an ``ArchiveJob``.
        retries: attempts after the first for retryable failures.
        timeout: seconds one account may run (None: no limit).
        max_retries: the SDK client's retries of each request.
        redis_url: share each account's rate limit through this Redis (its key is the
            account's user id, as every other user of that account computes it).
        on_progress: called in the client's thread with each progress event.
        on_result: called with each account's result as it arrives.
        stop: set it (from another thread) to stop the run.

    Returns:
        Every account's result in the order of ``accounts``.

    Raises:
        FleetPlanError: a destination is bad or two accounts would share one.
        AccountsFileError: no accounts, or two share a name.
        FleetStoppedError: ``stop`` was set.
    """
    import distributed

    dask: Any = distributed  # untyped
    dask_client: Any = client
    plan(job, accounts)
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    if not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a whole number >= 0, got {retries!r}")
    settings = RunSettings(uuid.uuid4().hex[:12], timeout, max_retries, redis_url)
    started = time.monotonic()
    handler = None if on_progress is None else _progress_handler(on_progress)
    if handler is not None:
        dask_client.subscribe_topic(settings.topic, handler)
    stop_all = dask.Event(settings.stop_event, client=client)
    futures = {
        client.submit(
            run_account,
            account,
            job,
            settings,
            key=f"voipstudio-{job.command}-{account.name}-{settings.run_id}",
            retries=retries,
            pure=False,
        ): account.name
        for account in accounts
    }
    results: dict[str, AccountResult] = {}
    pending = set(futures)
    try:
        while pending:
            if stop is not None and stop.is_set():
                raise FleetStoppedError(f"stopped with {len(pending)} account(s) unfinished")
            # Polled, not waited on: distributed's wait() may overstay its timeout.
            done = {future for future in pending if cast(Any, future).done()}
            if not done:
                time.sleep(FLEET_WAIT_POLL)
                continue
            pending -= done
            for future in done:
                name = futures[future]
                try:
                    result: AccountResult = future.result()
                except Exception as exc:  # retries exhausted, or the worker died too often
                    result = AccountResult(name, "failed", error=_first_line(exc))
                results[name] = result
                if on_result is not None:
                    on_result(result)
    except BaseException:
        stop_all.set()
        dask_client.cancel(list(futures))
        raise
    finally:
        if handler is not None:
            dask_client.unsubscribe_topic(settings.topic)
    report = FleetReport(job.command, [results[a.name] for a in accounts])
    report.duration = time.monotonic() - started
    return report
