"""``voipstudio archive``: everything of a period in one run, under faults; then the
voicemail move and the purge, which touch only files verified in the manifest."""

from __future__ import annotations

import contextlib
import csv
import json
from pathlib import Path

import pytest
from cli_helpers import PERIOD, Cli, files, period_ids

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio, serve_in_thread


def manifest_ids(directory: Path) -> set[int]:
    path = directory / "manifest.jsonl"
    return {json.loads(line)["id"] for line in path.read_text().splitlines()}


def writes(fake: FakeVoipStudio) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.requests if r.method not in ("GET", "HEAD")]


def deleted_ids(fake: FakeVoipStudio, collection: str) -> set[int]:
    found: set[int] = set()
    for method, path in writes(fake):
        if method == "DELETE" and path.startswith(f"/{collection}/"):
            found |= {int(i) for i in path.rsplit("/", 1)[1].split(",")}
    return found


def assert_files_correct(fake: FakeVoipStudio, dest: Path) -> None:
    """Every file the manifests list is byte-identical; no partial file anywhere."""
    for collection, download in (
        ("monitors", "monitor_mp3"),
        ("voicemessages", "voicemessage_mp3"),
    ):
        directory = dest / collection
        for line in (directory / "manifest.jsonl").read_text().splitlines():
            entry = json.loads(line)
            body = (directory / entry["file"]).read_bytes()
            assert body == fake.expected_bytes(download, entry["id"])  # type: ignore[arg-type]
        assert not [n for n in files(directory) if n.endswith(".part")]
        assert len(files(directory)) == len(manifest_ids(directory)) + 1
    assert not [p for p in dest.iterdir() if p.name.endswith(".part")]


