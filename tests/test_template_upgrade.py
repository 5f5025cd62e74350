"""The template upgrade step of openapi/templates/README.md, run as written: it rebuilds an
override from the stock template exactly, refuses a patch that would only apply with fuzz,
and leaves no `.orig` or `.rej` file either way."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from test_templates import STOCK, TEMPLATES

README = TEMPLATES / "README.md"
pytestmark = pytest.mark.skipif(shutil.which("patch") is None, reason="needs GNU patch")


def readme_patch_command(template: Path, patch: Path) -> list[str]:
    """The README's `patch ...` line, pointed at ``template`` and ``patch``."""
    (line,) = re.findall(r"^ *(patch .*types\.patch)$", README.read_text(encoding="utf-8"), re.M)
    words = shlex.split(line)
    assert words[-2:] == ["openapi/templates/types.py.jinja", "openapi/templates/types.patch"]
    return [*words[:-2], str(template), str(patch)]


def run(command: list[str], cwd: Path) -> int:
    return subprocess.run(command, cwd=cwd, capture_output=True, check=False).returncode


def test_the_step_rebuilds_the_override_and_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "types.py.jinja"
    shutil.copy(STOCK / "types.py.jinja", target)
    assert run(readme_patch_command(target, TEMPLATES / "types.patch"), tmp_path) == 0
    assert target.read_text() == (TEMPLATES / "types.py.jinja").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["types.py.jinja"]


@pytest.mark.parametrize("change", ["context line edited", "lines moved"])
def test_a_patch_that_needs_fuzz_is_refused_without_leftovers(tmp_path: Path, change: str) -> None:
    # A newer stock template whose context around the hunk changed: with fuzz, patch
    # would apply it anyway (perhaps in the wrong place); the README's step must not.
    stock = (STOCK / "types.py.jinja").read_text()
    anchor = "        return False\n"
    assert stock.count(anchor) == 1
    if change == "context line edited":
        newer = stock.replace(anchor, "        return bool(0)\n")
    else:
        newer = "\n" * 40 + stock.replace(anchor, anchor + "\n# a new stock comment\n")
    target = tmp_path / "types.py.jinja"
    target.write_text(newer)
    loose = subprocess.run(
        ["patch", "--dry-run", str(target), str(TEMPLATES / "types.patch")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert loose.returncode == 0 and "fuzz" in loose.stdout  # what the step must refuse
    assert run(readme_patch_command(target, TEMPLATES / "types.patch"), tmp_path) != 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["types.py.jinja"]
