"""``cdrs export -o s3://bucket/key``: CSV and JSON Lines, uploaded as the rows come."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from s3_helpers import PERIOD, objects, open_uploads, period_ids, voipstudio

from voipstudio_async import VoipStudio
from voipstudio_async.cli import _s3
from voipstudio_async.testing import FakeVoipStudio


def ids(body: bytes, fmt: str) -> list[int]:
    text = body.decode()
    if fmt == "csv":
        return [int(row["id"]) for row in csv.DictReader(io.StringIO(text))]
    return [json.loads(line)["id"] for line in text.splitlines()]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_export_writes_the_object_whole(
    client: VoipStudio, fake: FakeVoipStudio, s3: Any, bucket: str, fmt: str
) -> None:
    key = f"exports/cdrs.{fmt}"
    result = await voipstudio(
        client, "cdrs", "export", *PERIOD, "--format", fmt, "-o", f"s3://{bucket}/{key}"
    )
    assert result.code == 0, result.err
    assert f"-> s3://{bucket}/{key}" in result.out
    assert list(objects(s3, bucket)) == [key]
    assert ids(objects(s3, bucket)[key], fmt) == period_ids(fake, "cdrs", "calldate")


async def test_a_large_export_goes_up_in_parts_and_matches_a_local_one(
    s3: Any, bucket: str, tmp_path: Any
) -> None:
    fake = FakeVoipStudio(seed=1, cdrs=14000, monitors=1, voicemessages=1, msdrs=1, chats=1)
    local = tmp_path / "cdrs.jsonl"
    argv = ["cdrs", "export", "--since", "2025-01-01", "--until", "2027-01-01", "--format", "jsonl"]
    creds = fake.credentials
    async with VoipStudio(
        creds.user_id, creds.api_key, base_url=fake.base_url, transport=fake.transport()
    ) as client:
        assert (await voipstudio(client, *argv, "-o", str(local))).code == 0
        result = await voipstudio(client, *argv, "-o", f"s3://{bucket}/all.jsonl")
    assert result.code == 0, result.err
    assert local.stat().st_size > _s3.PART_SIZE  # so the upload had several parts
    assert s3.head_object(Bucket=bucket, Key="all.jsonl")["ETag"].endswith('-2"')
    assert objects(s3, bucket)["all.jsonl"] == local.read_bytes()
    assert open_uploads(s3, bucket) == []
