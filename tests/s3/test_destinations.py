"""One destination shape for local directories and S3 prefixes (``Destination``):
``download_many`` and ``users.export_cdrs_csv`` save to a path, a ``LocalDirectory`` or an
``S3Destination`` (moto on loopback) with the same reporting: every item reported,
nothing at a final name unless complete, cut bodies retried by the client's rules.
Also the missing ``s3`` extra and ``s3://`` strings, refused before anything is sent."""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _support import mypy_strict
from s3_helpers import objects, open_uploads

from voipstudio_async import (
    DownloadResult,
    IncompleteDownloadError,
    LocalDirectory,
    MissingExtraError,
    VoipStudio,
    VoipStudioError,
)
from voipstudio_async.storage import (
    MANIFEST_NAME,
    PART_SIZE,
    S3Destination,
    S3Location,
    S3Store,
    StoredFile,
    checksums_match,
    download_to_s3,
)
from voipstudio_async.testing import FakeVoipStudio

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Where:
    """A destination of one kind and how to look at what it holds."""

    kind: str
    dest: Any
    names: Callable[[], set[str]]
    """Names saved at their final place (never a part file or a manifest)."""
    read: Callable[[Any], bytes]
    """The bytes of what a result value describes."""
    leftovers: Callable[[], list[str]]
    """Part files on disk, or multipart uploads still open in the bucket."""


def _local(kind: str, directory: Path) -> Where:
    def names() -> set[str]:
        if not directory.is_dir():
            return set()
        return {p.name for p in directory.iterdir() if not p.name.startswith(".")}

    def leftovers() -> list[str]:
        if not directory.is_dir():
            return []
        return [p.name for p in directory.iterdir() if p.name.endswith(".part")]

    dest = directory if kind == "path" else LocalDirectory(directory)
    return Where(kind, dest, names, lambda value: value.path.read_bytes(), leftovers)


def _s3(s3: Any, bucket: str, prefix: str) -> Where:
    def names() -> set[str]:
        return {
            key.removeprefix(prefix)
            for key in objects(s3, bucket)
            if key.startswith(prefix) and not key.endswith(MANIFEST_NAME)
        }

    def read(value: StoredFile) -> bytes:
        assert value.location.bucket == bucket
        body: bytes = s3.get_object(Bucket=bucket, Key=value.location.key)["Body"].read()
        return body

    dest = S3Destination(f"s3://{bucket}/{prefix}")
    return Where("s3", dest, names, read, lambda: open_uploads(s3, bucket))


@pytest.fixture(params=["path", "local", "s3"])
def where(request: pytest.FixtureRequest, tmp_path: Path, s3: Any, bucket: str) -> Where:
    """A path (today's shape), a ``LocalDirectory`` or an ``S3Destination``."""
    if request.param == "s3":
        return _s3(s3, bucket, "calls/2026-08/")
    return _local(request.param, tmp_path / "calls")


def _check_value(where: Where, value: Any) -> None:
    assert isinstance(value, StoredFile if where.kind == "s3" else DownloadResult)


@pytest.mark.parametrize("collection", ["monitors", "voicemessages"])
@pytest.mark.parametrize("as_models", [False, True])
async def test_every_item_is_saved_reported_and_kept_on_a_rerun(
    client: VoipStudio,
    fake: FakeVoipStudio,
    where: Where,
    collection: str,
    as_models: bool,
) -> None:
    resource = getattr(client, collection)
    models = [item async for item in resource.iterate()][:4]
    items: list[Any] = models if as_models else [m.id for m in models]
    seen: list[int] = []
    result = await resource.download_many(
        [*items, items[0]], where.dest, on_item=lambda o: seen.append(o.id)
    )
    ids = [m.id for m in models]
    assert [o.id for o in result.outcomes] == [*ids, ids[0]] and result.ok
    assert sorted(seen) == sorted(ids)  # once per distinct id
    download = "monitor_mp3" if collection == "monitors" else "voicemessage_mp3"
    prefix = "monitor" if collection == "monitors" else "voicemessage"
    for outcome in result.outcomes:
        value = outcome.value
        _check_value(where, value)
        assert not value.skipped
        body = where.read(value)
        assert hashlib.sha256(body).hexdigest() == value.sha256 == value.sha256
        assert value.sha256 == fake.expected_sha256(download, outcome.id)  # type: ignore[arg-type]
        assert value.size == len(body)
    assert where.names() == {f"{prefix}-{i}.mp3" for i in ids}
    sent = len(fake.requests)
    again = await resource.download_many(items, where.dest)
    assert all(o.value is not None and o.value.skipped for o in again.outcomes)
    assert not [r for r in fake.requests[sent:] if r.path.endswith(".mp3")]
    assert where.leftovers() == []


