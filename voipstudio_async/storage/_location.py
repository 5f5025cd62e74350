"""``s3://bucket/key`` locations: parsed and checked before anything is sent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .._constants import S3_MAX_KEY_BYTES, S3_NAME_ROOM_BYTES

__all__ = ["S3Location", "parse_s3_url"]

# S3's rules for new buckets: 3-63 lowercase letters, digits, dots and hyphens.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass(frozen=True, slots=True)
class S3Location:
    """``s3://bucket/key``; ``key`` is an object's key or a prefix without slashes around it."""

    bucket: str
    """The bucket's name."""
    key: str
    """The object's key or the prefix, without slashes around it (empty: the bucket's root)."""

    def child(self, name: str) -> S3Location:
        """The location ``name`` below this prefix.

        Args:
            name: A name (or ``a/b`` path) below this prefix.

        Returns:
            The location of ``name``.
        """
        return S3Location(self.bucket, f"{self.key}/{name}" if self.key else name)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_url(text: str, *, is_object: bool = False) -> S3Location:
    """The location an ``s3://BUCKET/KEY`` URL names.

    Args:
        text: The URL; the key may be empty (the bucket's root) unless ``is_object``.
        is_object: The URL names one object, so it needs a key.

    Returns:
        The bucket and the key without slashes around it.

    Raises:
        ValueError: Not an ``s3://`` URL, an invalid bucket name, a query or fragment,
            an empty, ``.`` or ``..`` key segment, or a key too long.
    """
    parts = urlsplit(text)
    if parts.scheme.lower() != "s3":
        raise ValueError(f"invalid S3 URL {text!r}: expected s3://BUCKET/...")
    bucket = parts.netloc
    if parts.query or parts.fragment:
        raise ValueError(f"invalid S3 URL {text!r}: no ?query or #fragment allowed")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise ValueError(f"invalid S3 URL {text!r}: expected s3://BUCKET/... with a valid bucket")
    key = parts.path.strip("/")
    if is_object and not key:
        raise ValueError(f"invalid S3 URL {text!r}: expected s3://BUCKET/KEY, the object to write")
    if "//" in key or any(segment in (".", "..") for segment in key.split("/")):
        raise ValueError(f"invalid S3 URL {text!r}: empty, '.' or '..' segment in the key")
    if len(key.encode()) > S3_MAX_KEY_BYTES - S3_NAME_ROOM_BYTES:
        raise ValueError(f"invalid S3 URL {text!r}: key too long")
    return S3Location(bucket, key)
