"""The SDK's object storage (``voipstudio_async.storage``) from Python, against moto on
loopback: ``download_to_s3`` of ids and models, to a prefix or the bucket's root, its
manifest, re-runs, stale uploads, cut bodies, and the errors before anything is sent."""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from s3_helpers import objects, open_uploads

from voipstudio_async import VoipStudio
from voipstudio_async.storage import (
    MANIFEST_NAME,
    PART_SIZE,
    S3Location,
    S3Manifest,
    S3Store,
    StoredFile,
    checksums_match,
    download_to_s3,
    parse_s3_url,
)
from voipstudio_async.testing import FakeVoipStudio

ROOT = Path(__file__).resolve().parents[2]


def _manifest(found: dict[str, bytes], key: str) -> dict[int, dict[str, Any]]:
    lines = found[key].decode().splitlines()
    return {entry["id"]: entry for entry in map(json.loads, lines)}


@pytest.mark.parametrize("collection", ["monitors", "voicemessages"])
@pytest.mark.parametrize("prefix", ["", "calls/2026-08"])
@pytest.mark.parametrize("as_models", [False, True])
async def test_download_to_s3_archives_with_a_manifest(
    client: VoipStudio,
    fake: FakeVoipStudio,
    s3: Any,
    bucket: str,
    collection: str,
    prefix: str,
    as_models: bool,
) -> None:
    resource = getattr(client, collection)
    models = [item async for item in resource.iterate()][:5]
    items: list[Any] = models if as_models else [m.id for m in models]
    seen: list[int] = []
    result = await download_to_s3(
        resource, items, f"s3://{bucket}/{prefix}", on_item=lambda o: seen.append(o.id)
    )
    assert result.ok and sorted(seen) == sorted(m.id for m in models)
    below = f"{prefix}/" if prefix else ""
    found = objects(s3, bucket)
    manifest = _manifest(found, below + MANIFEST_NAME)
    download = "monitor_mp3" if collection == "monitors" else "voicemessage_mp3"
    for outcome, model in zip(result.outcomes, models, strict=True):
        stored = outcome.value
        assert isinstance(stored, StoredFile) and not stored.skipped
        body = found[stored.location.key]
        assert stored.location.key == below + manifest[model.id]["file"]
        assert hashlib.sha256(body).hexdigest() == stored.sha256 == manifest[model.id]["sha256"]
        assert stored.sha256 == fake.expected_sha256(download, model.id)  # type: ignore[arg-type]
        assert manifest[model.id]["checksum"] == stored.checksum
        assert (manifest[model.id]["metadata"] != {}) is as_models
    again = await download_to_s3(resource, items, f"s3://{bucket}/{prefix}")
    assert all(outcome.value is not None and outcome.value.skipped for outcome in again.outcomes)
    assert objects(s3, bucket) == found


async def test_a_multipart_object_is_checked_per_part_and_verified(
    client: VoipStudio, fake: FakeVoipStudio, s3: Any, bucket: str
) -> None:
    big = fake.add_monitor(size=2 * PART_SIZE + 7, timestamp="2026-08-15 10:00:00")
    result = await download_to_s3(client.monitors, [big], S3Location(bucket, "x"))
    stored = result.outcomes[0].value
    assert stored is not None and stored.checksum is not None and stored.checksum.endswith("-3")
    head = s3.head_object(Bucket=bucket, Key=stored.location.key, ChecksumMode="ENABLED")
    assert checksums_match(head["ChecksumSHA256"], stored.checksum)
    async with S3Store() as store, S3Manifest(store, S3Location(bucket, "x")) as manifest:
        assert (await manifest.verified(big)) is not None
        s3.put_object(Bucket=bucket, Key=stored.location.key, Body=b"tampered")
        assert (await manifest.verified(big)) is None


async def test_stale_uploads_of_its_names_are_aborted_others_kept(
    client: VoipStudio, s3: Any, bucket: str
) -> None:
    [first] = [m async for m in client.monitors.iterate()][:1]
    name = f"monitor-{first.id}.mp3"
    s3.create_multipart_upload(Bucket=bucket, Key=f"p/{name}")
    s3.create_multipart_upload(Bucket=bucket, Key="p/someone-elses.bin")
    result = await download_to_s3(client.monitors, [first.id], f"s3://{bucket}/p")
    assert result.ok
    assert open_uploads(s3, bucket) == ["p/someone-elses.bin"]


async def test_a_cut_body_is_retried_and_one_failure_stops_no_other(
    client: VoipStudio, fake: FakeVoipStudio, s3: Any, bucket: str
) -> None:
    ids = [m.id async for m in client.monitors.iterate()][:3]
    fake.cut_body(f"/monitors/{ids[0]}.mp3", times=2)
    fake.cut_body(f"/monitors/{ids[1]}.mp3")  # every time: fails once retries are spent
    progress: dict[int, list[int]] = {}
    result = await download_to_s3(
        client.monitors,
        ids,
        f"s3://{bucket}/r",
        on_progress=lambda i, done, total: progress.setdefault(i, []).append(done),
    )
    assert [outcome.ok for outcome in result.outcomes] == [True, False, True]
    assert all(seq == sorted(seq) for seq in progress.values())
    found = objects(s3, bucket)
    assert f"r/monitor-{ids[1]}.mp3" not in found
    assert set(_manifest(found, f"r/{MANIFEST_NAME}")) == {ids[0], ids[2]}
    assert open_uploads(s3, bucket) == []


@pytest.mark.parametrize(
    ("dest", "match"),
    [
        ("gs://b-1/x", "s3://"),
        ("s3://B_1/x", "valid bucket"),
        ("s3://b-1/a//b", "segment"),
        ("s3://b-1/x?versionId=1", "query"),
    ],
)
async def test_a_bad_destination_is_refused_before_anything_is_sent(
    client: VoipStudio, fake: FakeVoipStudio, dest: str, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        await download_to_s3(client.monitors, [1], dest)
    with pytest.raises(ValueError, match=match):
        parse_s3_url(dest)
    assert fake.requests == []


async def test_names_must_be_unique_and_plain(
    client: VoipStudio, fake: FakeVoipStudio, bucket: str
) -> None:
    with pytest.raises(ValueError, match="own name"):
        await download_to_s3(
            client.monitors, [1, 2], f"s3://{bucket}/x", file_name=lambda i: "a.mp3"
        )
    with pytest.raises(ValueError, match="without '/'"):
        await download_to_s3(client.monitors, [1], f"s3://{bucket}/x", file_name=lambda i: "a/b")
    assert fake.requests == []


async def test_a_missing_bucket_raises_oserror_naming_it(client: VoipStudio) -> None:
    async with S3Store() as store:
        with pytest.raises(OSError, match="s3://no-such-bucket-here/x"):
            await store.check_bucket(S3Location("no-such-bucket-here", "x"))


async def test_the_guide_example_runs_against_moto(
    client: VoipStudio, fake: FakeVoipStudio, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    guide = (ROOT / "docs" / "guides" / "writes-and-downloads.md").read_text(encoding="utf-8")
    section = guide.split("### Archiving to S3 from Python")[1]
    source = section.split("```python\n", 1)[1].split("```", 1)[0]
    s3.create_bucket(Bucket="call-archive")
    code = compile(source, "guide", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    await eval(code, {"vs": client})
    monitors = [m async for m in client.monitors.iterate()]
    assert capsys.readouterr().out == f"{len(monitors)} verified\n"
    found = objects(s3, "call-archive")
    assert f"2026-08/{MANIFEST_NAME}" in found
    assert found["exports/user-123456-cdrs.csv"].startswith(b"id,")  # the export's header
