"""``python -m bench.s3``: archiving to S3 against archiving to a local directory.

Runs the real ``voipstudio monitors download`` (one process per run, as a user would)
against a loopback fake with 1,000 recordings of 200 KB, once into a directory and
once into a bucket of moto's S3 server on loopback (which shares the CPU), at
concurrency 32, and reports files/s and their ratio (target >= 0.5). Then downloads one
200 MB recording to S3 and reports the command's peak RSS growth over the same command
downloading one 200 KB recording (target <= +32 MB: streamed in parts, never whole).
Writes ``bench/results/s3.md`` and ``s3.json``.

``python -m bench.s3 clients`` compares the storage libraries on the same bytes, in the
same run, against moto on loopback: a raw aiobotocore client's upload (PUT, or a
multipart upload without checksums) as the baseline, ``voipstudio_async.storage``'s
``S3Store`` upload (aiobotocore's public client, SHA-256 per part), and obstore's
``put_async`` with ``checksum_algorithm="SHA256"``; each in its own process, 200 files
of 200 KB at concurrency 32 and 2 files of 40 MB, streamed in 1 MiB chunks. Reports
MB/s, the ratio to the baseline and peak RSS; writes ``bench/results/s3_clients.md``.
obstore is not a dependency of the project: ``pip install obstore`` first (``make bench``
runs only the archive measure above).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
SCRIPT = Path(sys.executable).with_name("voipstudio")
FILES, FILE_SIZE, BIG_SIZE, CONCURRENCY = 1000, 200_000, 200_000_000, 32
# The periods of the fake served by `serve`: the many files, the big one, one small one.
MANY = ("2026-07-01", "2026-08-01")
BIG = ("2026-09-01", "2026-09-02")
ONE = ("2026-10-01", "2026-10-02")
BUCKET = "bench-archive"


def serve(files: int) -> None:
    """Serve the benchmark's fake on loopback until stdin closes (run as a subprocess)."""
    from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

    fake = FakeVoipStudio(seed=0, cdrs=1, monitors=0, voicemessages=0, msdrs=0, chats=0)
    for i in range(files):
        day, second = 1 + i * 28 // files, i % 86400
        stamp = f"2026-07-{day:02d} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
        fake.add_monitor(size=FILE_SIZE, timestamp=stamp)
    fake.add_monitor(size=BIG_SIZE, timestamp=f"{BIG[0]} 12:00:00")
    fake.add_monitor(size=FILE_SIZE, timestamp=f"{ONE[0]} 12:00:00")
    with serve_in_thread(fake) as base_url:
        creds = fake.credentials
        print(json.dumps([base_url, creds.user_id, creds.api_key]), flush=True)
        sys.stdin.read()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _servers(files: int) -> Iterator[dict[str, str]]:
    """The fake and moto on loopback; yields the command's environment."""
    port = _free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    fake = subprocess.Popen(
        [sys.executable, "-m", "bench.s3", "serve", "--files", str(files)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fake.stdout is not None
        base_url, user_id, api_key = json.loads(fake.stdout.readline())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VOIPSTUDIO_"))}
        env |= {
            "VOIPSTUDIO_BASE_URL": base_url,
            "VOIPSTUDIO_USER_ID": str(user_id),
            "VOIPSTUDIO_API_KEY": api_key,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        _create_bucket(env)
        yield env
    finally:
        for proc in (fake, moto):
            proc.terminate()
            proc.wait(30)


def _create_bucket(env: dict[str, str]) -> None:
    import boto3

    deadline = time.monotonic() + 60
    while True:
        try:
            boto3.client(
                "s3",
                endpoint_url=env["AWS_ENDPOINT_URL"],
                aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                region_name=env["AWS_DEFAULT_REGION"],
            ).create_bucket(Bucket=BUCKET)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _run(env: dict[str, str], period: tuple[str, str], dest: str) -> tuple[float, int]:
    """Run one download; its wall time in seconds and peak RSS in bytes."""
    argv = [str(SCRIPT), "-q", "monitors", "download", "--since", period[0], "--until"]
    argv += [period[1], "--dest", dest, "--concurrency", str(CONCURRENCY)]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - started
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(argv[1:])} failed: {err}")
    return took, usage.ru_maxrss * 1024


def measure(files: int, repeats: int) -> dict[str, Any]:
    results: dict[str, Any] = {"files": files, "file_size": FILE_SIZE, "concurrency": CONCURRENCY}
    with _servers(files) as env, tempfile.TemporaryDirectory() as tmp:
        for name in ("local", "s3"):
            best = float("inf")
            for run in range(repeats):
                dest = f"{tmp}/{name}{run}" if name == "local" else f"s3://{BUCKET}/{name}{run}"
                best = min(best, _run(env, MANY, dest)[0])
            results[f"{name}_files_per_s"] = round(files / best, 1)
        results["ratio"] = round(results["s3_files_per_s"] / results["local_files_per_s"], 2)
        _, small_rss = _run(env, ONE, f"s3://{BUCKET}/one")
        took, big_rss = _run(env, BIG, f"s3://{BUCKET}/big")
        results["big_size"] = BIG_SIZE
        results["big_seconds"] = round(took, 1)
        results["rss_small_mb"] = round(small_rss / 2**20, 1)
        results["rss_big_mb"] = round(big_rss / 2**20, 1)
        results["rss_growth_mb"] = round((big_rss - small_rss) / 2**20, 1)
    return results


def render(results: dict[str, Any]) -> str:
    return "\n".join(
        [
            "| case | result | target |",
            "|---|---|---|",
            f"| {results['files']:,} x 200 KB to a directory, concurrency 32 | "
            f"{results['local_files_per_s']} files/s | |",
            f"| the same to S3 (moto on loopback) | {results['s3_files_per_s']} files/s "
            f"({results['ratio']}x) | >= 0.5x |",
            f"| one 200 MB recording to S3: peak RSS growth over one of 200 KB | "
            f"+{results['rss_growth_mb']} MB ({results['rss_small_mb']} -> "
            f"{results['rss_big_mb']} MB, {results['big_seconds']} s) | <= +32 MB |",
        ]
    )


CLIENTS = ("raw", "store", "obstore")
SMALL_FILES, SMALL_SIZE, LARGE_FILES, LARGE_SIZE, CHUNK = 200, 200_000, 2, 40_000_000, 2**20


def _chunks(index: int, size: int) -> Iterator[bytes]:
    """The same pseudo-random bytes for every client: ``size`` bytes in 1 MiB chunks."""
    import random

    rng = random.Random(index)
    for start in range(0, size, CHUNK):
        yield rng.randbytes(min(CHUNK, size - start))


async def _upload_all(client: str, endpoint: str, files: list[tuple[str, int]]) -> None:
    import asyncio

    from aiobotocore.session import get_session

    from voipstudio_async.storage import S3Location, S3Store

    gate = asyncio.Semaphore(CONCURRENCY)
    if client == "obstore":
        import obstore
        from obstore.store import S3Store as ObStore

        ob = ObStore(
            BUCKET,
            endpoint=endpoint,
            region="us-east-1",
            checksum_algorithm="SHA256",
            client_options={"allow_http": True},
        )

        async def one(key: str, index: int, size: int) -> None:
            async def body() -> Any:
                for chunk in _chunks(index, size):
                    yield chunk

            await obstore.put_async(ob, key, body(), chunk_size=8 * 2**20)

    elif client == "store":
        store = await S3Store(endpoint).__aenter__()

        async def one(key: str, index: int, size: int) -> None:
            async with store.upload(S3Location(BUCKET, key)) as upload:
                for chunk in _chunks(index, size):
                    await upload.write(chunk)
                await upload.commit(size)

    else:
        raw = await get_session().create_client("s3", endpoint_url=endpoint).__aenter__()

        async def one(key: str, index: int, size: int) -> None:
            where = {"Bucket": BUCKET, "Key": key}
            if size <= 8 * 2**20:
                await raw.put_object(**where, Body=b"".join(_chunks(index, size)))
                return
            upload_id = (await raw.create_multipart_upload(**where))["UploadId"]
            parts, buffer = [], bytearray()
            for chunk in [*_chunks(index, size), b""]:
                buffer += chunk
                if len(buffer) >= 8 * 2**20 or (not chunk and buffer):
                    number = len(parts) + 1
                    sent = await raw.upload_part(
                        **where, UploadId=upload_id, PartNumber=number, Body=bytes(buffer)
                    )
                    parts.append({"PartNumber": number, "ETag": sent["ETag"]})
                    buffer = bytearray()
            await raw.complete_multipart_upload(
                **where, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )

    async def gated(key: str, index: int, size: int) -> None:
        async with gate:
            await one(key, index, size)

    await asyncio.gather(*(gated(f"{client}/{i}", i, n) for i, (_, n) in enumerate(files)))


def _files() -> list[tuple[str, int]]:
    return [("s", SMALL_SIZE)] * SMALL_FILES + [("l", LARGE_SIZE)] * LARGE_FILES


def clients(repeats: int) -> dict[str, Any]:
    """Each client's best MB/s over ``repeats`` runs and its peak RSS, moto on loopback."""
    port = _free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    total = sum(size for _, size in _files())
    results: dict[str, Any] = {"bytes": total}
    try:
        _create_bucket(env)
        for _ in range(repeats):
            for client in CLIENTS:  # interleaved, so a busy moment hits every client
                argv = [sys.executable, "-m", "bench.s3", "upload", "--client", client]
                started = time.perf_counter()
                proc = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE)
                _, status, usage = os.wait4(proc.pid, 0)
                took = time.perf_counter() - started
                best = results.setdefault(client, {"mb_s": 0.0, "rss_mb": 0.0, "failed": []})
                code = os.waitstatus_to_exitcode(status)
                if code != 0:  # counted and shown: a client that crashes is a finding too
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    best["failed"].append(f"exit {code} {err.strip()[-200:]}".strip())
                    continue
                mb_s = total / took / 1e6
                best["mb_s"] = round(max(best["mb_s"], mb_s), 1)
                best["rss_mb"] = round(max(best["rss_mb"], usage.ru_maxrss / 1024), 1)
    finally:
        moto.terminate()
        moto.wait(30)
    for client in CLIENTS:
        mb_s = results[client]["mb_s"]
        results[client]["ratio"] = round(mb_s / results["raw"]["mb_s"], 2) if mb_s else 0.0
    return results


PARITY_ROWS = (
    # (what the archive needs, aiobotocore's public client, obstore 0.12's public API)
    (
        "SHA-256 sent per part, checked by S3",
        "yes: `ChecksumSHA256` per `upload_part`",
        'yes: `checksum_algorithm="SHA256"`',
    ),
    (
        "the stored checksum on HEAD (verified purge, no re-read)",
        'yes: `head_object(ChecksumMode="ENABLED")`',
        "no: `head()` gives path, size, e_tag, version",
    ),
    (
        "list and abort open multipart uploads (stale-upload clean-up)",
        "yes: `list_multipart_uploads`, `abort_multipart_upload`",
        "no: its docs advise a bucket lifecycle rule",
    ),
)
PARITY = "\n".join(
    [
        "Parity first (public APIs only):",
        "",
        "| the archive needs | aiobotocore client | obstore |",
        "|---|---|---|",
        *(f"| {need} | {boto} | {ob} |" for need, boto, ob in PARITY_ROWS),
        "",
        "Kept: aiobotocore's public client (obstore lacks two of the three).",
    ]
)


def render_clients(results: dict[str, Any]) -> str:
    names = {
        "raw": "raw aiobotocore client (baseline, no checksums)",
        "store": "voipstudio_async.storage.S3Store (aiobotocore, SHA-256 per part)",
        "obstore": "obstore put_async (checksum_algorithm=SHA256)",
    }
    rows = [
        f"| {names[c]} | {results[c]['mb_s']} MB/s ({results[c]['ratio']}x) | "
        f"{results[c]['rss_mb']} MB | {len(results[c]['failed'])} "
        f"{'; '.join(results[c]['failed'])} |"
        for c in CLIENTS
    ]
    head = (
        f"{SMALL_FILES} x 200 KB (concurrency {CONCURRENCY}) + {LARGE_FILES} x 40 MB "
        "to moto on loopback, each client in its own process"
    )
    table = ["| client | throughput (best) | peak RSS | failed runs |", "|---|---|---|---|", *rows]
    return "\n".join([head, "", *table, "", PARITY])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.s3", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "mode", nargs="?", choices=("measure", "serve", "clients", "upload"), default="measure"
    )
    p.add_argument("--client", choices=CLIENTS, default="raw")
    p.add_argument("--files", type=int, default=FILES)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    if args.mode == "serve":
        serve(args.files)
        return 0
    if args.mode == "upload":
        import asyncio

        asyncio.run(_upload_all(args.client, os.environ["AWS_ENDPOINT_URL"], _files()))
        return 0
    if args.mode == "clients":
        table = render_clients(clients(max(1, args.repeats)))
        print(table)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "s3_clients.md").write_text(table + "\n")
        return 0
    results = measure(args.files, max(1, args.repeats))
    table = render(results)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "s3.md").write_text(table + "\n")
    (args.out / "s3.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
