"""The nightly PostgreSQL recipe (docs/guides/recipes.md) works as written: the command of
its cron script and of its systemd unit syncs with the password only in the ``.pgpass``
line the recipe shows, the environment file the script sources (and exports) holds what
the command reads, and no password is on the command line. Host, port, database and
password are the test server's."""

from __future__ import annotations

import io
import os
import re
import shlex
import stat
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg2
import pytest

from voipstudio_async.cli import EXIT_OK, run
from voipstudio_async.testing import FakeVoipStudio

RECIPE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "recipes.md"
SECTION = RECIPE.read_text(encoding="utf-8").split("## Nightly sync into PostgreSQL")[1]
SECTION = SECTION.split("\n## ")[0]
VOIPSTUDIO = "/opt/voipstudio/bin/voipstudio "


def _blocks(language: str) -> list[str]:
    """The section's blocks of ``language``, continuation lines (``\\``) joined."""
    found = re.findall(rf"```{language}\n(.*?)```", SECTION, re.S)
    return [re.sub(r" *\\\n *", " ", block) for block in found]


def _lines(language: str) -> list[str]:
    return [line for block in _blocks(language) for line in block.splitlines()]


def _cron_script() -> list[str]:
    """The lines of the script the crontab line runs."""
    crontab = next(line for line in _lines("text") if line[:1].isdigit())
    path = crontab.split()[-1]
    return next(
        block.splitlines()
        for block in _blocks("bash")
        if block.startswith("#!/bin/sh\n") and f"# {path} " in block
    )


def _command(where: str) -> list[str]:
    if where == "cron":
        line = next(line for line in _cron_script() if VOIPSTUDIO in line)
    else:
        line = next(line for line in _lines("ini") if line.startswith("ExecStart="))
    return shlex.split(line.split(VOIPSTUDIO, 1)[1])


def test_the_environment_file_holds_what_the_jobs_read(tmp_path: Path) -> None:
    env_file = _blocks("ini")[0]
    settings = dict(line.split("=", 1) for line in env_file.splitlines()[1:])
    assert list(settings) == ["VOIPSTUDIO_USER_ID", "VOIPSTUDIO_API_KEY"]
    assert "EnvironmentFile=/etc/voipstudio/sync.env" in _lines("ini")
    # The cron script, run by sh with the recipe's file, up to its command (here `env`):
    # the command's environment holds the file's settings (sourced and exported).
    (tmp_path / "sync.env").write_text(env_file)
    script = [line for line in _cron_script() if not line.startswith("exec ")]
    source = "\n".join([*script, "exec env"]).replace(
        "/etc/voipstudio/sync.env", str(tmp_path / "sync.env")
    )
    done = subprocess.run(
        ["sh", "-c", source],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    seen = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert settings.items() <= seen.items()


@pytest.mark.parametrize("where", ["cron", "systemd"])
async def test_the_recipe_syncs_with_the_password_only_in_pgpass(
    where: str,
    postgres_url: str,
    account: FakeVoipStudio,
    environ: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DLT_DATA_DIR", environ["DLT_DATA_DIR"])
    argv = _command(where)
    written = argv[argv.index("--to") + 1]
    assert urlsplit(written).password is None  # nothing secret on the command line
    server = urlsplit(postgres_url)
    argv[argv.index("--to") + 1] = written.replace(
        "db.internal:5432/analytics", f"127.0.0.1:{server.port}/history"
    )
    pgpass = next(line for line in _lines("text") if line.startswith("db.internal:"))
    home = tmp_path / "home"
    home.mkdir()
    (home / ".pgpass").write_text(
        pgpass.replace("db.internal:5432:analytics", f"127.0.0.1:{server.port}:history").replace(
            "replace-with-the-password", unquote(server.password or "")
        )
        + "\n"
    )
    (home / ".pgpass").chmod(stat.S_IRUSR | stat.S_IWUSR)  # 0600, as the recipe sets
    out, err = io.StringIO(), io.StringIO()
    code = await run(argv, stdout=out, stderr=err, environ={**environ, "HOME": str(home)})
    assert code == EXIT_OK, err.getvalue()
    assert err.getvalue() == "" and out.getvalue() == ""  # -q: quiet unless it fails
    with psycopg2.connect(postgres_url) as con, con.cursor() as cur:
        cur.execute(
            "select count(*) from voipstudio.cdrs where id = any(%s)", (account.ids("cdrs"),)
        )
        assert cur.fetchone() == (account.count("cdrs"),)
