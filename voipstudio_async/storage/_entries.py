"""The lines of ``manifest.jsonl``: one per archived file, with its size and SHA-256."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

__all__ = ["MANIFEST_NAME", "ManifestEntry", "dump_line", "parse_line", "parse_lines"]

MANIFEST_NAME = "manifest.jsonl"


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """A file that was complete when it was recorded."""

    kind: str
    """What the file holds (``recording`` or ``voicemail`` from the command,
    the resource's, e.g. ``monitor``, from ``download_to_s3``)."""
    id: int
    """The item's id."""
    file: str
    """Name inside the manifest's directory."""
    size: int
    """Bytes in the file."""
    sha256: str
    """Hex SHA-256 of the file's content."""
    metadata: dict[str, Any]
    """The item's fields as the API listed them (empty when only an id was given)."""
    archived_at: str
    """When it was recorded: ISO 8601, UTC, to the second."""
    checksum: str | None = None
    """The ``ChecksumSHA256`` S3 stores for the object (S3 only; absent on disk)."""

    @classmethod
    def now(
        cls,
        kind: str,
        item_id: int,
        file: str,
        size: int,
        sha256: str,
        metadata: dict[str, Any],
        checksum: str | None = None,
    ) -> Self:
        """An entry recorded now (``archived_at`` is the current UTC time).

        Args:
            kind: What the file holds (``recording``, ``monitor``, ...).
            item_id: The item's id.
            file: The file's name inside the manifest's directory.
            size: Bytes in the file.
            sha256: Hex SHA-256 of the file's content.
            metadata: The item's fields as the API listed them.
            checksum: The ``ChecksumSHA256`` S3 stores (None on disk).

        Returns:
            The entry.
        """
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        return cls(kind, item_id, file, size, sha256, metadata, stamp, checksum)


def dump_line(entry: ManifestEntry) -> str:
    """``entry`` as one manifest line (with its newline)."""
    data = asdict(entry)
    if data["checksum"] is None:  # local manifests keep their original fields
        del data["checksum"]
    return json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n"


def parse_line(line: str) -> ManifestEntry | None:
    """The entry on a manifest line, or None for a line cut short or not an entry."""
    try:
        data = json.loads(line)
        entry = ManifestEntry(**data)
    except (ValueError, TypeError):
        return None
    valid = (
        isinstance(entry.id, int)
        and isinstance(entry.size, int)
        and isinstance(entry.file, str)
        and Path(entry.file).name == entry.file  # never a path out of the directory
        and entry.file not in ("", ".", "..", MANIFEST_NAME)
        and isinstance(entry.sha256, str)
        and isinstance(entry.checksum, str | None)
    )
    return entry if valid else None


def parse_lines(lines: Iterable[str]) -> tuple[dict[int, ManifestEntry], int]:
    """The entries of a manifest's lines by id (a later line wins), and how many
    non-blank lines were not entries (cut short by a crash, or foreign)."""
    entries: dict[int, ManifestEntry] = {}
    ignored = 0
    for line in lines:
        if not line.strip():
            continue
        entry = parse_line(line)
        if entry is None:
            ignored += 1
        else:
            entries[entry.id] = entry
    return entries, ignored
