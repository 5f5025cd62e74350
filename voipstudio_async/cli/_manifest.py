"""``manifest.jsonl``: one line per archived file, appended as soon as the file is in place."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import TracebackType
from typing import Self, TextIO

from .._download import _sha256_file
from .._parts import commit_part, create_part, remove_stale_parts
from ..storage._entries import MANIFEST_NAME, dump_line, parse_line, parse_lines
from ..storage._entries import ManifestEntry as Entry
from ._defaults import HASH_CHUNK_BYTES

__all__ = ["MANIFEST_NAME", "Entry", "Manifest", "dump_line", "parse_line"]


class Manifest:
    """The entries of ``directory/manifest.jsonl`` (the last line per id wins).

    A line cut short by a crash is ignored, so its file is simply fetched again.
    Use ``async with`` to append; leaving the block rewrites the file compactly.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / MANIFEST_NAME
        self.entries: dict[int, Entry] = {}
        self.ignored_lines = 0
        self._file: TextIO | None = None
        if self.path.is_file():
            with self.path.open(encoding="utf-8") as file:
                self.entries, self.ignored_lines = parse_lines(file)

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(remove_stale_parts, self.directory, [MANIFEST_NAME])
        self._file = self.path.open("a", encoding="utf-8")
        if self._file.tell() and not self._ends_with_newline():
            self._file.write("\n")  # end a line left half-written by a crash
        return self

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as file:
            file.seek(-1, os.SEEK_END)
            return file.read(1) == b"\n"

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._compact()

    def _compact(self) -> None:
        # Appends keep a crash from losing finished work; at the end, rewrite one line
        # per id (in id order) without superseded or cut lines, atomically.
        temp, fd = create_part(self.path)
        try:
            file = os.fdopen(fd, "w", encoding="utf-8")
            with file:
                for item_id in sorted(self.entries):
                    file.write(dump_line(self.entries[item_id]))
                commit_part(file, temp, self.path)
        finally:
            temp.unlink(missing_ok=True)

    def record(self, entry: Entry) -> None:
        """Append ``entry`` (one write, flushed, so a crash loses at most this line)."""
        if self._file is None:
            raise RuntimeError("Manifest.record() outside `async with`")
        self._file.write(dump_line(entry))
        self._file.flush()
        self.entries[entry.id] = entry

    async def verified(self, item_id: int) -> Entry | None:
        """The entry of ``item_id`` if its file is on disk with the recorded size and sha256."""
        entry = self.entries.get(item_id)
        if entry is None:
            return None
        path = self.directory / entry.file
        try:
            if path.stat().st_size != entry.size:
                return None
            _, digest = await asyncio.to_thread(_sha256_file, path, HASH_CHUNK_BYTES)
        except OSError:
            return None
        return entry if digest == entry.sha256 else None
