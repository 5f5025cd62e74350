"""A real PostgreSQL server on loopback for a test session (imported as ``_postgres``, like
``_moto``): Debian's server binaries (``make setup`` installs them), run as the postgres
user when the tests run as root, scram-sha-256 with a password."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from _moto import free_port

PG_USER = "loader"
PG_PASSWORD = "pg-s3cret-pw"


def _postgres_bin() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    if not candidates:
        pytest.fail("no PostgreSQL server binaries: run `make setup` (apt-get install postgresql)")
    return candidates[-1].parent


@contextmanager
def postgres_server(database: str = "history") -> Iterator[str]:
    """Start a server on a free port with ``database``; yield its ``postgresql://`` URL."""
    import psycopg2

    bin_dir = _postgres_bin()
    account: dict[str, Any] = {}
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        entry = pwd.getpwnam("postgres")
        account = {"user": entry.pw_uid, "group": entry.pw_gid}
    home = Path(tempfile.mkdtemp(prefix="voipstudio-pg-"))
    data = home / "data"
    pwfile = home / "pw"
    pwfile.write_text(PG_PASSWORD)
    if account:
        for path in (home, pwfile):
            os.chown(path, account["user"], account["group"])
    subprocess.run(
        [
            bin_dir / "initdb",
            "-D",
            data,
            "-U",
            PG_USER,
            "--pwfile",
            pwfile,
            "--auth",
            "scram-sha-256",
            "--no-sync",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
        **account,
    )
    port = free_port()
    server = subprocess.Popen(
        [
            bin_dir / "postgres",
            "-D",
            data,
            "-p",
            str(port),
            "-k",
            home,
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **account,
    )
    login = {"host": "127.0.0.1", "port": port, "user": PG_USER, "password": PG_PASSWORD}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg2.connect(dbname="postgres", **login).close()
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        admin = psycopg2.connect(dbname="postgres", **login)
        admin.autocommit = True
        admin.cursor().execute(f"create database {database}")
        admin.close()
        yield f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{port}/{database}"
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(home, ignore_errors=True)
