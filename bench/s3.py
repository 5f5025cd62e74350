"""``python -m bench.s3``: archiving to S3 against archiving to a local directory.

Runs the real ``voipstudio monitors download`` (one process per run, as a user would)
against a loopback fake with 1,000 recordings of 200 KB, once into a directory and
once into a bucket of moto's S3 server on loopback (which shares the CPU), at
concurrency 32, and reports files/s and their ratio (target >= 0.5). Then downloads one
200 MB recording to S3 and reports the command's peak RSS growth over the same command
downloading one 200 KB recording (target <= +32 MB: streamed in parts, never whole).
Writes ``bench/results/s3.md`` and ``s3.json``.
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.s3", description=__doc__.split("\n\n")[0])
    p.add_argument("mode", nargs="?", choices=("measure", "serve"), default="measure")
    p.add_argument("--files", type=int, default=FILES)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    if args.mode == "serve":
        serve(args.files)
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
