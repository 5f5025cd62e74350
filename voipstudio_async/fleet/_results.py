"""What a fleet reports: one ``AccountResult`` per account, and the whole ``FleetReport``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["AccountFailedError", "AccountResult", "FleetReport", "Status"]

Status = Literal["ok", "failed", "cancelled"]
"""How an account's run ended: completed, failed (after its retries) or cancelled."""


class AccountFailedError(Exception):
    """Raised by an account's task for a failure worth another attempt (a 5xx storm, a
    dropped connection, an unreachable destination), so Dask retries it.

    It carries the one-line description only: no cause, no credential.
    """


@dataclass(frozen=True, slots=True)
class AccountResult:
    """How one account's run ended.

    Attributes:
        account: The account's name.
        status: ``"ok"``, ``"failed"`` or ``"cancelled"``.
        rows: Rows loaded (sync: new plus changed) or CDRs exported (archive).
        files: Recordings and voicemails downloaded (archive; 0 for sync).
        bytes: The bytes of those files.
        duration: Seconds of the last attempt.
        error: Why it failed, in one line that never holds a secret (None when ok).
        destination: Where it loaded or archived (no password).
    """

    account: str
    status: Status
    rows: int = 0
    files: int = 0
    bytes: int = 0
    duration: float = 0.0
    error: str | None = None
    destination: str = ""

    @property
    def ok(self) -> bool:
        """Whether the account completed."""
        return self.status == "ok"


@dataclass(slots=True)
class FleetReport:
    """Every account's result, in the accounts' order, and the fleet's wall-clock time.

    Attributes:
        command: ``"sync"`` or ``"archive"``.
        results: One ``AccountResult`` per account, in the accounts' order.
        duration: The fleet's wall-clock seconds.
    """

    command: str
    results: list[AccountResult] = field(default_factory=list)
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether every account completed."""
        return bool(self.results) and all(result.ok for result in self.results)

    def to_json(self) -> dict[str, Any]:
        """The summary ``--summary-json`` writes.

        Returns:
            ``command``, ``ok``, ``duration`` and one mapping per account, JSON-ready.
        """
        return {
            "command": self.command,
            "ok": self.ok,
            "duration": round(self.duration, 3),
            "accounts": [
                {**asdict(result), "duration": round(result.duration, 3)} for result in self.results
            ],
        }
