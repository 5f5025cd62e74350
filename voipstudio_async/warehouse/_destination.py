"""``--to URL`` → a dlt destination, with a display form that never shows the password.

``duckdb:///file.duckdb`` (relative path; four slashes for an absolute one, as in
SQLAlchemy URLs), ``postgresql://user:pass@host:port/db``, ``file:///dir`` and
``s3://bucket/prefix``. ``file`` and ``s3`` write Delta tables (dlt's filesystem
destination with ``table_format="delta"``), which dlt can merge into; S3 credentials
and endpoint come from the usual ``AWS_*`` variables.

A PostgreSQL password missing from the URL is found as libpq finds it: ``PGPASSWORD``,
then the first matching line of ``PGPASSFILE`` (default ``~/.pgpass``).
"""

from __future__ import annotations

import importlib
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import quote, unquote, urlsplit

from .._errors import MissingExtraError

__all__ = [
    "DEFAULT_DATASET",
    "DEFAULT_URL",
    "DestinationError",
    "MissingExtraError",
    "Target",
    "parse_destination",
]


class DestinationError(Exception):
    """The destination could not be reached, refused the credentials or the load.

    The message is one line and never holds the destination's password.
    """


# What each kind of destination imports, and the extra that installs it.
_DRIVERS: dict[str, tuple[tuple[str, ...], str]] = {
    "duckdb": (("duckdb",), "warehouse"),
    "postgres": (("psycopg2",), "warehouse-postgres"),
    "filesystem": (("deltalake",), "warehouse-delta"),
    "s3": (("deltalake", "s3fs"), "warehouse-delta"),
}

# Not voipstudio.duckdb: DuckDB names a file's catalog after its stem, and a catalog named
# like the dataset makes every ``voipstudio.table`` ambiguous (see Target.check_dataset).
DEFAULT_URL = "duckdb:///voipstudio_history.duckdb"
DEFAULT_DATASET = "voipstudio"

Scheme = Literal["duckdb", "postgres", "filesystem"]


