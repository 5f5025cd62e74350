"""Objects on S3 through s3fs: uploads that appear complete or not at all, checks, cleanup.

An upload keeps at most one part in memory. A body smaller than a part is sent with one
PUT; a larger one as a multipart upload that is completed only after its size was
verified, and aborted on any error or cancellation. Either way the object appears
under its key complete or not at all. Every PUT and part carries its SHA-256
(``ChecksumSHA256``), which S3 verifies on arrival and returns on HEAD: a full-object
checksum for one PUT, a composite one (``<sha256 of the parts' sha256s>-<parts>``) for a
multipart upload. A killed run leaves its multipart uploads open; the next run aborts
those of its own keys (``abort_stale_uploads``).

Calls go through aiobotocore's public S3 client: credentials from the usual AWS
environment and config chain, and botocore's ``standard`` retries of throttling and
transient S3 errors, configured once (``S3_MAX_ATTEMPTS``) and apart from the API's
retries and retry budget. Failures are translated into ``OSError``s here
(``FileNotFoundError`` for a missing key or upload).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import hashlib
import io
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from .._constants import S3_MAX_ATTEMPTS, S3_MIN_CONNECTIONS, S3_PART_SIZE, S3_READ_CHUNK_BYTES
from .._errors import IncompleteDownloadError, MissingExtraError
from ._location import S3Location

__all__ = [
    "PART_SIZE",
    "S3Store",
    "StoredObject",
    "Upload",
    "Uploaded",
    "checksums_match",
    "describe_s3_error",
    "require_extra",
]

PART_SIZE = S3_PART_SIZE
"""Bytes per part of a multipart upload (S3's minimum is 5 MiB), and the largest single PUT."""
EXTRA_HINT = "s3:// destinations need the s3 extra: pip install 'voipstudio-async[s3]'"


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What HEAD says about an object."""

    size: int
    """Bytes in the object."""
    checksum: str | None
    """``ChecksumSHA256`` as S3 stores it, if the upload sent one."""


@dataclass(frozen=True, slots=True)
class Uploaded:
    """An object now complete under its key."""

    size: int
    """Bytes in the object."""
    sha256: str
    """Hex digest of the whole object."""
    checksum: str
    """The ``ChecksumSHA256`` S3 stores for it (composite for a multipart upload)."""


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def checksums_match(stored: str, recorded: str) -> bool:
    """Whether two ``ChecksumSHA256`` values are the same checksum.

    S3 appends ``-<parts>`` to a composite checksum; some S3-compatible stores do not.
    The base64 digest alone identifies the content ('-' is not a base64 character).

    Args:
        stored: The checksum S3 returned on HEAD.
        recorded: The checksum the manifest recorded.

    Returns:
        True when their digests are equal.
    """
    return stored.split("-", 1)[0] == recorded.split("-", 1)[0]


def describe_s3_error(exc: BaseException) -> str:
    """One line for an S3 failure: botocore's messages carry no credentials."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def _digest(body: io.BytesIO) -> bytes:
    """SHA-256 of what ``body`` holds, rewound for sending."""
    with body.getbuffer() as view:
        digest = hashlib.sha256(view).digest()
    body.seek(0)
    return digest


def _session() -> Any:
    try:
        from aiobotocore.session import get_session  # type: ignore[import-untyped]
    except ImportError:
        raise MissingExtraError(EXTRA_HINT) from None
    return get_session()


def require_extra() -> None:
    """Check that the ``s3`` extra imports; sends nothing.

    Raises:
        MissingExtraError: It does not; the message names the ``pip install`` line.
    """
    _session()


# S3 error codes of a key, upload or bucket that is not there.
_MISSING = frozenset({"404", "NoSuchKey", "NoSuchUpload", "NoSuchBucket", "NotFound"})


def _os_error(exc: Exception) -> OSError:
    """``exc`` as an ``OSError`` (``FileNotFoundError`` for a missing key or upload)."""
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _MISSING:
        return FileNotFoundError(errno.ENOENT, describe_s3_error(exc))
    return OSError(errno.EIO, describe_s3_error(exc))


class Upload:
    """One object being written: ``write`` the bytes, then ``commit``; otherwise ``abort``.

    Use ``async with store.upload(location) as upload``: leaving the block without a
    commit aborts the multipart upload, if one was started.

    Args:
        store: The open ``S3Store`` that sends the parts.
        location: The object's location.
        part_size: Bytes per part (at least S3's minimum of 5 MiB), and the largest
            object sent with one PUT.
    """

    def __init__(self, store: S3Store, location: S3Location, part_size: int = PART_SIZE) -> None:
        self._store = store
        self._location = location
        self._part_size = part_size
        # A file object, not bytes: aiohttp sends it in chunks instead of blocking the
        # loop on one large write, and nothing is copied on the way.
        self._buffer = io.BytesIO()
        self._whole = hashlib.sha256()
        self._size = 0
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._part_digests: list[bytes] = []
        self._done = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._done:
            # Shielded: an abort cut short by a second cancellation is cleaned next run.
            await asyncio.shield(self.abort())

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._size

    @property
    def location(self) -> S3Location:
        """Where the object appears once committed."""
        return self._location

    def _where(self) -> dict[str, str]:
        return {"Bucket": self._location.bucket, "Key": self._location.key}

    async def write(self, data: bytes) -> None:
        """Add ``data``; a full part is sent before this returns (back-pressure).

        Args:
            data: The next bytes of the object.

        Raises:
            OSError: S3 refused the part.
        """
        self._whole.update(data)
        self._size += len(data)
        self._buffer.write(data)
        if self._buffer.tell() >= self._part_size:
            await self._send_part()

    async def _send_part(self) -> None:
        if self._upload_id is None:
            started = await self._store.call(
                "create_multipart_upload", **self._where(), ChecksumAlgorithm="SHA256"
            )
            self._upload_id = str(started["UploadId"])
        body, self._buffer = self._buffer, io.BytesIO()
        digest = await asyncio.to_thread(_digest, body)
        number = len(self._parts) + 1
        sent = await self._store.call(
            "upload_part",
            **self._where(),
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
            ChecksumSHA256=_b64(digest),
        )
        self._parts.append(
            {"PartNumber": number, "ETag": sent["ETag"], "ChecksumSHA256": _b64(digest)}
        )
        self._part_digests.append(digest)

    async def commit(self, expected_size: int | None = None) -> Uploaded:
        """Make the object appear under its key, if it has ``expected_size`` bytes.

        Args:
            expected_size: The size the object must have (None: any).

        Returns:
            The object's size, SHA-256 and the checksum S3 stores.

        Raises:
            IncompleteDownloadError: Another size was written; nothing appears.
            OSError: S3 refused the PUT or the completion.
        """
        if expected_size is not None and self._size != expected_size:
            raise IncompleteDownloadError(expected_size, self._size)
        whole = self._whole.digest()
        if self._upload_id is None:
            body, self._buffer = self._buffer, io.BytesIO()
            body.seek(0)
            await self._store.call(
                "put_object",
                **self._where(),
                Body=body,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=_b64(whole),
            )
            checksum = _b64(whole)
        else:
            if self._buffer.tell() or not self._parts:
                await self._send_part()
            await self._store.call(
                "complete_multipart_upload",
                **self._where(),
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
            composite = hashlib.sha256(b"".join(self._part_digests)).digest()
            checksum = f"{_b64(composite)}-{len(self._parts)}"
        self._done = True
        return Uploaded(self._size, whole.hex(), checksum)

    async def abort(self) -> None:
        """Drop the parts sent so far; never raises (the next run cleans what is left)."""
        self._done = True
        self._buffer = io.BytesIO()
        if self._upload_id is None:
            return
        with contextlib.suppress(Exception):
            await self._store.call(
                "abort_multipart_upload", **self._where(), UploadId=self._upload_id
            )


class S3Store:
    """One S3 connection pool for a command: ``async with S3Store(endpoint_url) as store``.

    ``endpoint_url`` (None: botocore's own, which honours ``AWS_ENDPOINT_URL``) points at
    an S3-compatible store; ``connections`` bounds the connections kept open.

    Args:
        endpoint_url: An S3-compatible endpoint (None: botocore's own).
        connections: The most connections kept open (raised to a small minimum).

    Raises:
        MissingExtraError: The ``s3`` extra is not installed (an ``ImportError``).
    """

    def __init__(
        self, endpoint_url: str | None = None, *, connections: int = S3_MIN_CONNECTIONS
    ) -> None:
        self._session = _session()
        self._endpoint_url = endpoint_url
        self._connections = max(connections, S3_MIN_CONNECTIONS)
        self._exit = AsyncExitStack()
        self._client: Any = None

    def __repr__(self) -> str:
        return "S3Store()"  # never the session, which holds credentials

    async def __aenter__(self) -> Self:
        from aiobotocore.config import AioConfig  # type: ignore[import-untyped]

        # The one place S3's own retries are configured: botocore's, not the API's.
        config = AioConfig(
            max_pool_connections=self._connections,
            retries={"mode": "standard", "total_max_attempts": S3_MAX_ATTEMPTS},
        )
        try:
            self._client = await self._exit.enter_async_context(
                self._session.create_client("s3", endpoint_url=self._endpoint_url, config=config)
            )
        except Exception as exc:
            raise OSError(errno.EIO, f"S3: {describe_s3_error(exc)}") from None
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._client = None
        await self._exit.aclose()

    async def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """One S3 API call; any failure is an ``OSError`` with S3's message.

        Args:
            method: The aiobotocore client's method (``head_object``, ``put_object``, ...).
            **kwargs: Its arguments, by S3's names (``Bucket``, ``Key``, ...).

        Returns:
            S3's answer.

        Raises:
            FileNotFoundError: The key, upload or bucket is not there.
            OSError: Any other failure, with S3's message.
        """
        try:
            result: dict[str, Any] = await getattr(self._client, method)(**kwargs)
        except Exception as exc:  # S3's errors and botocore's: no endpoint, no credentials
            raise _os_error(exc) from None
        return result

    async def check_bucket(self, location: S3Location) -> None:
        """Check that the bucket is there and these credentials reach it.

        Args:
            location: Any location in the bucket (named in the error).

        Raises:
            OSError: The bucket is missing or out of reach, with S3's reason.
        """
        try:
            await self.call("head_bucket", Bucket=location.bucket)
        except OSError as exc:
            raise type(exc)(
                exc.errno, f"cannot write to {location}: {describe_s3_error(exc)}"
            ) from None

    def upload(self, location: S3Location, part_size: int = PART_SIZE) -> Upload:
        """A new object at ``location`` (see ``Upload``).

        Args:
            location: The object's location.
            part_size: Bytes per part, and the largest object sent with one PUT.

        Returns:
            The upload, to use as ``async with``.
        """
        return Upload(self, location, part_size)

    async def stat(self, location: S3Location) -> StoredObject | None:
        """Size and stored ``ChecksumSHA256`` of the object, or None when there is none.

        Args:
            location: The object's location.

        Returns:
            What HEAD says, or None when there is no such object.

        Raises:
            OSError: S3 refused the HEAD.
        """
        try:
            found = await self.call(
                "head_object", Bucket=location.bucket, Key=location.key, ChecksumMode="ENABLED"
            )
        except FileNotFoundError:
            return None
        checksum = found.get("ChecksumSHA256")
        return StoredObject(int(found["ContentLength"]), str(checksum) if checksum else None)

    async def _chunks(self, location: S3Location) -> AsyncIterator[bytes]:
        response = await self.call("get_object", Bucket=location.bucket, Key=location.key)
        body = response["Body"]
        try:
            while chunk := await body.read(S3_READ_CHUNK_BYTES):
                yield chunk
        finally:
            body.close()

    async def read_sha256(self, location: S3Location) -> tuple[int, str] | None:
        """Read the whole object: its size and hex SHA-256, or None when there is none.

        Args:
            location: The object's location.

        Returns:
            ``(size, sha256)``, or None when there is no such object.

        Raises:
            OSError: S3 refused the read.
        """
        digest = hashlib.sha256()
        size = 0
        try:
            async for chunk in self._chunks(location):
                digest.update(chunk)
                size += len(chunk)
        except FileNotFoundError:
            return None
        return size, digest.hexdigest()

    async def read(self, location: S3Location) -> bytes | None:
        """The object's bytes, or None when there is none.

        Args:
            location: The object's location.

        Returns:
            The bytes, or None when there is no such object.

        Raises:
            OSError: S3 refused the read.
        """
        try:
            return b"".join([chunk async for chunk in self._chunks(location)])
        except FileNotFoundError:
            return None

    async def abort_stale_uploads(
        self, bucket: str, key_prefix: str, ours: Callable[[str], bool]
    ) -> int:
        """Abort the open multipart uploads of keys starting ``key_prefix`` that ``ours`` accepts.

        Call it before starting uploads of your own: every open upload of those keys is
        then one a killed run left behind.

        Args:
            bucket: The bucket's name.
            key_prefix: Only uploads of keys starting with this are considered.
            ours: Whether a key is one this run writes (the others are left alone).

        Returns:
            How many uploads were aborted.

        Raises:
            OSError: S3 refused the listing or an abort.
        """
        aborted = 0
        markers: dict[str, str] = {}
        while True:
            page = await self.call(
                "list_multipart_uploads", Bucket=bucket, Prefix=key_prefix, **markers
            )
            for upload in page.get("Uploads") or ():
                if ours(upload["Key"]):
                    await self.call(
                        "abort_multipart_upload",
                        Bucket=bucket,
                        Key=upload["Key"],
                        UploadId=upload["UploadId"],
                    )
                    aborted += 1
            if not page.get("IsTruncated"):
                return aborted
            markers = {
                "KeyMarker": page["NextKeyMarker"],
                "UploadIdMarker": page["NextUploadIdMarker"],
            }