async def test_a_cut_body_is_retried_and_a_failure_fails_only_its_item(
    client: VoipStudio, fake: FakeVoipStudio, where: Where
) -> None:
    ids = [m.id async for m in client.monitors.iterate()][:3]
    fake.cut_body(f"/monitors/{ids[0]}.mp3", times=2)
    fake.cut_body(f"/monitors/{ids[1]}.mp3")  # every time: fails once retries are spent
    progress: dict[int, list[int]] = {}
    seen: list[int] = []
    result = await client.monitors.download_many(
        ids,
        where.dest,
        on_progress=lambda i, done, total: progress.setdefault(i, []).append(done),
        on_item=lambda o: seen.append(o.id),
    )
    assert [o.ok for o in result.outcomes] == [True, False, True]
    assert isinstance(result.outcomes[1].error, IncompleteDownloadError)
    assert sorted(seen) == sorted(ids)
    assert all(seq == sorted(seq) for seq in progress.values())
    assert where.names() == {f"monitor-{ids[0]}.mp3", f"monitor-{ids[2]}.mp3"}
    assert where.leftovers() == []


async def test_a_body_breaking_after_a_whole_part_leaves_nothing_at_its_name(
    client: VoipStudio, fake: FakeVoipStudio, where: Where
) -> None:
    big = fake.add_monitor(size=PART_SIZE + 4096, timestamp="2026-08-15 10:00:00")
    small = fake.add_monitor(size=1000, timestamp="2026-08-15 11:00:00")
    # Past the first part: in S3 that part was uploaded before the body broke.
    fake.cut_body(f"/monitors/{big}.mp3", after_bytes=PART_SIZE + 1024)
    result = await client.monitors.download_many([big, small], where.dest)
    assert [o.ok for o in result.outcomes] == [False, True]
    assert isinstance(result.outcomes[0].error, IncompleteDownloadError)
    assert where.names() == {f"monitor-{small}.mp3"}
    assert where.leftovers() == []


class _FailingSecondPart(S3Store):
    """S3 refuses the second part of every multipart upload (after its own retries)."""

    async def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        if method == "upload_part" and kwargs["PartNumber"] == 2:
            raise OSError(5, "S3 refused the part (injected)")
        return await super().call(method, **kwargs)


async def test_s3_failing_mid_upload_fails_the_item_and_leaves_no_object(
    client: VoipStudio, fake: FakeVoipStudio, s3: Any, bucket: str
) -> None:
    big = fake.add_monitor(size=2 * PART_SIZE + 7, timestamp="2026-08-15 10:00:00")
    small = fake.add_monitor(size=1000, timestamp="2026-08-15 11:00:00")
    async with _FailingSecondPart() as store:
        dest = S3Destination(S3Location(bucket, "x"), store=store)
        result = await client.monitors.download_many([big, small], dest)
    assert [o.ok for o in result.outcomes] == [False, True]
    assert "injected" in str(result.outcomes[0].error)
    found = objects(s3, bucket)
    assert f"x/monitor-{big}.mp3" not in found and f"x/monitor-{small}.mp3" in found
    manifest = [line for line in found[f"x/{MANIFEST_NAME}"].decode().splitlines() if line]
    assert len(manifest) == 1 and f'"id": {small}' in manifest[0]
    assert open_uploads(s3, bucket) == []
    # An S3 failure is not the API's: no download was sent again for it.
    assert len([r for r in fake.requests if r.path == f"/monitors/{big}.mp3"]) == 1


