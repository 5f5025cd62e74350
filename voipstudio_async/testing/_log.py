"""The request log and the in-flight gauge that tests assert on."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

#: Headers whose values never reach the log.
SECRET_HEADERS = frozenset({b"authorization", b"x-auth-token", b"cookie", b"proxy-authorization"})


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the fake saw it. `status` is None when the connection was dropped.

    Attributes:
        method: The HTTP method.
        path: The path after the prefix, e.g. `/cdrs` or `/monitors/7.mp3`.
        query: The query string, as sent.
        raw_headers: The headers as sent (read `headers`, which redacts credentials).
        status: The status answered, or None when the connection was dropped.
        fault: The kind of fault rule that shaped the answer, if any.
    """

    method: str
    path: str
    query: str
    raw_headers: list[tuple[bytes, bytes]] = field(repr=False, compare=False)
    status: int | None
    fault: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Request headers with credentials replaced by `[redacted]`.

        Decoded when read, not per request: the log is read by tests, rarely.
        """
        return {
            k.decode("latin-1"): "[redacted]" if k in SECRET_HEADERS else v.decode("latin-1")
            for k, v in self.raw_headers
        }


class RequestLog:
    """The most recent requests (bounded) and the most ever handled at once."""

    def __init__(self, size: int) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0

    def begin(self) -> None:
        """A request started."""
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def end(self, entry: LoggedRequest) -> None:
        """A request finished (or was dropped)."""
        with self._lock:
            self.in_flight -= 1
            self._entries.append(entry)

    @property
    def entries(self) -> list[LoggedRequest]:
        """Logged requests, oldest first."""
        with self._lock:
            return list(self._entries)

    def reset(self) -> None:
        """Forget logged requests and restart the in-flight maximum from now."""
        with self._lock:
            self._entries.clear()
            self.max_in_flight = self.in_flight
