"""Fault rules: which requests misbehave, and how."""

from __future__ import annotations

import fnmatch
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["status", "latency", "drop", "truncate", "drip"]


@dataclass
class Fault:
    """One rule. It applies to requests whose method and path (after the prefix) match.

    `path` is a glob (`/monitors/*.mp3`) or a compiled regex (searched). With
    `times`, only the first `times` matching requests are hit; with
    `probability`, each matching request is hit with that chance (seeded RNG).

    Attributes:
        kind: What the rule does: `status`, `latency`, `drop`, `truncate` or `drip`.
        path: The glob or regex matched against the path after the prefix.
        method: The HTTP method matched (`*` for any).
        times: Hit only the first `times` matching requests (None: all).
        probability: Hit each matching request with this chance (None: always).
        status: The status a `status` rule answers with.
        retry_after: The `Retry-After` value a `status` rule sends, if any.
        message: The error body's message of a `status` rule.
        delay: Seconds a `latency` rule adds.
        after_bytes: Bytes a `truncate` rule sends before it stops (None: half).
        chunk_size: Bytes per chunk of a `drip` rule.
        interval: Seconds between the chunks of a `drip` rule.
        hits: Requests the rule has hit so far.
    """

    kind: FaultKind
    path: str | re.Pattern[str] = "*"
    method: str = "*"
    times: int | None = None
    probability: float | None = None
    status: int = 503
    retry_after: str | None = None
    message: str = "Service unavailable"
    delay: float = 0.0
    after_bytes: int | None = None
    chunk_size: int = 1024
    interval: float = 0.01
    hits: int = field(default=0, init=False)

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule's method and path patterns cover this request.

        Args:
            method: The request's method, upper case.
            path: The request's path after the prefix.

        Returns:
            True when both patterns match.
        """
        if self.method != "*" and self.method.upper() != method:
            return False
        if isinstance(self.path, re.Pattern):
            return self.path.search(path) is not None
        return fnmatch.fnmatchcase(path, self.path)


class FaultSet:
    """The active rules; latency rules add up, the first other rule that fires wins."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"{seed}:faults")
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        """Activate a rule and return it (its `hits` count is live)."""
        with self._lock:
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        """Deactivate every rule."""
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[Fault]:
        """The active rules, oldest first."""
        return list(self._rules)

    def pick(self, method: str, path: str) -> tuple[float, Fault | None]:
        """Total added latency and the fault that shapes the answer, for one request."""
        if not self._rules:
            return 0.0, None
        delay, chosen = 0.0, None
        with self._lock:
            for rule in self._rules:
                if (rule.kind != "latency" and chosen is not None) or not rule.matches(
                    method, path
                ):
                    continue
                if rule.times is not None and rule.hits >= rule.times:
                    continue
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                rule.hits += 1
                if rule.kind == "latency":
                    delay += rule.delay
                else:
                    chosen = rule
        return delay, chosen
