"""``archive --dest s3:// --purge``: only what is verified in the bucket right before the
DELETE is deleted (size and the stored ChecksumSHA256; a full re-read without one)."""

from __future__ import annotations

from typing import Any

import pytest
from s3_helpers import PERIOD, manifest, objects, period_ids, voipstudio

from voipstudio_async import VoipStudio
from voipstudio_async.cli._s3 import S3Store
from voipstudio_async.cli._storage import S3Location
from voipstudio_async.testing import FakeVoipStudio


def deleted_ids(fake: FakeVoipStudio, collection: str) -> set[int]:
    found: set[int] = set()
    for r in fake.requests:
        if r.method == "DELETE" and r.path.startswith(f"/{collection}/"):
            found |= {int(i) for i in r.path.rsplit("/", 1)[1].split(",")}
    return found


async def test_purge_keeps_objects_altered_in_the_bucket_after_the_prompt(
    client: VoipStudio,
    fake: FakeVoipStudio,
    s3: Any,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monitors = period_ids(fake, "monitors", "timestamp")
    voicemails = period_ids(fake, "voicemessages", "origtime")
    outside = set(fake.ids("monitors")) - set(monitors)
    zeroed, rewritten, removed = monitors[:3]
    reads: list[str] = []
    read_sha256 = S3Store.read_sha256

    async def counted(self: S3Store, location: S3Location) -> tuple[int, str] | None:
        reads.append(location.key)
        return await read_sha256(self, location)

    monkeypatch.setattr(S3Store, "read_sha256", counted)

    def tamper(question: str) -> bool:
        # While the user reads the prompt, three archived objects change in the bucket.
        entries = {e["id"]: e for e in manifest(objects(s3, bucket), "a/monitors/manifest.jsonl")}

        def key(item_id: int) -> str:
            return f"a/monitors/{entries[item_id]['file']}"

        # Same size, no SHA-256 stored: only a re-read tells.
        s3.put_object(Bucket=bucket, Key=key(zeroed), Body=b"\0" * entries[zeroed]["size"])
        # Same size, a SHA-256 stored (of the new bytes): the checksum tells.
        s3.put_object(
            Bucket=bucket,
            Key=key(rewritten),
            Body=b"\1" * entries[rewritten]["size"],
            ChecksumAlgorithm="SHA256",
        )
        s3.delete_object(Bucket=bucket, Key=key(removed))
        return True

    result = await voipstudio(
        client, "archive", *PERIOD, "--dest", f"s3://{bucket}/a", "--purge", confirm=tamper
    )

    assert result.code == 0, result.err
    assert deleted_ids(fake, "monitors") == set(monitors) - {zeroed, rewritten, removed}
    assert deleted_ids(fake, "voicemessages") == set(voicemails)
    assert {zeroed, rewritten, removed} <= set(fake.ids("monitors"))
    assert outside <= set(fake.ids("monitors"))
    assert f"{len(monitors) - 3} deleted; 3 kept (file not verified in the manifest)" in result.out
    # Objects stored with their checksum were verified without reading them back.
    assert len(reads) == 1 and reads[0].startswith("a/monitors/")
