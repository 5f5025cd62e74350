"""The testing guide's `conftest.py` and test module work in a fresh project, in pytest's
own process, whether or not that project sets pytest-asyncio's ``asyncio_mode = auto``;
and the ``testing`` extra brings what they need."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

import pytest
from _docs import ROOT, blocks

GUIDE = ROOT / "docs" / "guides" / "testing.md"
LOOP_SCOPE_UNSET = 'The configuration option "asyncio_default_fixture_loop_scope" is unset'


def project_files() -> dict[str, str]:
    files = {
        b.marker.removeprefix("file "): b.source
        for b in blocks(GUIDE)
        if b.marker and b.marker.startswith("file ")
    }
    assert set(files) >= {"conftest.py"} and any(n.startswith("test_") for n in files)
    return files


@pytest.mark.parametrize(
    "ini", ["[pytest]\n", "[pytest]\nasyncio_mode = auto\n"], ids=["strict", "auto"]
)
def test_the_guides_files_pass_in_a_fresh_project(tmp_path: Path, ini: str) -> None:
    files = project_files()
    for name, source in files.items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(ini, encoding="utf-8")
    tests = sum(len(re.findall(r"^async def test_", s, re.M)) for s in files.values())

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VOIPSTUDIO_"))}
    # pytest-asyncio's own nudge to set its fixture loop scope, in any project that does
    # not, is not ours to silence (the guide says how); any other warning fails.
    loop_scope = f"ignore:{LOOP_SCOPE_UNSET}:pytest.PytestDeprecationWarning"
    argv = ["-q", "-p", "no:cacheprovider", "-W", "error", "-W", loop_scope]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.fullmatch(rf"{tests} passed in [0-9.]+s", summary), done.stdout


def test_the_testing_extra_brings_pytest_and_pytest_asyncio() -> None:
    extra = {
        re.split(r"[ ;<>=!~\[]", r, maxsplit=1)[0].lower()
        for r in requires("voipstudio-async") or []
        if re.search(r"""extra\s*==\s*["']testing["']""", r)
    }
    assert {"pytest", "pytest-asyncio", "uvicorn"} <= extra
