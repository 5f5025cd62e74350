"""The fake account's mutable state: collections, chat messages, statements, file bodies."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._blobs import Blobs, Download, sip_trace
from ._data import (
    DATE_FIELDS,
    FIELDS,
    MP3_BYTES_PER_SECOND,
    MP3_OVERHEAD,
    Account,
    Generator,
    Kind,
    Record,
)
from ._store import Collection

CONTENT_TYPES: dict[str, bytes] = {
    "monitor_mp3": b"audio/mpeg",
    "voicemessage_mp3": b"audio/mpeg",
    "cdr_pcap": b"application/vnd.tcpdump.pcap",
    "msdr_pcap": b"application/vnd.tcpdump.pcap",
    "cdr_trace": b"text/plain; charset=utf-8",
    "msdr_trace": b"text/plain; charset=utf-8",
}
_SOURCE: dict[str, Kind] = {
    "monitor_mp3": "monitors",
    "voicemessage_mp3": "voicemessages",
    "cdr_pcap": "cdrs",
    "msdr_pcap": "msdrs",
    "cdr_trace": "cdrs",
    "msdr_trace": "msdrs",
}


@dataclass(frozen=True)
class Body:
    """A download: its type, its full size and a reader of any byte range."""

    content_type: bytes
    size: int
    chunks: Callable[[int, int], Iterator[bytes]]


def _in_memory(content_type: bytes, data: bytes) -> Body:
    return Body(content_type, len(data), lambda start, end: iter((data[start:end],)))


class State:
    """Everything the requests can read or change, guarded by one re-entrant lock."""

    def __init__(
        self, seed: int, sizes: Mapping[Kind, int], users: int, chatmsgs: int, statements: int
    ) -> None:
        self.lock = threading.RLock()
        self.account = Account(seed, users)
        self.generator = Generator(seed, self.account)
        self.blobs = Blobs(seed)
        self.collections: dict[Kind, Collection] = {
            kind: Collection(
                FIELDS[kind], self.generator.generate(kind, 1, sizes.get(kind, 0)), self.lock
            )
            for kind in FIELDS
        }
        chats: list[int | None] = [*self.collections["chats"].ids()] or [None]
        # Chat messages are only ever deleted through the API, so an id -> chat map suffices.
        self.chatmsgs: dict[int, int | None] = {
            i: chats[(i - 1) % len(chats)] for i in range(1, chatmsgs + 1)
        }
        self.statements: set[int] = set(range(1, statements + 1))
        self._voicemessage_sizes: dict[int, int] = {}

    def insert(self, kind: Kind, n: int, **fields: Any) -> list[int]:
        """Append `n` generated rows (with `fields` overriding generated values)."""
        with self.lock:
            coll = self.collections[kind]
            field = DATE_FIELDS[kind]
            latest = max(
                (row[field] for row in coll.rows_unordered() if row.get(field)), default=None
            )
            rows = self.generator.later(kind, coll.next_id(), n, latest)
            for row in rows:
                row.update(fields)
            return coll.insert(rows)

    def voicemessage_size(self, ident: int) -> int:
        """Bytes of a voicemessage's MP3 (voicemessages carry no `size` field)."""
        size = self._voicemessage_sizes.get(ident)
        if size is not None:
            return size
        row = self.collections["voicemessages"].get(ident) or {}
        return MP3_OVERHEAD + int(row.get("duration") or 0) * MP3_BYTES_PER_SECOND

    def set_voicemessage_size(self, ident: int, size: int) -> None:
        """Override the MP3 size of one voicemessage."""
        self._voicemessage_sizes[ident] = size

    def body(self, kind: Download, ident: int) -> Body | None:
        """The download `kind` of record `ident`, or None if there is no such record."""
        row: Record | None = self.collections[_SOURCE[kind]].get(ident)
        if row is None:
            return None
        content_type = CONTENT_TYPES[kind]
        if kind.endswith("_mp3"):
            size = (
                int(row.get("size") or 0)
                if kind == "monitor_mp3"
                else self.voicemessage_size(ident)
            )
            blobs = self.blobs
            return Body(content_type, size, lambda s, e: blobs.mp3(kind, ident, size, s, e))
        if kind.endswith("_pcap"):
            return _in_memory(content_type, self.blobs.pcap(kind, ident))
        return _in_memory(content_type, sip_trace(row))
