"""``manifest.jsonl`` beside the objects under an S3 prefix.

S3 cannot append, so the manifest is rewritten whole (a PUT replaces an object
atomically): every few seconds while entries come in, and at the end. A run killed in
between loses only the entries since the last save; their objects are uploaded again
by the next run (the same bytes, replaced atomically), so nothing is lost or left half.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Self

from .._constants import S3_MANIFEST_SAVE_EVERY, S3_MANIFEST_SAVE_SHARE
from ._entries import MANIFEST_NAME, ManifestEntry, dump_line, parse_lines
from ._location import S3Location
from ._s3 import S3Store, checksums_match

__all__ = ["S3Manifest"]


class S3Manifest:
    """The entries of ``PREFIX/manifest.jsonl`` (the last line per id wins).

    ``async with S3Manifest(store, prefix)`` loads it; leaving the block saves it.

    Args:
        store: The open ``S3Store`` that reads and writes the manifest.
        prefix: The prefix the manifest describes (it is ``PREFIX/manifest.jsonl``).

    Attributes:
        store: The store given.
        prefix: The prefix given.
        location: The manifest object's location.
        entries: The entries by item id (loaded by ``load``, added by ``record``).
        ignored_lines: Non-blank lines of the loaded manifest that were not entries.
    """

    def __init__(self, store: S3Store, prefix: S3Location) -> None:
        self.store = store
        self.prefix = prefix
        self.location = prefix.child(MANIFEST_NAME)
        self.entries: dict[int, ManifestEntry] = {}
        self.ignored_lines = 0
        self._dirty = False
        self._lock = asyncio.Lock()
        self._next_save = 0.0

    async def __aenter__(self) -> Self:
        await self.load()
        return self

    async def load(self) -> None:
        """Read the manifest object (none yet: no entries).

        Raises:
            OSError: S3 refused the read.
        """
        data = await self.store.read(self.location)
        text = (data or b"").decode("utf-8", errors="replace")
        self.entries, self.ignored_lines = parse_lines(text.splitlines())
        self._next_save = time.monotonic() + S3_MANIFEST_SAVE_EVERY

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.save()

    async def record(self, entry: ManifestEntry) -> None:
        """Add ``entry``; saves the manifest when the last save is long enough ago.

        Args:
            entry: The file just completed (replaces an earlier entry of its id).

        Raises:
            OSError: A save was due and S3 refused it (the entry stays, to be saved).
        """
        self.entries[entry.id] = entry
        self._dirty = True
        if time.monotonic() >= self._next_save and not self._lock.locked():
            await self.save()

    async def save(self) -> None:
        """Write every entry (one line per id, in id order) over the manifest object.

        Raises:
            OSError: S3 refused the write (the entries stay, to be saved).
        """
        async with self._lock:
            if not self._dirty:
                return
            self._dirty = False
            started = time.monotonic()
            text = "".join(dump_line(self.entries[i]) for i in sorted(self.entries))
            try:
                async with self.store.upload(self.location) as upload:
                    await upload.write(text.encode("utf-8"))
                    await upload.commit()
            except BaseException:
                self._dirty = True
                raise
            took = time.monotonic() - started
            self._next_save = time.monotonic() + max(
                S3_MANIFEST_SAVE_EVERY, took * S3_MANIFEST_SAVE_SHARE
            )

    async def verified(self, item_id: int) -> ManifestEntry | None:
        """The entry of ``item_id`` if its object is in the bucket as recorded.

        The size and the ``ChecksumSHA256`` S3 stores must match the entry; an object
        stored without that checksum is read whole and hashed instead.

        Args:
            item_id: The item's id.

        Returns:
            The entry, or None when there is none or the object differs or is missing.

        Raises:
            OSError: S3 refused the HEAD or the read.
        """
        entry = self.entries.get(item_id)
        if entry is None:
            return None
        location = self.prefix.child(entry.file)
        stored = await self.store.stat(location)
        if stored is None or stored.size != entry.size:
            return None
        if stored.checksum is not None and entry.checksum is not None:
            return entry if checksums_match(stored.checksum, entry.checksum) else None
        read = await self.store.read_sha256(location)
        return entry if read == (entry.size, entry.sha256) else None
