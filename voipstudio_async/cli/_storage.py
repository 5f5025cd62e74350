"""Where a command writes: a local path (plain or ``file://``) or an ``s3://`` location.

Only these two are accepted because the guarantees (an object appears complete or not
at all, verified before a purge) are promised for them; any other URL is refused before
anything is sent.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..storage._location import S3Location, parse_s3_url
from ._errors import UserError

__all__ = ["S3Location", "parse_destination"]

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")


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
        try:
            return parse_s3_url(text, is_object=is_object)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    raise UserError(
        f"unsupported destination {scheme}://: use a local path, file:// or s3://bucket/prefix"
    )
