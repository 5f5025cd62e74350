"""The accounts file: each account's name and where its secret comes from, never the secret.

::

    base_url = "https://l7api.com/v1.1/voipstudio"   # optional, for every account

    [[accounts]]
    name = "acme"
    user_id = 123456                        # the secret is the API key
    secret_env = "ACME_VOIPSTUDIO_API_KEY"  # read from this variable ...

    [[accounts]]
    name = "globex"
    email = "ops@globex.example"            # the secret is the password
    secret_file = "secrets/globex"          # ... or from this file (relative to this one)

    [[accounts]]
    name = "initech"
    secret_env = "INITECH_TOKEN"            # neither: the secret is an X-Auth-Token

``Account`` holds only the names; ``Account.client()`` reads the secret where it runs
(on the Dask worker), so the secret never enters the task graph or the scheduler.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack

from .._client import DEFAULT_BASE_URL, VoipStudio
from .._options import ClientArgs

__all__ = ["Account", "AccountsFileError", "SecretUnavailableError", "load_accounts"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,47}$")
_KEYS = {"name", "user_id", "email", "secret_env", "secret_file", "base_url"}


class AccountsFileError(ValueError):
    """The accounts file is missing, not TOML, or describes an account badly."""


class SecretUnavailableError(ValueError):
    """An account's secret variable is unset or empty, or its secret file unreadable.

    The message names the variable or the file, never a value.
    """


@dataclass(frozen=True, slots=True)
class Account:
    """One account of a fleet: its name and where its credentials come from.

    ``user_id`` makes the secret an API key, ``email`` a password; with neither the secret
    is a session token. Exactly one of ``secret_env`` (a variable name) and
    ``secret_file`` (an absolute path) says where the secret is read.

    Args:
        name: The account's name: 1-48 lowercase letters, digits and underscores (it
            names datasets, prefixes and pipelines).
        user_id: The VoIPstudio user id (the secret is then an API key).
        email: The login email (the secret is then the password).
        secret_env: The environment variable holding the secret, read where the
            account runs.
        secret_file: The absolute path of a file holding the secret, read where the
            account runs.
        base_url: The API's base URL for this account (None: the default).

    Raises:
        AccountsFileError: A field is malformed, both ``user_id`` and ``email`` are
            given, or not exactly one of ``secret_env`` and ``secret_file``.
    """

    name: str
    user_id: int | None = None
    email: str | None = None
    secret_env: str | None = None
    secret_file: str | None = None
    base_url: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise AccountsFileError(
                f"account name {self.name!r}: use 1-48 lowercase letters, digits and "
                "underscores, starting with a letter or digit (it names datasets and prefixes)"
            )
        if self.user_id is not None and (
            not isinstance(self.user_id, int) or isinstance(self.user_id, bool) or self.user_id < 1
        ):
            raise AccountsFileError(f"account {self.name}: user_id must be a positive integer")
        if self.user_id is not None and self.email is not None:
            raise AccountsFileError(f"account {self.name}: give user_id or email, not both")
        if self.email is not None and (not isinstance(self.email, str) or "@" not in self.email):
            raise AccountsFileError(f"account {self.name}: email must be an email address")
        if (self.secret_env is None) == (self.secret_file is None):
            raise AccountsFileError(
                f"account {self.name}: give exactly one of secret_env (a variable name) "
                "and secret_file (a path)"
            )
        if self.secret_env is not None and (
            not isinstance(self.secret_env, str) or not self.secret_env.strip()
        ):
            raise AccountsFileError(f"account {self.name}: secret_env must be a variable name")
        if self.secret_file is not None and (
            not isinstance(self.secret_file, str) or not os.path.isabs(self.secret_file)
        ):
            raise AccountsFileError(f"account {self.name}: secret_file must be an absolute path")
        if self.base_url is not None and not (
            isinstance(self.base_url, str) and self.base_url.startswith(("http://", "https://"))
        ):
            raise AccountsFileError(f"account {self.name}: base_url must be an http(s) URL")

    def read_secret(self, environ: Mapping[str, str] | None = None) -> str:
        """The secret, from the variable or the file (one trailing newline dropped).

        Args:
            environ: Where ``secret_env`` is read (default ``os.environ``).

        Returns:
            The secret.

        Raises:
            SecretUnavailableError: the variable is unset or empty, or the file cannot be
                read or is empty.
        """
        if self.secret_env is not None:
            value = (os.environ if environ is None else environ).get(self.secret_env, "")
            if not value:
                raise SecretUnavailableError(
                    f"account {self.name}: the variable {self.secret_env} is not set"
                )
            return value
        assert self.secret_file is not None  # __post_init__
        try:
            value = Path(self.secret_file).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise SecretUnavailableError(
                f"account {self.name}: cannot read {self.secret_file}: {reason}"
            ) from None
        if not value:
            raise SecretUnavailableError(f"account {self.name}: {self.secret_file} is empty")
        return value

    def client(
        self, environ: Mapping[str, str] | None = None, **options: Unpack[ClientArgs]
    ) -> VoipStudio:
        """A ``VoipStudio`` signed in as this account, its secret read here and now.

        Args:
            environ: where ``secret_env`` is looked up (default ``os.environ``).
            **options: ``VoipStudio``'s keyword options.

        Returns:
            A new client; the caller closes it.

        Raises:
            SecretUnavailableError: the secret cannot be read.
        """
        secret = self.read_secret(environ)
        base_url = self.base_url or DEFAULT_BASE_URL
        if self.user_id is not None:
            return VoipStudio(self.user_id, secret, base_url=base_url, **options)
        if self.email is not None:
            return VoipStudio(email=self.email, password=secret, base_url=base_url, **options)
        return VoipStudio(token=secret, base_url=base_url, **options)


def _account(entry: Any, position: int, folder: Path, base_url: Any) -> Account:
    if not isinstance(entry, dict):
        raise AccountsFileError(f"accounts[{position}] is not a table")
    unknown = sorted(set(entry) - _KEYS)
    label = entry.get("name", f"accounts[{position}]")
    if unknown:
        raise AccountsFileError(
            f"account {label}: unknown key {unknown[0]!r} (expected {', '.join(sorted(_KEYS))})"
        )
    if "name" not in entry:
        raise AccountsFileError(f"accounts[{position}] has no name")
    fields = dict(entry)
    if isinstance(fields.get("secret_file"), str):
        fields["secret_file"] = str((folder / os.path.expanduser(fields["secret_file"])).resolve())
    fields.setdefault("base_url", base_url)
    return Account(**fields)


def load_accounts(path: str | os.PathLike[str]) -> list[Account]:
    """Read an accounts file (TOML; see the module docstring).

    Args:
        path: the file; ``secret_file`` paths in it are relative to its folder.

    Returns:
        The accounts in the file's order.

    Raises:
        AccountsFileError: the file cannot be read, is not TOML, has no account, an
            account is described badly, or two accounts share a name.
    """
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AccountsFileError(f"{source}: {exc.strerror or type(exc).__name__}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AccountsFileError(f"{source}: not a TOML file: {exc}") from None
    unknown = sorted(set(data) - {"accounts", "base_url"})
    if unknown:
        raise AccountsFileError(
            f"{source}: unknown key {unknown[0]!r} (expected base_url and [[accounts]])"
        )
    entries = data.get("accounts")
    if not isinstance(entries, list) or not entries:
        raise AccountsFileError(f"{source}: no [[accounts]] table")
    folder = source.resolve().parent
    try:
        accounts = [
            _account(entry, i, folder, data.get("base_url")) for i, entry in enumerate(entries)
        ]
    except AccountsFileError as exc:
        raise AccountsFileError(f"{source}: {exc}") from None
    except TypeError as exc:  # a value of the wrong type for a dataclass field
        raise AccountsFileError(f"{source}: {exc}") from None
    check_unique(accounts, source)
    return accounts


def check_unique(accounts: Sequence[Account], source: object = "accounts") -> None:
    """AccountsFileError when two accounts share a name."""
    seen: set[str] = set()
    for account in accounts:
        if account.name in seen:
            raise AccountsFileError(f"{source}: two accounts are named {account.name!r}")
        seen.add(account.name)
