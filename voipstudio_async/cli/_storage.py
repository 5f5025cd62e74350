"""Where a command writes: a local path (plain or ``file://``) or an ``s3://`` location.

Only these two are accepted because the guarantees (an object appears complete or not
at all, verified before a purge) are promised for them; any other URL is refused before
anything is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ._errors import UserError

__all__ = ["S3Location", "parse_destination"]

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
# S3's rules for new buckets: 3-63 lowercase letters, digits, dots and hyphens.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_MAX_KEY_BYTES = 1024


@dataclass(frozen=True, slots=True)
class S3Location:
    """``s3://bucket/key``; ``key`` is an object's key or a prefix without slashes around it."""

    bucket: str
    key: str

    def child(self, name: str) -> S3Location:
        """The location ``name`` below this prefix."""
        return S3Location(self.bucket, f"{self.key}/{name}" if self.key else name)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def _s3(text: str, *, is_object: bool) -> S3Location:
    parts = urlsplit(text)
    bucket = parts.netloc
    if parts.query or parts.fragment:
        raise UserError(f"invalid S3 URL {text!r}: no ?query or #fragment allowed")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise UserError(f"invalid S3 URL {text!r}: expected s3://BUCKET/... with a valid bucket")
    key = parts.path.strip("/")
    if is_object and not key:
        raise UserError(f"invalid S3 URL {text!r}: expected s3://BUCKET/KEY, the object to write")
    if "//" in key or any(segment in (".", "..") for segment in key.split("/")):
        raise UserError(f"invalid S3 URL {text!r}: empty, '.' or '..' segment in the key")
    if len(key.encode()) > _MAX_KEY_BYTES - 100:  # room for the names written below it
        raise UserError(f"invalid S3 URL {text!r}: key too long")
    return S3Location(bucket, key)


def _file(text: str) -> Path:
    parts = urlsplit(text)
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise UserError(f"invalid file URL {text!r}: expected file:///absolute/path")
    return Path(unquote(parts.path))


def parse_destination(text: str, *, is_object: bool = False) -> Path | S3Location:
    """A ``--dest``/``-o`` value: a ``Path`` (plain or ``file://``) or an ``S3Location``.

    ``is_object``: the value names one object (``-o``), so an S3 URL needs a key.
    Raises ``UserError`` for any other scheme or a malformed URL.
    """
    match = _SCHEME.match(text)
    if match is None:
        return Path(text)
    scheme = match["scheme"].lower()
    if scheme == "file":
        return _file(text)
    if scheme == "s3":
        return _s3(text, is_object=is_object)
    raise UserError(
        f"unsupported destination {scheme}://: use a local path, file:// or s3://bucket/prefix"
    )