async def test_download_to_s3_is_download_many_into_an_s3_destination(
    client: VoipStudio, s3: Any, bucket: str
) -> None:
    ids = [m.id async for m in client.monitors.iterate()][:2]
    one = await download_to_s3(client.monitors, ids, f"s3://{bucket}/a", kind="call")
    two = await client.monitors.download_many(ids, S3Destination(f"s3://{bucket}/b", kind="call"))
    found = objects(s3, bucket)
    assert found[f"a/{MANIFEST_NAME}"].count(b'"kind": "call"') == 2
    for a, b in zip(one.outcomes, two.outcomes, strict=True):
        assert a.value is not None and b.value is not None
        assert a.value.location.key.removeprefix("a/") == b.value.location.key.removeprefix("b/")
        assert (a.value.sha256, a.value.checksum) == (b.value.sha256, b.value.checksum)


# -- the export ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["path", "dir", "local", "s3-prefix", "s3-key"])
async def test_the_csv_export_saves_the_same_bytes_to_every_destination(
    client: VoipStudio, fake: FakeVoipStudio, s3: Any, bucket: str, tmp_path: Path, shape: str
) -> None:
    uid = fake.credentials.user_id
    reference = await client.users.export_cdrs_csv(uid, tmp_path / "reference.csv")
    expected = reference.path.read_bytes()
    assert expected.count(b"\n") > 1
    progress: list[tuple[int, int | None]] = []
    dest: Any = {
        "path": tmp_path / "out.csv",
        "dir": tmp_path,
        "local": LocalDirectory(tmp_path / "new"),
        "s3-prefix": S3Destination(f"s3://{bucket}/exports/"),
        "s3-key": S3Destination(f"s3://{bucket}/exports/all.csv"),
    }[shape]
    saved = await client.users.export_cdrs_csv(
        uid, dest, on_progress=lambda done, total: progress.append((done, total))
    )
    assert progress[-1] == (len(expected), len(expected))
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert saved.sha256 == hashlib.sha256(expected).hexdigest() and saved.size == len(expected)
    if isinstance(saved, DownloadResult):
        assert saved.path.read_bytes() == expected
        assert saved.path.name == ("out.csv" if shape == "path" else f"user-{uid}-cdrs.csv")
        return
    key = "exports/all.csv" if shape == "s3-key" else f"exports/user-{uid}-cdrs.csv"
    assert saved.location == S3Location(bucket, key)
    assert objects(s3, bucket) == {key: expected}
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert saved.checksum is not None and checksums_match(head["ChecksumSHA256"], saved.checksum)


@pytest.mark.parametrize("shape", ["local", "s3"])
async def test_an_export_that_keeps_breaking_leaves_nothing(
    client: VoipStudio, fake: FakeVoipStudio, s3: Any, bucket: str, tmp_path: Path, shape: str
) -> None:
    uid = fake.credentials.user_id
    s3.create_multipart_upload(Bucket=bucket, Key=f"e/user-{uid}-cdrs.csv")  # a killed run's
    fake.cut_body(f"/users/{uid}/cdrs.csv")
    dest = LocalDirectory(tmp_path) if shape == "local" else S3Destination(f"s3://{bucket}/e/")
    with pytest.raises(IncompleteDownloadError):
        await client.users.export_cdrs_csv(uid, dest)
    assert os.listdir(tmp_path) == []
    assert objects(s3, bucket) == {}
    assert open_uploads(s3, bucket) == ([] if shape == "s3" else [f"e/user-{uid}-cdrs.csv"])
    # One attempt to either, as a single download to a file has always been.
    assert len([r for r in fake.requests if r.path == f"/users/{uid}/cdrs.csv"]) == 1


