"""Deterministic download bodies, generated chunk by chunk so big ones cost no memory."""

from __future__ import annotations

import hashlib
import random
import struct
from collections.abc import Iterator
from typing import Any, Literal

Download = Literal[
    "monitor_mp3", "voicemessage_mp3", "cdr_pcap", "msdr_pcap", "cdr_trace", "msdr_trace"
]
CHUNK = 1 << 20
_BLOCK = 1 << 20
_KIND_SALT = {"monitor_mp3": 1, "voicemessage_mp3": 2, "cdr_pcap": 3, "msdr_pcap": 4}


class Blobs:
    """MP3 and PCAP bodies from one pseudo-random block, rotated per record.

    A body is a small header naming the record followed by the block read from an
    offset derived from the id, so every record gets distinct bytes and any byte
    range is computed without generating what precedes it.
    """

    def __init__(self, seed: int) -> None:
        block = random.Random(f"{seed}:blob").randbytes(_BLOCK)
        # Doubling the block lets every rotated window be a single slice.
        self._twice = memoryview(block + block)

    def _offset(self, kind: str, ident: int) -> int:
        return (ident * 2_654_435_761 + _KIND_SALT[kind] * 40_503) % _BLOCK

    def _mp3_header(self, kind: str, ident: int) -> bytes:
        # An empty ID3v2.3 tag and an MPEG-1 Layer III frame header (32 kbit/s,
        # 32 kHz, mono) so tools sniffing the file see an MP3; the id keeps bodies distinct.
        return b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x18\xc4" + ident.to_bytes(8, "big")

    def mp3(
        self, kind: str, ident: int, size: int, start: int = 0, end: int | None = None
    ) -> Iterator[bytes]:
        """Bytes `[start, end)` of a `size`-byte MP3, in chunks of at most 1 MiB."""
        end = size if end is None else min(end, size)
        header = self._mp3_header(kind, ident)
        pos = start
        if pos < len(header) and pos < end:
            piece = header[pos : min(end, len(header))]
            yield piece
            pos += len(piece)
        base = self._offset(kind, ident)
        while pos < end:
            at = (base + pos - len(header)) % _BLOCK
            n = min(CHUNK, end - pos, _BLOCK)
            yield bytes(self._twice[at : at + n])
            pos += n

    def pcap(self, kind: str, ident: int) -> bytes:
        """A small libpcap file: global header and a few UDP-sized packets."""
        rng = random.Random(ident * 31 + _KIND_SALT[kind])
        out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
        seconds = 1_780_000_000 + ident
        base = self._offset(kind, ident)
        for k in range(4 + ident % 12):
            length = rng.randrange(60, 240)
            at = (base + k * 997) % _BLOCK
            out.append(struct.pack("<IIII", seconds + k, rng.randrange(1_000_000), length, length))
            out.append(bytes(self._twice[at : at + length]))
        return b"".join(out)


def sip_trace(record: dict[str, Any]) -> bytes:
    """A short SIP dialogue (INVITE … BYE) as text, built from the record."""
    src = record.get("src") or "anonymous"
    dst = record.get("dst") or "unknown"
    call_id = record.get("call_id") or record["id"]
    when = record.get("calldate") or record.get("created_at") or ""
    lines = []
    for method in ("INVITE", "SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK", "BYE"):
        start = f"{method} sip:{dst}@sip.l7api.com SIP/2.0" if " " not in method else method
        lines += [
            f"# {when}",
            start,
            f"From: <sip:{src}@sip.l7api.com>",
            f"To: <sip:{dst}@sip.l7api.com>",
            f"Call-ID: {call_id}",
            "",
        ]
    return "\r\n".join(lines).encode()


def sha256_of(chunks: Iterator[bytes]) -> str:
    """Hex SHA-256 of a chunk stream."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()
