"""Many fake accounts behind one server, told apart by their credentials like the real API.

``FakeAccounts(n)`` builds ``n`` ``FakeVoipStudio`` accounts (``account001`` ...), each
with its own seed, user ids, API key, email and a data set of its own size; the same
``seed`` always gives the same accounts, and account ``k`` does not change with ``n``.
Its ``app`` picks the account a request belongs to from its Basic user id, its
``X-Auth-Token`` or (``POST /login``) its email, and hands the request to that account's
app; anything else goes to the first account, whose answer is then the 401 a wrong
credential gets. ``write_accounts_file`` writes the matching accounts file for
``voipstudio fleet`` with one secrets file per account.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import random
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

from ._app import Message, Receive, Scope, Send
from ._fake import FakeVoipStudio

__all__ = ["FakeAccounts", "account_name"]


def account_name(index: int) -> str:
    """The name of the fake's account ``index`` (from 1): ``account001``."""
    return f"account{index:03d}"


def _account(seed: int, index: int, candidate: int, prefix: str, host: str) -> FakeVoipStudio:
    """Each account a history of its own size, small enough for hundreds of them."""
    rng = random.Random(f"{seed}:fleet:{index}")
    return FakeVoipStudio(
        candidate,
        cdrs=rng.randrange(200, 800),
        monitors=rng.randrange(2, 6),
        voicemessages=rng.randrange(1, 4),
        msdrs=rng.randrange(10, 40),
        chats=rng.randrange(2, 6),
        users=3,
        prefix=prefix,
        host=host,
        email=f"{account_name(index)}@example.com",
    )


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class FakeAccounts:
    """``n`` fake accounts served by one ASGI ``app`` (see the module docstring).

    Args:
        n: How many accounts (1 or more): ``account001`` to ``account<n>``.
        seed: Seeds every account (the same seed always gives the same accounts).
        prefix: The API's path prefix, for every account.
        host: The host name of ``base_url`` (in process it is never resolved).
        latency: Seconds added to every answer of every account (None: none).

    Attributes:
        accounts: Each account's ``FakeVoipStudio``, by name (``account001`` ...).
        connections: The open connections of the served app, which ``drop`` faults
            close (one table for every account).
        prefix: The API's path prefix.
        base_url: The base URL a client of any account uses in process.

    Raises:
        ValueError: ``n`` is not a whole number of at least 1.
    """

    def __init__(
        self,
        n: int,
        *,
        seed: int = 0,
        prefix: str = "/v1.1/voipstudio",
        host: str = "fake",
        latency: float | None = None,
    ) -> None:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a whole number >= 1, got {n!r}")
        self.accounts: dict[str, FakeVoipStudio] = {}
        self._by_user: dict[int, FakeVoipStudio] = {}
        self._by_email: dict[str, FakeVoipStudio] = {}
        taken: set[int] = set()
        candidate = seed * 1_000_003
        for index in range(1, n + 1):
            name = account_name(index)
            while True:
                # Each account's seed is the next whose user ids no earlier account holds,
                # so credentials route unambiguously and account k never depends on n.
                fake = _account(seed, index, candidate, prefix, host)
                candidate += 1
                if taken.isdisjoint(fake.user_ids):
                    break
            taken.update(fake.user_ids)
            if latency:
                fake.add_latency("*", latency)
            self.accounts[name] = fake
            self._by_user[fake.credentials.user_id] = fake
            self._by_email[fake.credentials.email] = fake
        first = next(iter(self.accounts.values()))
        # One table for every account's app, so "drop" faults find their socket.
        self.connections: MutableMapping[tuple[str, int], Any] = first.app.connections
        for fake in self.accounts.values():
            fake.app.connections = first.app.connections
        self.prefix = first.prefix
        self.base_url = first.base_url

    def __len__(self) -> int:
        return len(self.accounts)

    def __iter__(self) -> Iterator[str]:
        return iter(self.accounts)

    def __getitem__(self, name: str) -> FakeVoipStudio:
        return self.accounts[name]

    def _by_basic(self, header: bytes) -> FakeVoipStudio | None:
        scheme, _, encoded = header.partition(b" ")
        if scheme.lower() != b"basic":
            return None
        try:
            user = base64.b64decode(encoded, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
        return self._by_user.get(int(user)) if user.isdigit() else None

    def _by_token(self, token: bytes) -> FakeVoipStudio | None:
        text = token.decode("latin-1")
        return next((fake for fake in self.accounts.values() if fake.issued(text)), None)

    @property
    def app(self) -> FakeAccounts:
        """The ASGI application (this object): the request's account answers it."""
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fallback = next(iter(self.accounts.values()))
        if scope["type"] != "http":
            await fallback.app(scope, receive, send)
            return
        fake: FakeVoipStudio | None = None
        token = _header(scope, b"x-auth-token")
        authorization = _header(scope, b"authorization")
        if token is not None:
            fake = self._by_token(token)
        elif authorization is not None:
            fake = self._by_basic(authorization)
        elif scope["method"] == "POST" and scope["path"] == f"{self.prefix}/login":
            fake, receive = await self._by_login(receive)
        await (fake or fallback).app(scope, receive, send)

    async def _by_login(self, receive: Receive) -> tuple[FakeVoipStudio | None, Receive]:
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        try:
            email = json.loads(body).get("email")
        except (ValueError, AttributeError):
            email = None
        fake = self._by_email.get(email.lower()) if isinstance(email, str) else None
        return fake, replay

    def write_accounts_file(self, path: str | os.PathLike[str], base_url: str) -> Path:
        """Write the accounts file for ``voipstudio fleet`` and one secrets file per account.

        Each account's API key goes to ``<path's stem>.secrets/<name>`` (mode 0600),
        which the file names relative to itself; the file holds no secret.

        Args:
            path: Where to write the accounts file (TOML).
            base_url: The served fake's base URL, written as the file's ``base_url``.

        Returns:
            The path written.

        Raises:
            OSError: The file or the secrets directory could not be written.
        """
        target = Path(path)
        secrets = target.with_name(f"{target.stem}.secrets")
        secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
        lines = [
            f"# {len(self.accounts)} accounts of the fake VoIPstudio at {base_url}",
            f"base_url = {json.dumps(base_url)}",
            "",
        ]
        for name, fake in self.accounts.items():
            secret = secrets / name
            descriptor = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(fake.credentials.api_key + "\n")
            lines += [
                "[[accounts]]",
                f'name = "{name}"',
                f"user_id = {fake.credentials.user_id}",
                f'secret_file = "{secrets.name}/{name}"',
                "",
            ]
        target.write_text("\n".join(lines))
        return target