# -- refused before anything is sent ------------------------------------------------------


@pytest.fixture
def without_s3_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiobotocore cannot be imported, as without ``pip install 'voipstudio-async[s3]'``."""
    for name in ("aiobotocore", "aiobotocore.session", "aiobotocore.config"):
        monkeypatch.setitem(sys.modules, name, None)


CALLS_NEEDING_THE_EXTRA: dict[str, Callable[[VoipStudio, str], Any]] = {
    "S3Destination": lambda vs, url: S3Destination(url),
    "S3Store": lambda vs, url: S3Store(),
    "download_many": lambda vs, url: vs.monitors.download_many([1], S3Destination(url)),
    "download_to_s3": lambda vs, url: download_to_s3(vs.monitors, [1], url),
    "export_cdrs_csv": lambda vs, url: vs.users.export_cdrs_csv(1, S3Destination(url)),
}


@pytest.mark.parametrize("call", list(CALLS_NEEDING_THE_EXTRA))
async def test_without_the_s3_extra_a_typed_error_names_it_before_sending(
    client: VoipStudio, fake: FakeVoipStudio, without_s3_extra: None, call: str
) -> None:
    async def run() -> None:
        called = CALLS_NEEDING_THE_EXTRA[call](client, "s3://bucket-1/x/")
        if inspect.isawaitable(called):
            await called

    with pytest.raises(MissingExtraError) as caught:
        await run()
    assert "pip install 'voipstudio-async[s3]'" in str(caught.value)
    assert isinstance(caught.value, ImportError) and isinstance(caught.value, VoipStudioError)
    assert fake.requests == []


@pytest.mark.parametrize("url", ["s3://bucket-1/x/", "S3://bucket-1/x"])
@pytest.mark.parametrize("extra", [True, False])
async def test_an_s3_string_is_refused_naming_s3destination_and_the_extra(
    client: VoipStudio,
    fake: FakeVoipStudio,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    extra: bool,
) -> None:
    monkeypatch.chdir(tmp_path)  # a local "s3:" directory would appear here
    if not extra:
        monkeypatch.setitem(sys.modules, "aiobotocore", None)
    for call in (
        client.monitors.download_many([1], url),
        client.users.export_cdrs_csv(1, url),
        client.monitors.download(1, url),
        client.voicemessages.download(1, url),
        client.cdrs.download_pcap(1, url),
    ):
        with pytest.raises(ValueError, match=r"S3Destination\(.*voipstudio-async\[s3\]"):
            await call
    assert fake.requests == []
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("url", "match"),
    [("gs://b-1/x", "s3://"), ("s3://B_1/x", "valid bucket"), ("s3://b-1/a//b", "segment")],
)
def test_a_bad_s3_destination_is_refused_when_built(url: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        S3Destination(url)


def test_the_destinations_show_where_they_save_and_nothing_else(tmp_path: Path) -> None:
    assert repr(LocalDirectory(tmp_path)) == f"LocalDirectory({str(tmp_path)!r})"
    assert repr(S3Destination("s3://b-1/calls/")) == "S3Destination('s3://b-1/calls')"


TYPING_SNIPPET = """
from pathlib import Path
from typing import assert_type

from voipstudio_async import BulkResult, DownloadResult, LocalDirectory, VoipStudio
from voipstudio_async.storage import S3Destination, StoredFile


