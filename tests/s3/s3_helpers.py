"""Helpers for the S3 tests: running the command, the test period, reading the bucket."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from voipstudio_async import VoipStudio
from voipstudio_async.cli import run
from voipstudio_async.testing import FakeVoipStudio

SINCE = "2026-07-01"
UNTIL = "2026-09-01"
PERIOD = ["--since", SINCE, "--until", UNTIL]
MEDIA = (
    ("monitors", "monitor_mp3", "timestamp"),
    ("voicemessages", "voicemessage_mp3", "origtime"),
)


@dataclass
class Result:
    code: int
    out: str
    err: str


async def voipstudio(client: VoipStudio | None, *argv: str, **kwargs: Any) -> Result:
    """``voipstudio ARGV`` in process (against ``client`` when given)."""
    out, err = io.StringIO(), io.StringIO()
    code = await run(list(argv), client=client, stdout=out, stderr=err, **kwargs)
    return Result(code, out.getvalue(), err.getvalue())


def period_ids(fake: FakeVoipStudio, kind: Any, field: str) -> list[int]:
    """Ids of the fake's records of ``kind`` in [SINCE, UNTIL)."""
    since, until = datetime.fromisoformat(SINCE), datetime.fromisoformat(UNTIL)
    return [
        r["id"]
        for r in fake.records(kind)
        if r.get(field) is not None and since <= datetime.fromisoformat(r[field]) < until
    ]


def objects(s3: Any, bucket: str) -> dict[str, bytes]:
    """Every object in the bucket, by key."""
    found: dict[str, bytes] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def open_uploads(s3: Any, bucket: str) -> list[str]:
    """Keys of the multipart uploads still open in the bucket."""
    return [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def manifest(found: dict[str, bytes], key: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in found[key].decode().splitlines()]


def assert_archived(fake: FakeVoipStudio, found: dict[str, bytes], prefix: str) -> None:
    """Both media kinds below ``prefix``: every period item once, byte-identical, and
    nothing under the prefix but those objects and the manifests."""
    expected_keys = set()
    for collection, download, field in MEDIA:
        entries = manifest(found, f"{prefix}{collection}/manifest.jsonl")
        assert sorted(e["id"] for e in entries) == period_ids(fake, collection, field)
        expected_keys.add(f"{prefix}{collection}/manifest.jsonl")
        for entry in entries:
            key = f"{prefix}{collection}/{entry['file']}"
            expected_keys.add(key)
            served = fake.expected_sha256(download, entry["id"])
            assert hashlib.sha256(found[key]).hexdigest() == served == entry["sha256"]
            assert entry["size"] == len(found[key])
    media = {k for k in found if k.startswith(prefix) and "/" in k[len(prefix) :]}
    assert media == expected_keys
