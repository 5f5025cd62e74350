"""``monitors download`` / ``voicemessages download``: byte-identical files, a complete
manifest, re-runs that skip verified files, and per-item failures with reasons."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import PERIOD, Cli, files, period_ids

from voipstudio_async.cli._manifest import Entry, Manifest
from voipstudio_async.testing import FakeVoipStudio

KINDS = [
    pytest.param("monitors", "timestamp", "monitor_mp3", id="monitors"),
    pytest.param("voicemessages", "origtime", "voicemessage_mp3", id="voicemessages"),
]


def manifest(directory: Path) -> dict[int, dict[str, Any]]:
    lines = (directory / "manifest.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert len(entries) == len({e["id"] for e in entries})  # one line per file
    return {e["id"]: e for e in entries}


def mp3_requests(fake: FakeVoipStudio) -> list[str]:
    return [r.path for r in fake.requests if r.path.endswith(".mp3")]


def assert_archived(fake: FakeVoipStudio, directory: Path, kind: str, download: str) -> None:
    field = "timestamp" if kind == "monitors" else "origtime"
    entries = manifest(directory)
    assert sorted(entries) == period_ids(fake, kind, field)
    for item_id, entry in entries.items():
        path = directory / entry["file"]
        assert path.read_bytes() == fake.expected_bytes(download, item_id)  # type: ignore[arg-type]
        assert entry["sha256"] == fake.expected_sha256(download, item_id)  # type: ignore[arg-type]
        assert entry["size"] == path.stat().st_size
        assert entry["metadata"] == fake.get(kind, item_id)  # type: ignore[arg-type]
    assert not [name for name in files(directory) if name.endswith(".part")]


@pytest.mark.parametrize(("kind", "field", "download"), KINDS)
async def test_download_then_resume(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path, kind: str, field: str, download: str
) -> None:
    dest = tmp_path / kind
    expected = period_ids(fake, kind, field)
    first = await cli(kind, "download", *PERIOD, "--dest", str(dest), "--concurrency", "4")
    assert first.code == 0, first.err
    assert f"{len(expected)} downloaded" in first.out
    assert_archived(fake, dest, kind, download)
    assert len(files(dest)) == len(expected) + 1  # the files and the manifest

    fake.reset_log()
    second = await cli(kind, "download", *PERIOD, "--dest", str(dest))
    assert second.code == 0, second.err
    assert f"0 downloaded (0 B), {len(expected)} skipped" in second.out
    assert mp3_requests(fake) == []  # nothing downloaded twice


async def test_resume_replaces_what_is_missing_or_corrupt(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    dest = tmp_path / "rec"
    assert (await cli("monitors", "download", *PERIOD, "--dest", str(dest))).code == 0
    entries = manifest(dest)
    removed, corrupt, half_lined = sorted(entries)[:3]
    (dest / entries[removed]["file"]).unlink()
    target = dest / entries[corrupt]["file"]
    target.write_bytes(b"X" * target.stat().st_size)  # same size, other bytes
    # A crash while appending left a cut line; the entry it shadowed must not count.
    lines = (dest / "manifest.jsonl").read_text().splitlines()
    kept = [line for line in lines if json.loads(line)["id"] != half_lined]
    (dest / "manifest.jsonl").write_text("\n".join(kept) + '\n{"kind": "recording", "id"')
    fake.reset_log()

    result = await cli("monitors", "download", *PERIOD, "--dest", str(dest))
    assert result.code == 0, result.err
    assert sorted(mp3_requests(fake)) == sorted(
        f"/monitors/{i}.mp3" for i in (removed, corrupt, half_lined)
    )
    assert "3 downloaded" in result.out
    assert_archived(fake, dest, "monitors", "monitor_mp3")


async def test_failed_items_are_reported_and_exit_1(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    ids = period_ids(fake, "monitors", "timestamp")
    broken, cut = ids[2], ids[5]
    fake.fail(f"/monitors/{broken}.mp3", 503)  # every time: retries cannot help
    fake.cut_body(f"/monitors/{cut}.mp3")  # every time: the body is always short
    dest = tmp_path / "rec"
    result = await cli("monitors", "download", *PERIOD, "--dest", str(dest))
    assert result.code == 1
    assert f"{len(ids) - 2} downloaded" in result.out and "2 failed" in result.out
    assert f"failed recording {broken}: 503 Service unavailable" in result.err
    assert f"failed recording {cut}: download incomplete" in result.err
    assert "Traceback" not in result.err
    entries = manifest(dest)
    assert sorted(entries) == sorted(set(ids) - {broken, cut})
    names = files(dest)
    assert not [n for n in names if n.endswith(f"_{broken}.mp3") or n.endswith(f"_{cut}.mp3")]
    assert not [n for n in names if n.endswith(".part")]

    fake.clear_faults()
    fake.reset_log()
    again = await cli("monitors", "download", *PERIOD, "--dest", str(dest))
    assert again.code == 0, again.err
    assert sorted(mp3_requests(fake)) == sorted([f"/monitors/{broken}.mp3", f"/monitors/{cut}.mp3"])
    assert_archived(fake, dest, "monitors", "monitor_mp3")


async def test_concurrency_bounds_downloads_in_flight(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    fake.add_latency("/monitors/*.mp3", 0.02)
    result = await cli(
        "monitors", "download", *PERIOD, "--dest", str(tmp_path), "--concurrency", "3"
    )
    assert result.code == 0, result.err
    assert 1 < fake.max_in_flight <= 3


async def test_manifest_lines_that_are_not_entries_are_ignored(tmp_path: Path) -> None:
    good = asdict(Entry.now("recording", 1, "1.mp3", 3, "ab", {"id": 1}))
    (tmp_path / "1.mp3").write_bytes(b"abc")
    lines = [
        json.dumps(good),
        json.dumps({**good, "id": 2, "file": "../escape.mp3"}),
        json.dumps({**good, "id": 3, "file": "manifest.jsonl"}),
        json.dumps({**good, "id": "4"}),
        json.dumps({**good, "id": 5, "extra": 1}),
        "not json",
    ]
    (tmp_path / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    manifest = Manifest(tmp_path)
    assert list(manifest.entries) == [1]
    assert manifest.ignored_lines == 5
    assert await manifest.verified(1) is None  # the sha256 does not match the file
    async with manifest:
        pass
    assert len((tmp_path / "manifest.jsonl").read_text().splitlines()) == 1  # compacted


async def test_each_file_is_in_the_manifest_as_soon_as_it_lands(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    lines_seen: list[int] = []

    def count_lines(method: str, path: str) -> None:
        if path.endswith(".mp3"):
            lines_seen.append(len((tmp_path / "manifest.jsonl").read_text().splitlines()))

    fake.on_request(count_lines)
    argv = ["monitors", "download", *PERIOD, "--dest", str(tmp_path), "--concurrency", "1"]
    assert (await cli(*argv)).code == 0
    # One download at a time: the n-th request finds the n - 1 files before it recorded.
    assert lines_seen == list(range(len(period_ids(fake, "monitors", "timestamp"))))
