"""``--dest s3://``: archive and downloads straight into a bucket, with the same guarantees
as on disk (complete objects only, manifest with sizes and sha256, re-runs skip)."""

from __future__ import annotations

import csv
import io
from typing import Any

from s3_helpers import (
    PERIOD,
    assert_archived,
    manifest,
    objects,
    open_uploads,
    period_ids,
    voipstudio,
)

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio


def mp3_requests(fake: FakeVoipStudio) -> list[str]:
    return [r.path for r in fake.requests if r.path.endswith(".mp3")]


async def test_archive_to_s3_writes_everything_then_a_rerun_uploads_nothing(
    client: VoipStudio, fake: FakeVoipStudio, s3: Any, bucket: str
) -> None:
    dest = f"s3://{bucket}/calls/2026"
    result = await voipstudio(client, "archive", *PERIOD, "--dest", dest)
    assert result.code == 0, result.err

    found = objects(s3, bucket)
    assert_archived(fake, found, "calls/2026/")
    rows = list(csv.DictReader(io.StringIO(found["calls/2026/cdrs.csv"].decode())))
    assert [int(r["id"]) for r in rows] == period_ids(fake, "cdrs", "calldate")
    assert open_uploads(s3, bucket) == []
    assert f"-> {dest}/monitors/" in result.out

    downloads = len(mp3_requests(fake))
    again = await voipstudio(client, "archive", *PERIOD, "--dest", dest)
    assert again.code == 0, again.err
    assert len(mp3_requests(fake)) == downloads
    assert "0 downloaded" in again.out
    assert objects(s3, bucket) == found


async def test_monitors_download_to_s3_records_sizes_checksums_in_the_manifest(
    client: VoipStudio, fake: FakeVoipStudio, s3: Any, bucket: str
) -> None:
    result = await voipstudio(
        client, "monitors", "download", *PERIOD, "--dest", f"s3://{bucket}/rec/"
    )
    assert result.code == 0, result.err
    found = objects(s3, bucket)
    entries = manifest(found, "rec/manifest.jsonl")
    assert sorted(e["id"] for e in entries) == period_ids(fake, "monitors", "timestamp")
    for entry in entries:
        head = s3.head_object(Bucket=bucket, Key=f"rec/{entry['file']}", ChecksumMode="ENABLED")
        assert head["ContentLength"] == entry["size"]
        assert head["ChecksumSHA256"] == entry["checksum"]


async def test_voicemessages_download_to_the_bucket_root(
    client: VoipStudio, fake: FakeVoipStudio, s3: Any, bucket: str
) -> None:
    result = await voipstudio(
        client, "voicemessages", "download", *PERIOD, "--dest", f"s3://{bucket}"
    )
    assert result.code == 0, result.err
    entries = manifest(objects(s3, bucket), "manifest.jsonl")
    assert sorted(e["id"] for e in entries) == period_ids(fake, "voicemessages", "origtime")
