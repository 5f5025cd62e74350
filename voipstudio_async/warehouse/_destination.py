"""``--to URL`` → a dlt destination, with a display form that never shows the password.

``duckdb:///file.duckdb`` (relative path; four slashes for an absolute one, as in
SQLAlchemy URLs), ``postgresql://user:pass@host:port/db``, ``file:///dir`` and
``s3://bucket/prefix``. ``file`` and ``s3`` write Delta tables (dlt's filesystem
destination with ``table_format="delta"``), which dlt can merge into; S3 credentials
and endpoint come from the usual ``AWS_*`` variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import quote, unquote, urlsplit

__all__ = ["DEFAULT_DATASET", "DEFAULT_URL", "Target", "parse_destination"]

# Not voipstudio.duckdb: DuckDB names a file's catalog after its stem, and a catalog named
# like the dataset makes every ``voipstudio.table`` ambiguous (see Target.check_dataset).
DEFAULT_URL = "duckdb:///voipstudio_history.duckdb"
DEFAULT_DATASET = "voipstudio"

Scheme = Literal["duckdb", "postgres", "filesystem"]


@dataclass(frozen=True)
class Target:
    """Where a sync loads: ``kind``, a password-free ``display`` and dlt's arguments."""

    kind: Scheme
    display: str
    location: str = field(repr=False)
    """The path, bucket URL or full connection URL (may hold a password)."""
    secrets: tuple[str, ...] = field(default=(), repr=False)
    aws: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def table_format(self) -> Literal["delta"] | None:
        """``"delta"`` for file and S3 destinations (merge needs a table format)."""
        return "delta" if self.kind == "filesystem" else None

    @property
    def identity(self) -> str:
        """What tells destinations apart (no secrets): a DuckDB file by absolute path."""
        if self.kind == "duckdb":
            return f"duckdb:///{Path(self.location).resolve()}"
        return self.display

    def check_dataset(self, dataset: str) -> None:
        """ValueError when ``dataset`` cannot live in this destination.

        DuckDB names a file's catalog after its stem (case-insensitively), so a schema of
        the same name makes ``dataset.table`` ambiguous, in dlt's queries and in the user's.
        """
        if self.kind == "duckdb" and Path(self.location).stem.casefold() == dataset.casefold():
            raise ValueError(
                f"{self.display}: DuckDB cannot tell the file's catalog from a dataset of the "
                f"same name {dataset!r}: choose another --dataset or file name"
            )

    def scrub(self, text: str) -> str:
        """``text`` with every secret of this target replaced by ``***``."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def dlt_destination(self) -> Any:
        """The dlt destination object (imports dlt's destination modules lazily)."""
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
    """Check ``url`` and describe it; ValueError (without the password) when it is bad."""
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
        return _postgres(url)
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


def _postgres(url: str) -> Target:
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
    display = f"postgresql://{quote(user) + '@' if user else ''}{netloc}/{database}"
    if password:
        display = display.replace("@", ":***@", 1)
    secrets = tuple(s for s in {password, parts.password or ""} if s)
    return Target("postgres", display, url, secrets)


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