@dataclass(frozen=True)
class Target:
    """Where a sync loads: ``kind``, a password-free ``display`` and dlt's arguments."""

    kind: Scheme
    """The dlt destination: ``"duckdb"``, ``"postgres"`` or ``"filesystem"``."""
    display: str
    """The URL as shown in output and errors, without any password."""
    location: str = field(repr=False)
    """The path, bucket URL or full connection URL (may hold a password)."""
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """The values ``scrub`` masks in messages (passwords, AWS secret and token)."""
    aws: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The AWS settings of an ``s3://`` destination, by dlt's names
    (``aws_access_key_id``, ``region_name``, ``endpoint_url``, ...)."""
    legacy_identity: str | None = field(default=None, repr=False)
    """What ``identity`` was before version 0.2 when it differs (a PostgreSQL URL with a
    password was told apart by its ``:***``): the pipeline of that name is adopted."""

    @property
    def table_format(self) -> Literal["delta"] | None:
        """``"delta"`` for file and S3 destinations (merge needs a table format)."""
        return "delta" if self.kind == "filesystem" else None

    @property
    def identity(self) -> str:
        """What tells destinations apart (no secrets): a DuckDB file by absolute path, a
        database by user, host, port and name (wherever its password came from)."""
        if self.kind == "duckdb":
            return f"duckdb:///{Path(self.location).resolve()}"
        return self.display.replace(":***@", "@", 1) if self.kind == "postgres" else self.display

    def check_installed(self) -> None:
        """Check that this destination's driver imports (sends nothing).

        Raises:
            MissingExtraError: It does not; the message names the ``pip install`` line.
        """
        modules, extra = _DRIVERS["s3" if self.location.startswith("s3://") else self.kind]
        for module in modules:
            try:
                importlib.import_module(module)
            except ImportError:
                raise MissingExtraError(
                    f"{self.display} needs {module}: pip install 'voipstudio-async[{extra}]'"
                ) from None

    def check_bucket(self) -> None:
        """Check that an ``s3://`` destination's bucket exists and these credentials reach
        it (a sync never creates a bucket: a typo must not make one); others pass.

        Raises:
            DestinationError: The bucket is missing or out of reach.
        """
        if not self.location.startswith("s3://"):
            return
        import s3fs  # type: ignore[import-untyped]

        bucket = self.location.removeprefix("s3://").split("/", 1)[0]
        aws = self.aws
        region = aws.get("region_name")
        fs = s3fs.S3FileSystem(
            key=aws.get("aws_access_key_id"),
            secret=aws.get("aws_secret_access_key"),
            token=aws.get("aws_session_token"),
            endpoint_url=aws.get("endpoint_url"),
            client_kwargs={"region_name": region} if region else {},
            skip_instance_cache=True,
        )
        try:
            fs.call_s3("head_bucket", Bucket=bucket)
        except FileNotFoundError:
            raise DestinationError(
                f"{self.display}: no bucket {bucket!r} (a sync does not create buckets)"
            ) from None
        except PermissionError:
            raise DestinationError(
                f"{self.display}: access to bucket {bucket!r} denied for these credentials"
            ) from None
        except OSError as exc:
            raise DestinationError(self.scrub(f"{self.display}: {exc}")) from None

    def check_dataset(self, dataset: str) -> None:
        """ValueError when ``dataset`` cannot live in this destination.

        DuckDB names a file's catalog after its stem (case-insensitively), so a schema of
        the same name makes ``dataset.table`` ambiguous, in dlt's queries and in the user's.

        Args:
            dataset: The schema the tables would go to.

        Raises:
            ValueError: A DuckDB file named like ``dataset`` (sends nothing).
        """
        if self.kind == "duckdb" and Path(self.location).stem.casefold() == dataset.casefold():
            raise ValueError(
                f"{self.display}: DuckDB cannot tell the file's catalog from a dataset of the "
                f"same name {dataset!r}: choose another --dataset or file name"
            )

    def scrub(self, text: str) -> str:
        """``text`` with every secret of this target replaced by ``***``.

        A secret is replaced where it stands as a value, not inside a longer word: a
        one-letter password must not turn ``psycopg2`` into ``***syco***g2``.

        Args:
            text: A message that may hold a secret (a driver's error, for instance).

        Returns:
            The text with each of ``secrets`` masked.
        """
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = re.sub(rf"(?<![^\W_]){re.escape(secret)}(?![^\W_])", "***", text)
        return text

    def dlt_destination(self) -> Any:
        """The dlt destination object (imports dlt's destination modules lazily).

        Returns:
            ``dlt.destinations.duckdb``, ``postgres`` or ``filesystem``, with the
            credentials this target holds.
        """
        import dlt

        if self.kind == "duckdb":
            return dlt.destinations.duckdb(self.location)
        if self.kind == "postgres":
            return dlt.destinations.postgres(self.location)
        credentials: Any = None
        if self.aws:
            from dlt.common.configuration.specs import AwsCredentials

            credentials = cast(Any, AwsCredentials)(**self.aws)
        return dlt.destinations.filesystem(self.location, credentials=credentials)


def _aws(environ: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    names = {
        "aws_access_key_id": "AWS_ACCESS_KEY_ID",
        "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
        "aws_session_token": "AWS_SESSION_TOKEN",
        "region_name": "AWS_REGION",
        "endpoint_url": "AWS_ENDPOINT_URL",
    }
    found = {key: environ[var] for key, var in names.items() if environ.get(var)}
    if "region_name" not in found and environ.get("AWS_DEFAULT_REGION"):
        found["region_name"] = environ["AWS_DEFAULT_REGION"]
    secrets = tuple(found[k] for k in ("aws_secret_access_key", "aws_session_token") if k in found)
    return found, secrets


def parse_destination(url: str, environ: Mapping[str, str] | None = None) -> Target:
    """Check ``url`` and describe it.

    Args:
        url: ``duckdb:///file``, ``postgresql://user[:password]@host[:port]/database``,
            ``file:///directory`` or ``s3://bucket/prefix``.
        environ: Where ``AWS_*``, ``PGPASSWORD``, ``PGPASSFILE`` and ``HOME`` are read
            (default ``os.environ``). A PostgreSQL URL without a password takes it from
            ``PGPASSWORD``, else from the first matching line of the password file.

    Returns:
        The destination, its password kept out of ``display``, ``identity`` and its repr.

    Raises:
        ValueError: The URL is bad, or the password file is readable by others (the
            message never holds the password).
    """
    if not isinstance(url, str) or not url.strip():
        raise ValueError("the destination URL is empty")
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ValueError(f"{_safe(url)!r} is not a URL: expected {_EXPECTED}")
    if scheme == "duckdb":
        if not rest.startswith("/") or rest == "/":
            raise ValueError(f"{_safe(url)!r}: expected duckdb:///path/to/file.duckdb")
        path = Path(unquote(rest[1:]))
        return Target("duckdb", f"duckdb:///{path}", str(path))
    if scheme in ("postgresql", "postgres"):
        return _postgres(url, os.environ if environ is None else environ)
    if scheme == "file":
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise ValueError(f"{url!r}: expected file:///absolute/directory")
        return Target("filesystem", f"file://{parts.path}", f"file://{parts.path}")
    if scheme == "s3":
        parts = urlsplit(url)
        if not parts.netloc or parts.username or parts.password or parts.query:
            raise ValueError(f"{_safe(url)!r}: expected s3://bucket/prefix")
        env = os.environ if environ is None else environ
        aws, secrets = _aws(env)
        location = f"s3://{parts.netloc}{parts.path.rstrip('/')}"
        return Target("filesystem", location, location, secrets, aws)
    raise ValueError(f"unsupported destination {_safe(url)!r}: expected {_EXPECTED}")


_EXPECTED = (
    "duckdb:///file.duckdb, postgresql://user:password@host:port/database, "
    "file:///directory or s3://bucket/prefix"
)


def _postgres(url: str, environ: Mapping[str, str]) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(f"{_safe(url)!r}: bad host or port in the PostgreSQL URL") from None
    database = parts.path.lstrip("/")
    if not parts.hostname or not database or "/" in database:
        raise ValueError(f"{_safe(url)!r}: expected postgresql://user:password@host:port/database")
    user = unquote(parts.username or "")
    password = unquote(parts.password or "")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = f"{host}:{port}" if port else host
    secrets = {parts.password or ""}
    if not password:
        password = environ.get("PGPASSWORD") or _pgpass(
            environ, parts.hostname, port or 5432, unquote(database), user
        )
        if password:
            credentials = f"{quote(user, safe='')}:{quote(password, safe='')}@"
            url = parts._replace(netloc=credentials + netloc).geturl()
    display = f"postgresql://{quote(user) + '@' if user else ''}{netloc}/{database}"
    legacy = None
    if password:
        # Before 0.2 the identity was this display, which had ":***" when the URL held
        # the password: that pipeline's state is adopted (see _sync.py).
        display = legacy = display.replace("@", ":***@", 1)
    secrets |= {password, quote(password, safe="")}
    return Target("postgres", display, url, tuple(s for s in secrets if s), legacy_identity=legacy)


def _pgpass_fields(line: str) -> list[str]:
    """The ``:``-separated fields of a password-file line (``\\:`` and ``\\\\`` escaped)."""
    fields: list[str] = []
    current: list[str] = []
    escaped = False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":" and len(fields) < 4:
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


def _pgpass(environ: Mapping[str, str], host: str, port: int, database: str, user: str) -> str:
    """The password of the first matching ``hostname:port:database:username:password``
    line of ``PGPASSFILE`` (default ``~/.pgpass``), as libpq reads it; "" when none."""
    configured = environ.get("PGPASSFILE")
    if configured:
        path = Path(configured)
    else:
        home = environ.get("HOME") or os.path.expanduser("~")
        path = Path(home) / ".pgpass"
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            return ""
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ValueError(
                f"password file {path} has group or other access, which PostgreSQL refuses "
                f"to read: chmod 0600 {path}"
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise ValueError(f"cannot read password file {path}: {exc.strerror or exc}") from None
    wanted = (host, str(port), database, user)
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = _pgpass_fields(line)
        if len(fields) == 5 and all(f in ("*", w) for f, w in zip(fields, wanted, strict=False)):
            return fields[4]
    return ""


def _safe(url: str) -> str:
    """``url`` with anything between ``://`` and ``@`` reduced to the user name."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    # The last "@": a password may hold an unescaped one.
    userinfo, _, tail = rest.rpartition("@")
    user = userinfo.split(":", 1)[0]
    masked = f"{user}:***" if ":" in userinfo else user
    return f"{scheme}://{masked}@{tail}"
