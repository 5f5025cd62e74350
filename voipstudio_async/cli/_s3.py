"""The command's S3 store: the SDK's (``voipstudio_async.storage``), its setup failures
turned into ``UserError`` (one line, exit 2) before anything is sent to VoIPstudio."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from .._constants import S3_MIN_CONNECTIONS
from ..storage import _s3
from ..storage._location import S3Location
from ..storage._s3 import PART_SIZE, describe_s3_error
from ._errors import UserError

__all__ = ["PART_SIZE", "S3Store", "S3Target", "describe_s3_error"]


class S3Store(_s3.S3Store):
    """``voipstudio_async.storage.S3Store`` whose setup errors are ``UserError``s."""

    def __init__(
        self, endpoint_url: str | None = None, *, connections: int = S3_MIN_CONNECTIONS
    ) -> None:
        try:
            super().__init__(endpoint_url, connections=connections)
        except ImportError as exc:
            raise UserError(str(exc)) from None

    async def __aenter__(self) -> Self:
        try:
            return await super().__aenter__()
        except OSError as exc:
            raise UserError(exc.strerror or str(exc)) from None

    async def check_bucket(self, location: S3Location) -> None:
        """Raise ``UserError`` unless the bucket is there and these credentials reach it."""
        try:
            await super().check_bucket(location)
        except OSError as exc:
            raise UserError(exc.strerror or str(exc)) from None


@dataclass(frozen=True, slots=True)
class S3Target:
    """An object to write: where, and through which store."""

    store: _s3.S3Store
    location: S3Location

    def __str__(self) -> str:
        return str(self.location)
