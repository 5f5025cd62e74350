"""Changes on the server after an archive: moving voicemails and purging archived items.

Both act only on items whose file this run verified: downloaded (hashed while it
streamed) or skipped (its manifest entry re-hashed). The purge verifies each file once
more right before the DELETE (``FetchReport.recheck``: on disk re-hashed, on S3 its size
and stored checksum). A dry run sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._bulk import BulkResult
from .._client import VoipStudio
from ._media import FetchReport, describe_error

__all__ = [
    "WriteReport",
    "apply_delete",
    "apply_move",
    "collect",
    "plan_delete",
    "plan_move",
    "split_verified",
]


@dataclass(slots=True)
class WriteReport:
    """What a move or purge did (or, in a dry run, would do)."""

    label: str
    singular: str
    planned: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    """Items left alone because their file is not verified in the manifest."""
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def split_verified(report: FetchReport) -> tuple[list[int], list[int]]:
    """The period's ids whose file the run verified (downloaded or skipped), and the others."""
    archived = {*report.downloaded, *report.skipped}
    verified = [i for i in report.listed if i in archived]
    unverified = [i for i in report.listed if i not in archived]
    return verified, unverified


def collect(report: WriteReport, result: BulkResult[None]) -> None:
    """Sort a bulk result's outcomes into ``done`` and ``failed`` (with reasons)."""
    for outcome in result:
        if outcome.ok:
            report.done.append(outcome.id)
        else:
            error = outcome.error
            report.failed[outcome.id] = describe_error(error) if error else "failed"


def plan_move(fetched: FetchReport, folder: str) -> WriteReport:
    """Verified voicemails of the period that are not in ``folder`` yet."""
    verified, unverified = split_verified(fetched)
    planned = [i for i in verified if str(fetched.listed[i].get("folder")) != folder]
    return WriteReport(fetched.kind.label, fetched.kind.singular, planned=planned, kept=unverified)


async def apply_move(vs: VoipStudio, plan: WriteReport, folder: str) -> None:
    """PATCH the planned voicemails into ``folder``."""
    if plan.planned:
        collect(plan, await vs.voicemessages.move(plan.planned, folder=folder))


def plan_delete(fetched: FetchReport) -> WriteReport:
    """Verified items of the period: the only ones a purge may delete."""
    verified, unverified = split_verified(fetched)
    return WriteReport(fetched.kind.label, fetched.kind.singular, planned=verified, kept=unverified)


async def apply_delete(vs: VoipStudio, fetched: FetchReport, plan: WriteReport) -> None:
    """DELETE the planned items, after verifying each file once more."""
    # The files could have changed while the user read the confirmation prompt.
    still = await fetched.recheck(plan.planned)
    verified = set(still)
    plan.kept.extend(item_id for item_id in plan.planned if item_id not in verified)
    plan.planned = still
    if still:
        collect(plan, await fetched.kind.resource(vs).delete(still))