async def check(vs: VoipStudio, d: Path) -> None:
    s3 = S3Destination("s3://b-1/x/")
    assert_type(await vs.monitors.download_many([1], d), BulkResult[DownloadResult])
    assert_type(await vs.monitors.download_many([1], "x"), BulkResult[DownloadResult])
    local = await vs.voicemessages.download_many([1], LocalDirectory(d))
    assert_type(local, BulkResult[DownloadResult])
    stored = await vs.monitors.download_many([1], s3, on_item=lambda o: print(o.value))
    assert_type(stored, BulkResult[StoredFile])
    assert_type(await vs.users.export_cdrs_csv(1, d), DownloadResult)
    assert_type(await vs.users.export_cdrs_csv(1, s3), StoredFile)
    assert_type(await vs.users.export_cdrs_csv(1, LocalDirectory(d)), DownloadResult)
"""


def test_each_destination_types_what_it_saved(tmp_path: Path) -> None:
    mypy_strict(TYPING_SNIPPET, tmp_path)


# -- a stream of one's own (the command's `cdrs export -o s3://` goes through it) ----------


async def test_a_jsonl_export_of_ones_own_is_written_as_one_object(
    client: VoipStudio, s3: Any, bucket: str
) -> None:
    s3.create_multipart_upload(Bucket=bucket, Key="exports/cdrs.jsonl")  # a killed run's
    lines = [
        json.dumps(cdr.to_dict()).encode() + b"\n" async for cdr in client.cdrs.iterate_consistent()
    ]
    async with S3Destination(f"s3://{bucket}/exports/").open("cdrs.jsonl") as upload:
        assert objects(s3, bucket) == {} and open_uploads(s3, bucket) == []
        for line in lines:
            await upload.write(line)
        done = await upload.commit()
    assert upload.location == S3Location(bucket, "exports/cdrs.jsonl")
    assert objects(s3, bucket) == {"exports/cdrs.jsonl": b"".join(lines)}
    head = s3.head_object(Bucket=bucket, Key="exports/cdrs.jsonl", ChecksumMode="ENABLED")
    assert checksums_match(head["ChecksumSHA256"], done.checksum)
    assert done.sha256 == hashlib.sha256(b"".join(lines)).hexdigest()


@pytest.mark.parametrize("url", ["s3://{bucket}/e/all.jsonl", "s3://{bucket}/e/"])
async def test_a_stream_that_fails_after_a_part_leaves_nothing(
    s3: Any, bucket: str, url: str
) -> None:
    dest = S3Destination(url.format(bucket=bucket))

    async def write_then_fail() -> None:
        async with dest.open("all.jsonl") as upload:
            await upload.write(b"x" * (PART_SIZE + 10))  # one part sent
            assert open_uploads(s3, bucket) == ["e/all.jsonl"]
            raise RuntimeError("the rows failed")

    with pytest.raises(RuntimeError, match="the rows failed"):
        await write_then_fail()
    assert objects(s3, bucket) == {}
    assert open_uploads(s3, bucket) == []


@pytest.mark.parametrize(("name", "match"), [(None, "name the object"), ("a/b", "without '/'")])
async def test_a_prefix_needs_a_plain_name_to_write(
    s3: Any, bucket: str, name: str | None, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        async with S3Destination(f"s3://{bucket}/e/").open(name):
            pass
    assert objects(s3, bucket) == {} and open_uploads(s3, bucket) == []


async def test_the_guide_stream_example_runs_against_moto(
    client: VoipStudio, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    guide = (ROOT / "docs" / "guides" / "writes-and-downloads.md").read_text(encoding="utf-8")
    section = guide.split("`S3Destination.open()` (what")[1]
    source = section.split("```python\n", 1)[1].split("```", 1)[0]
    s3.create_bucket(Bucket="call-archive")
    code = compile(source, "guide", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    await eval(code, {"vs": client})
    body = objects(s3, "call-archive")["exports/cdrs-2026-08.jsonl"]
    expected = [
        cdr.to_dict()
        async for cdr in client.cdrs.iterate_consistent(filter=[("calldate", "gte", "2026-08-01")])
    ]
    assert [json.loads(line) for line in body.splitlines()] == expected != []
    assert capsys.readouterr().out == f"{len(body)} {hashlib.sha256(body).hexdigest()}\n"
