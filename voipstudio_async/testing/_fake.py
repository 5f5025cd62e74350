"""`FakeVoipStudio`: the public face of the fake server."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

import httpx

from ._app import FakeApp, Hook
from ._auth import DEFAULT_EMAIL, TOKEN_TTL, Authenticator, Credentials
from ._blobs import Download, sha256_of
from ._data import CALLTRACKING_NUMBERS, Kind, Record
from ._faults import Fault, FaultSet
from ._log import LoggedRequest, RequestLog
from ._ratelimit import ServerRateLimit
from ._state import Body, State

PathPattern = str | re.Pattern[str]
#: Collections plus the two that are only ever deleted through the API.
Countable = Kind | Literal["chatmsgs", "statements"]


class FakeVoipStudio:
    """A stateful, in-memory VoIPstudio History server for tests, demos and benchmarks.

    The same seed and sizes always give the same records. Use `transport()` for
    an in-process `httpx` transport, or serve `app` on loopback (see
    `serve_in_thread`). Paths in faults, hooks and the log are relative to the
    prefix (`/cdrs`, `/monitors/7.mp3`).

    Args:
        seed: Seeds every generated record (same seed and sizes, same data).
        cdrs: CDRs in the account.
        calltracking: Call-tracking CDRs (default: one for every 20 CDRs).
        monitors: Call recordings.
        msdrs: Media-session records.
        chats: Chats.
        chatmsgs: Chat messages (default: five per chat).
        voicemessages: Voicemails.
        statements: Statements.
        users: Users of the account.
        prefix: The API's path prefix.
        host: The host name of `base_url` (in process it is never resolved).
        ranges: Whether downloads honour `Range` requests.
        two_factor_code: The code `POST /login2fa` accepts; None: no two-factor step.
        email: The e-mail address that signs in with the password.
        clock: The clock tokens and rate limits read (a fake clock in tests).
        token_ttl: Seconds a session token lives.
        default_limit: The page size when a request gives no `limit`.
        log_size: Requests kept in `requests`.
    """

    def __init__(
        self,
        seed: int = 0,
        *,
        cdrs: int = 10_000,
        calltracking: int | None = None,
        monitors: int = 500,
        msdrs: int = 1_000,
        chats: int = 100,
        chatmsgs: int | None = None,
        voicemessages: int = 200,
        statements: int = 24,
        users: int = 5,
        prefix: str = "/v1.1/voipstudio",
        host: str = "fake",
        ranges: bool = False,
        two_factor_code: str | None = None,
        email: str = DEFAULT_EMAIL,
        clock: Callable[[], float] = time.monotonic,
        token_ttl: float = TOKEN_TTL,
        default_limit: int = 100,
        log_size: int = 10_000,
    ) -> None:
        sizes: dict[Kind, int] = {
            "cdrs": cdrs,
            "calltracking": cdrs // 20 if calltracking is None else calltracking,
            "calltracking_numbers": CALLTRACKING_NUMBERS,
            "monitors": monitors,
            "msdrs": msdrs,
            "chats": chats,
            "voicemessages": voicemessages,
        }
        self.seed = seed
        self._clock = clock
        self._offset = 0.0
        self._state = State(
            seed, sizes, users, chats * 5 if chatmsgs is None else chatmsgs, statements
        )
        self._auth = Authenticator(
            seed, self._state.account.user_ids[0], self.now, token_ttl, two_factor_code, email
        )
        self._faults = FaultSet(seed)
        self._log = RequestLog(log_size)
        self.app = FakeApp(self._state, self._auth, self._faults, self._log, prefix, default_limit)
        self.app.ranges = ranges
        self.prefix = self.app.prefix
        self.base_url = f"http://{host}{self.prefix}"

    # -- running ---------------------------------------------------------------------------

    def transport(self) -> httpx.ASGITransport:
        """An in-process transport: `AsyncClient(transport=..., base_url=fake.base_url)`.

        Returns:
            An `httpx.ASGITransport` over the fake's app (nothing listens on a port).
        """
        return httpx.ASGITransport(app=self.app)

    @property
    def ranges(self) -> bool:
        """Whether downloads advertise `Accept-Ranges: bytes` and answer `Range` with 206."""
        return self.app.ranges

    @ranges.setter
    def ranges(self, value: bool) -> None:
        self.app.ranges = value

    # -- auth and clock --------------------------------------------------------------------

    @property
    def credentials(self) -> Credentials:
        """`user_id`, `api_key`, `email` and `password` the fake accepts."""
        return self._auth.credentials

    @property
    def user_ids(self) -> list[int]:
        """The account's user ids (the first one signs in with the API key)."""
        return list(self._state.account.user_ids)

    def issued(self, token: str) -> bool:
        """Whether ``token`` is a live session token from this fake's ``POST /login``.

        Args:
            token: The token to check.

        Returns:
            True while the token is issued and unexpired.
        """
        return self._auth.issued(token)

    @property
    def login_count(self) -> int:
        """How many `POST /login` requests were answered."""
        return self._auth.login_count

    @property
    def login2fa_count(self) -> int:
        """How many `POST /login2fa` requests were answered."""
        return self._auth.login2fa_count

    @property
    def two_factor_code(self) -> str | None:
        """The code `POST /login2fa` accepts; None turns two-factor sign-in off."""
        return self._auth.two_factor_code

    @two_factor_code.setter
    def two_factor_code(self, code: str | None) -> None:
        self._auth.two_factor_code = code

    def now(self) -> float:
        """The fake's clock: the injected clock plus everything `advance()` added.

        Returns:
            Seconds on the fake's clock.
        """
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward, e.g. past the 30-minute token expiry.

        Args:
            seconds: How far.
        """
        self._offset += seconds

    def expire_tokens(self) -> None:
        """Invalidate every session token from `POST /login`."""
        self._auth.expire_tokens()

    # -- data ------------------------------------------------------------------------------

    def count(self, kind: Countable) -> int:
        """Rows in a collection (also `chatmsgs` and `statements`).

        Args:
            kind: The collection, e.g. `"cdrs"`.

        Returns:
            The number of rows.
        """
        return len(self.ids(kind))

    def ids(self, kind: Countable) -> list[int]:
        """Ids of a collection in ascending order (also `chatmsgs` and `statements`).

        Args:
            kind: The collection, e.g. `"monitors"`.

        Returns:
            The ids.
        """
        with self._state.lock:
            if kind == "chatmsgs":
                return sorted(self._state.chatmsgs)
            if kind == "statements":
                return sorted(self._state.statements)
            return self._state.collections[kind].ids()

    def get(self, kind: Kind, ident: int) -> Record | None:
        """A copy of one row, or None.

        Args:
            kind: The collection.
            ident: The row's id.

        Returns:
            The row as the API would send it, or None when there is none.
        """
        row = self._state.collections[kind].get(ident)
        return dict(row) if row is not None else None

    def records(self, kind: Kind) -> list[Record]:
        """Copies of every row, by ascending id.

        Args:
            kind: The collection.

        Returns:
            The rows.
        """
        coll = self._state.collections[kind]
        with self._state.lock:
            return [dict(coll.get(i) or {}) for i in coll.ids()]

    def insert(self, kind: Kind, n: int = 1, **fields: Any) -> list[int]:
        """Add `n` generated rows (with `fields` overriding generated values); returns their ids.

        Args:
            kind: The collection.
            n: How many rows.
            **fields: Values that replace the generated ones, by API field name.

        Returns:
            The new rows' ids.
        """
        return self._state.insert(kind, n, **fields)

    def delete(self, kind: Kind, ids: Iterable[int]) -> int:
        """Remove rows directly (not through the API); returns how many existed.

        Args:
            kind: The collection.
            ids: The rows to remove.

        Returns:
            How many of them existed.
        """
        return self._state.collections[kind].delete(ids)

    def insert_cdrs(self, n: int = 1, **fields: Any) -> list[int]:
        """Add `n` CDRs, newest ids last.

        Args:
            n: How many CDRs.
            **fields: Values that replace the generated ones, by API field name.

        Returns:
            The new CDRs' ids.
        """
        return self.insert("cdrs", n, **fields)

    def delete_cdrs(self, ids: Iterable[int]) -> int:
        """Remove CDRs directly; returns how many existed.

        Args:
            ids: The CDRs to remove.

        Returns:
            How many of them existed.
        """
        return self.delete("cdrs", ids)

    def add_monitor(self, size: int | None = None, **fields: Any) -> int:
        """Add one recording (e.g. a 200 MB one) and return its id.

        Args:
            size: Bytes of its MP3 (None: a generated size).
            **fields: Values that replace the generated ones, by API field name.

        Returns:
            The recording's id.
        """
        if size is not None:
            fields["size"] = size
        return self.insert("monitors", 1, **fields)[0]

    def add_voicemessage(self, size: int | None = None, **fields: Any) -> int:
        """Add one voicemessage, optionally with an MP3 of `size` bytes, and return its id.

        Args:
            size: Bytes of its MP3 (None: a generated size).
            **fields: Values that replace the generated ones, by API field name.

        Returns:
            The voicemessage's id.
        """
        ident = self.insert("voicemessages", 1, **fields)[0]
        if size is not None:
            self._state.set_voicemessage_size(ident, size)
        return ident

    def on_request(self, hook: Hook) -> Callable[[], None]:
        """Call `hook(method, path)` before each request is handled; returns an unsubscribe.

        Args:
            hook: Called with the method and the path after the prefix.

        Returns:
            A function that removes the hook.
        """
        self.app.hooks.append(hook)
        return lambda: self.app.hooks.remove(hook)

    # -- expected downloads ----------------------------------------------------------------

    def _body(self, kind: Download, ident: int) -> Body:
        body = self._state.body(kind, ident)
        if body is None:
            raise KeyError(f"no {kind} for id {ident}")
        return body

    def expected_size(self, kind: Download, ident: int) -> int:
        """Bytes the download `kind` (e.g. `"monitor_mp3"`) of record `ident` serves.

        Args:
            kind: The download, e.g. `"monitor_mp3"` or `"voicemessage_mp3"`.
            ident: The record's id.

        Returns:
            The size in bytes.

        Raises:
            KeyError: The fake has no such download for that id.
        """
        return self._body(kind, ident).size

    def iter_expected(self, kind: Download, ident: int) -> Iterator[bytes]:
        """The bytes of a download in chunks, without holding a big body in memory.

        Args:
            kind: The download, e.g. `"monitor_mp3"` or `"voicemessage_mp3"`.
            ident: The record's id.

        Yields:
            The body's bytes, in order.

        Raises:
            KeyError: The fake has no such download for that id.
        """
        body = self._body(kind, ident)
        return body.chunks(0, body.size)

    def expected_bytes(self, kind: Download, ident: int) -> bytes:
        """The whole body of a download (use `expected_sha256` for big ones).

        Args:
            kind: The download, e.g. `"monitor_mp3"` or `"voicemessage_mp3"`.
            ident: The record's id.

        Returns:
            The body.

        Raises:
            KeyError: The fake has no such download for that id.
        """
        return b"".join(self.iter_expected(kind, ident))

    def expected_sha256(self, kind: Download, ident: int) -> str:
        """Hex SHA-256 of a download's body.

        Args:
            kind: The download, e.g. `"monitor_mp3"` or `"voicemessage_mp3"`.
            ident: The record's id.

        Returns:
            The hex digest.

        Raises:
            KeyError: The fake has no such download for that id.
        """
        return sha256_of(self.iter_expected(kind, ident))

    # -- faults ----------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> Fault:
        """Activate a fault rule; its `hits` count how often it fired.

        Args:
            fault: The rule.

        Returns:
            The same rule.
        """
        return self._faults.add(fault)

    def fail(
        self,
        path: PathPattern = "*",
        status: int = 503,
        *,
        method: str = "*",
        times: int | None = None,
        probability: float | None = None,
        retry_after: str | int | None = None,
        message: str = "Service unavailable",
    ) -> Fault:
        """Answer matching requests with `status` (and `Retry-After` if given).

        Args:
            path: The glob (`/cdrs/*`) or compiled regex matched against the path.
            status: The status to answer with.
            method: The HTTP method to match (`*`: any).
            times: Hit only the first `times` matching requests (None: all).
            probability: Hit each matching request with this chance (None: always).
            retry_after: The `Retry-After` header to send, if any.
            message: The error body's message.

        Returns:
            The rule; its `hits` are live.
        """
        return self.add_fault(
            Fault(
                "status",
                path,
                method,
                times,
                probability,
                status=status,
                retry_after=None if retry_after is None else str(retry_after),
                message=message,
            )
        )

    def add_latency(
        self,
        path: PathPattern = "*",
        seconds: float = 0.1,
        *,
        method: str = "*",
        times: int | None = None,
        probability: float | None = None,
    ) -> Fault:
        """Delay matching requests before they are handled.

        Args:
            path: The glob (`/cdrs/*`) or compiled regex matched against the path.
            seconds: The delay.
            method: The HTTP method to match (`*`: any).
            times: Hit only the first `times` matching requests (None: all).
            probability: Hit each matching request with this chance (None: always).

        Returns:
            The rule; its `hits` are live.
        """
        return self.add_fault(Fault("latency", path, method, times, probability, delay=seconds))

    def drop_connection(
        self,
        path: PathPattern = "*",
        *,
        method: str = "*",
        times: int | None = None,
        probability: float | None = None,
    ) -> Fault:
        """Close the connection without answering (in process: raise `RemoteProtocolError`).

        Args:
            path: The glob (`/cdrs/*`) or compiled regex matched against the path.
            method: The HTTP method to match (`*`: any).
            times: Hit only the first `times` matching requests (None: all).
            probability: Hit each matching request with this chance (None: always).

        Returns:
            The rule; its `hits` are live.
        """
        return self.add_fault(Fault("drop", path, method, times, probability))

    def cut_body(
        self,
        path: PathPattern = "*",
        after_bytes: int | None = None,
        *,
        method: str = "*",
        times: int | None = None,
        probability: float | None = None,
    ) -> Fault:
        """Announce the full `Content-Length`, send `after_bytes` (default half), then stop.

        Args:
            path: The glob (`/cdrs/*`) or compiled regex matched against the path.
            after_bytes: Bytes sent before the body stops (None: half).
            method: The HTTP method to match (`*`: any).
            times: Hit only the first `times` matching requests (None: all).
            probability: Hit each matching request with this chance (None: always).

        Returns:
            The rule; its `hits` are live.
        """
        return self.add_fault(
            Fault("truncate", path, method, times, probability, after_bytes=after_bytes)
        )

    def drip(
        self,
        path: PathPattern = "*",
        chunk_size: int = 1024,
        interval: float = 0.01,
        *,
        method: str = "*",
        times: int | None = None,
        probability: float | None = None,
    ) -> Fault:
        """Send the body slowly: `chunk_size` bytes every `interval` seconds.

        Args:
            path: The glob (`/cdrs/*`) or compiled regex matched against the path.
            chunk_size: Bytes per chunk.
            interval: Seconds between chunks.
            method: The HTTP method to match (`*`: any).
            times: Hit only the first `times` matching requests (None: all).
            probability: Hit each matching request with this chance (None: always).

        Returns:
            The rule; its `hits` are live.
        """
        return self.add_fault(
            Fault(
                "drip",
                path,
                method,
                times,
                probability,
                chunk_size=chunk_size,
                interval=interval,
            )
        )

    @property
    def faults(self) -> list[Fault]:
        """The active fault rules."""
        return self._faults.rules

    def rate_limit(
        self,
        requests_per_second: float | None,
        *,
        burst: int | None = None,
        retry_after: bool = True,
    ) -> ServerRateLimit | None:
        """Answer 429 beyond ``requests_per_second`` (bucket of ``burst``, default one
        second's worth), with or without ``Retry-After``; ``None`` lifts the limit.

        Args:
            requests_per_second: The rate the fake serves; None lifts the limit.
            burst: Requests allowed at once (None: one second's worth).
            retry_after: Whether a 429 carries `Retry-After`.

        Returns:
            The limit, whose ``admitted``/``refused`` counts are live (None when lifted).
        """
        limit = (
            None
            if requests_per_second is None
            else ServerRateLimit(requests_per_second, burst=burst, retry_after=retry_after)
        )
        self.app.rate_limit = limit
        return limit

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._faults.clear()

    # -- request log -----------------------------------------------------------------------

    @property
    def requests(self) -> list[LoggedRequest]:
        """Requests handled so far (credentials redacted), oldest first."""
        return self._log.entries

    @property
    def max_in_flight(self) -> int:
        """The most requests handled at the same time since the last `reset_log()`.

        In process, requests overlap only while the app awaits, so add latency
        (`add_latency`) to observe a client's concurrency.
        """
        return self._log.max_in_flight

    @property
    def in_flight(self) -> int:
        """Requests being handled right now."""
        return self._log.in_flight

    def reset_log(self) -> None:
        """Forget logged requests, the in-flight maximum and the login counters."""
        self._log.reset()
        self._auth.login_count = 0
        self._auth.login2fa_count = 0