async def test_archive_writes_everything_of_the_period(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    result = await cli("archive", *PERIOD, "--dest", str(tmp_path))
    assert result.code == 0, result.err
    with (tmp_path / "cdrs.csv").open(newline="") as file:
        assert [int(r["id"]) for r in csv.DictReader(file)] == period_ids(fake, "cdrs", "calldate")
    assert sorted(manifest_ids(tmp_path / "monitors")) == period_ids(fake, "monitors", "timestamp")
    voicemails = period_ids(fake, "voicemessages", "origtime")
    assert sorted(manifest_ids(tmp_path / "voicemessages")) == voicemails
    assert_files_correct(fake, tmp_path)
    assert writes(fake) == []
    for label in ("CDRs", "recordings", "voicemails"):
        assert label in result.out


@pytest.mark.parametrize("over", ["in process", "loopback"])
@pytest.mark.parametrize("broken_voicemail", [False, True])
async def test_archive_under_faults_is_complete_or_names_the_failures(
    fake: FakeVoipStudio, tmp_path: Path, broken_voicemail: bool, over: str
) -> None:
    fake.fail("*", 503, probability=0.1)
    fake.fail("/monitors/*.mp3", 429, times=6, retry_after=1)
    fake.cut_body("*.mp3", probability=0.2)
    broken = period_ids(fake, "voicemessages", "origtime")[0]
    if broken_voicemail:
        fake.fail(f"/voicemessages/{broken}.mp3", 503)  # always: cannot be archived
    sleeps: list[float] = []

    async def no_sleep(delay: float) -> None:
        sleeps.append(delay)

    with contextlib.ExitStack() as stack:
        on_loopback = over == "loopback"
        base_url = stack.enter_context(serve_in_thread(fake)) if on_loopback else fake.base_url
        async with VoipStudio(
            user_id=fake.credentials.user_id,
            api_key=fake.credentials.api_key,
            base_url=base_url,
            transport=None if on_loopback else fake.transport(),
            max_retries=5,
        ) as client:
            client._requester._sleep = no_sleep
            result = await Cli(client)(
                "archive", *PERIOD, "--dest", str(tmp_path), "--concurrency", "6"
            )

    # The Retry-After of the 429 burst was honoured (by the shared limiter: from the 429 on).
    assert any(0.95 < delay <= 1.0 for delay in sleeps)
    assert {f.kind for f in fake.faults if f.hits} == {"status", "truncate"}
    assert_files_correct(fake, tmp_path)
    failed = {
        int(line.split()[3].rstrip(":"))
        for line in result.err.splitlines()
        if line.startswith("voipstudio: failed ")
    }
    missing = set(period_ids(fake, "monitors", "timestamp")) - manifest_ids(tmp_path / "monitors")
    missing |= set(period_ids(fake, "voicemessages", "origtime")) - manifest_ids(
        tmp_path / "voicemessages"
    )
    assert failed == missing  # exactly the items that are not archived, if any
    assert (broken in failed) is broken_voicemail
    assert result.code == (1 if missing else 0)
    assert "Traceback" not in result.err


async def test_purge_dry_run_sends_no_write(cli: Cli, fake: FakeVoipStudio, tmp_path: Path) -> None:
    result = await cli(
        "archive",
        *PERIOD,
        "--dest",
        str(tmp_path),
        "--purge",
        "--move-voicemails",
        "Old",
        "--dry-run",
    )
    assert result.code == 0, result.err
    assert writes(fake) == []
    monitors = period_ids(fake, "monitors", "timestamp")
    assert f"dry run: would have deleted {len(monitors)} recordings" in result.out
    assert "dry run: would have moved to Old" in result.out
    assert fake.ids("monitors") and set(monitors) <= set(fake.ids("monitors"))


async def test_purge_deletes_only_what_the_manifest_verifies(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    assert (await cli("archive", *PERIOD, "--dest", str(tmp_path))).code == 0
    monitors = period_ids(fake, "monitors", "timestamp")
    voicemails = period_ids(fake, "voicemessages", "origtime")
    entries = {
        json.loads(line)["id"]: json.loads(line)
        for line in (tmp_path / "monitors" / "manifest.jsonl").read_text().splitlines()
    }
    corrupt, gone = monitors[0], monitors[1]
    target = tmp_path / "monitors" / entries[corrupt]["file"]
    target.write_bytes(b"\0" * target.stat().st_size)
    (tmp_path / "monitors" / entries[gone]["file"]).unlink()
    # The re-run cannot repair them: their downloads keep failing.
    fake.fail(f"/monitors/{corrupt}.mp3", 503)
    fake.fail(f"/monitors/{gone}.mp3", 404)
    fake.reset_log()

    result = await cli("archive", *PERIOD, "--dest", str(tmp_path), "--purge", "--yes")
    assert result.code == 1  # two downloads failed
    assert deleted_ids(fake, "monitors") == set(monitors) - {corrupt, gone}
    assert deleted_ids(fake, "voicemessages") == set(voicemails)
    assert {corrupt, gone} <= set(fake.ids("monitors"))
    assert "2 kept (file not verified in the manifest)" in result.out
    outside = set(fake.ids("monitors")) - set(monitors)
    assert outside  # recordings outside the period are never touched
    assert not set(fake.ids("monitors")) & (set(monitors) - {corrupt, gone})


async def test_purge_needs_yes_when_nobody_can_confirm(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    result = await cli("archive", *PERIOD, "--dest", str(tmp_path), "--purge")
    assert result.code == 2
    assert "--yes" in result.err
    assert fake.requests == []  # refused before any work


@pytest.mark.parametrize(("answer", "deletes"), [(False, False), (True, True)])
async def test_purge_asks_first(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path, answer: bool, deletes: bool
) -> None:
    questions: list[str] = []

    def confirm(question: str) -> bool:
        questions.append(question)
        return answer

    monitors = period_ids(fake, "monitors", "timestamp")
    result = await cli("archive", *PERIOD, "--dest", str(tmp_path), "--purge", confirm=confirm)
    assert result.code == 0, result.err
    assert len(questions) == 1 and f"Delete {len(monitors)} recordings" in questions[0]
    assert bool(deleted_ids(fake, "monitors")) is deletes


async def test_move_voicemails_after_archiving(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    voicemails = period_ids(fake, "voicemessages", "origtime")
    already = [i for i in voicemails if fake.get("voicemessages", i)["folder"] == "Old"]  # type: ignore[index]
    result = await cli("archive", *PERIOD, "--dest", str(tmp_path), "--move-voicemails", "Old")
    assert result.code == 0, result.err
    assert all(fake.get("voicemessages", i)["folder"] == "Old" for i in voicemails)  # type: ignore[index]
    assert f"{len(voicemails) - len(already)} moved to Old" in result.out
    assert {m for m, _ in writes(fake)} == {"PATCH"}


async def test_purge_keeps_a_file_corrupted_after_the_prompt(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    monitors = period_ids(fake, "monitors", "timestamp")
    victim = monitors[0]
    questions: list[str] = []

    def confirm(question: str) -> bool:
        # While the user reads the prompt, the archived file changes on disk.
        questions.append(question)
        lines = (tmp_path / "monitors" / "manifest.jsonl").read_text().splitlines()
        entry = next(e for e in map(json.loads, lines) if e["id"] == victim)
        target = tmp_path / "monitors" / entry["file"]
        target.write_bytes(b"\0" * target.stat().st_size)
        return True

    result = await cli("archive", *PERIOD, "--dest", str(tmp_path), "--purge", confirm=confirm)
    assert result.code == 0, result.err
    assert len(questions) == 1 and f"Delete {len(monitors)} recordings" in questions[0]
    assert deleted_ids(fake, "monitors") == set(monitors) - {victim}
    assert victim in fake.ids("monitors")
    assert f"{len(monitors) - 1} deleted; 1 kept (file not verified in the manifest)" in result.out


async def test_move_voicemails_moves_only_verified_ones(
    cli: Cli, fake: FakeVoipStudio, tmp_path: Path
) -> None:
    voicemails = period_ids(fake, "voicemessages", "origtime")
    folders = {i: fake.get("voicemessages", i)["folder"] for i in voicemails}  # type: ignore[index]
    broken = next(i for i in voicemails if folders[i] != "Old")
    fake.fail(f"/voicemessages/{broken}.mp3", 503)  # always: cannot be archived
    result = await cli("archive", *PERIOD, "--dest", str(tmp_path), "--move-voicemails", "Old")
    assert result.code == 1
    assert f"failed voicemail {broken}: 503" in result.err
    assert fake.get("voicemessages", broken)["folder"] == folders[broken]  # type: ignore[index]
    others = [i for i in voicemails if i != broken]
    assert all(fake.get("voicemessages", i)["folder"] == "Old" for i in others)  # type: ignore[index]
    moved = sum(folders[i] != "Old" for i in others)
    assert f"{moved} moved to Old; 1 kept (file not verified in the manifest)" in result.out
