"""Download bodies: sizes, types, expected bytes, Range handling, a big recording."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import httpx
import pytest

from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

ClientFor = Callable[..., httpx.AsyncClient]


@pytest.mark.parametrize(
    ("path", "kind", "content_type"),
    [
        ("/monitors/3.mp3", "monitor_mp3", "audio/mpeg"),
        ("/voicemessages/3.mp3", "voicemessage_mp3", "audio/mpeg"),
        ("/cdrs/3.pcap", "cdr_pcap", "application/vnd.tcpdump.pcap"),
        ("/msdrs/3.pcap", "msdr_pcap", "application/vnd.tcpdump.pcap"),
        ("/cdrs/3.trace", "cdr_trace", "text/plain; charset=utf-8"),
        ("/msdrs/3.trace", "msdr_trace", "text/plain; charset=utf-8"),
    ],
)
async def test_bodies_match_expectations(
    fake_voipstudio: FakeVoipStudio,
    client: httpx.AsyncClient,
    path: str,
    kind: str,
    content_type: str,
) -> None:
    response = await client.get(path, headers={"Range": "bytes=0-9"})
    assert response.status_code == 200  # Range ignored, like the real API
    assert response.headers["content-type"] == content_type
    assert "accept-ranges" not in response.headers
    assert "content-disposition" not in response.headers
    expected = fake_voipstudio.expected_bytes(kind, 3)  # type: ignore[arg-type]
    assert response.content == expected
    assert int(response.headers["content-length"]) == len(expected)
    assert fake_voipstudio.expected_sha256(kind, 3) == hashlib.sha256(expected).hexdigest()  # type: ignore[arg-type]


async def test_formats_look_real(
    fake_voipstudio: FakeVoipStudio, client: httpx.AsyncClient
) -> None:
    monitor = (await client.get("/monitors/4")).json()["data"]
    mp3 = await client.get("/monitors/4.mp3")
    assert len(mp3.content) == monitor["size"]
    assert mp3.content[:3] == b"ID3"
    assert mp3.content[10:12] == b"\xff\xfb"
    assert (await client.get("/monitors/5.mp3")).content != mp3.content
    assert (await client.get("/cdrs/1.pcap")).content[:4] == b"\xd4\xc3\xb2\xa1"
    trace = (await client.get("/cdrs/1.trace")).text
    cdr = fake_voipstudio.get("cdrs", 1)
    assert cdr is not None
    assert "INVITE sip:" in trace
    assert cdr["call_id"] in trace
    # Bodies depend on seed, id and size only; a smaller fake's recording 4 shares the prefix.
    other = FakeVoipStudio(seed=0, cdrs=1, monitors=4).expected_bytes("monitor_mp3", 4)
    assert other[:1000] == mp3.content[:1000]
    with pytest.raises(KeyError):
        fake_voipstudio.expected_size("monitor_mp3", 999)


async def test_added_recordings_and_voicemessages(
    fake_voipstudio: FakeVoipStudio, client: httpx.AsyncClient
) -> None:
    tiny = fake_voipstudio.add_monitor(size=5)
    assert (await client.get(f"/monitors/{tiny}.mp3")).content == b"ID3\x03\x00"
    empty = fake_voipstudio.add_monitor(size=0)
    assert (await client.get(f"/monitors/{empty}.mp3")).content == b""
    vm = fake_voipstudio.add_voicemessage(size=3000)
    body = await client.get(f"/voicemessages/{vm}.mp3")
    assert len(body.content) == 3000 == fake_voipstudio.expected_size("voicemessage_mp3", vm)


async def test_ranges_when_enabled(client_for: ClientFor) -> None:
    fake = FakeVoipStudio(cdrs=1, monitors=2, ranges=True)
    full = fake.expected_bytes("monitor_mp3", 1)
    size = len(full)
    async with client_for(fake) as client:
        plain = await client.get("/monitors/1.mp3")
        assert plain.status_code == 200
        assert plain.headers["accept-ranges"] == "bytes"
        for spec, (start, end) in {
            "bytes=0-99": (0, 100),
            "bytes=100-": (100, size),
            "bytes=-50": (size - 50, size),
            f"bytes=10-{size + 100}": (10, size),
        }.items():
            part = await client.get("/monitors/1.mp3", headers={"Range": spec})
            assert part.status_code == 206
            assert part.content == full[start:end]
            assert part.headers["content-range"] == f"bytes {start}-{end - 1}/{size}"
            assert int(part.headers["content-length"]) == end - start
        for bad in (f"bytes={size}-", "bytes=5-2", "lines=1-2"):
            refused = await client.get("/monitors/1.mp3", headers={"Range": bad})
            assert refused.status_code == 416
            assert refused.headers["content-range"] == f"bytes */{size}"
    fake.ranges = False
    async with client_for(fake) as client:
        assert (
            await client.get("/monitors/1.mp3", headers={"Range": "bytes=0-1"})
        ).status_code == 200


async def test_big_recording_streams_on_loopback(client_for: ClientFor) -> None:
    fake = FakeVoipStudio(cdrs=1, monitors=1)
    big = fake.add_monitor(size=64_000_000)
    assert fake.get("monitors", big)["size"] == 64_000_000  # type: ignore[index]
    with serve_in_thread(fake) as base_url:
        async with client_for(fake, base_url) as client:
            digest, received = hashlib.sha256(), 0
            started = time.perf_counter()
            async with client.stream("GET", f"/monitors/{big}.mp3") as response:
                assert int(response.headers["content-length"]) == 64_000_000
                async for chunk in response.aiter_raw():
                    digest.update(chunk)
                    received += len(chunk)
            elapsed = time.perf_counter() - started
    assert received == 64_000_000
    assert digest.hexdigest() == fake.expected_sha256("monitor_mp3", big)
    print(f"\n64 MB recording over loopback (server in a thread): {64 / elapsed:.0f} MB/s")
