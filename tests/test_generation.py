"""Generation is deterministic, and a spec change without regeneration is caught."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    """Run a generation step; a failure shows the step's own output, not only its status."""
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        pytest.fail(
            f"{Path(command[0]).name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}",
            pytrace=False,
        )


def generate(spec: Path, out: Path) -> Path:
    """As `make generate`, into ``out``: the spec's derived parts rewritten in place, the
    generator, then the headers, the stamp and the spec's facts (_spec_facts.py)."""
    package = out / "voipstudio_history_client"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    _run([sys.executable, str(ROOT / "openapi" / "derive.py"), str(spec)])
    _run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--config",
            str(ROOT / "openapi" / "openapi-python-client.yaml"),
            "--custom-template-path",
            str(ROOT / "openapi" / "templates"),
            "--meta",
            "none",
            "--output-path",
            str(package),
            "--fail-on-warning",
        ],
        env,
    )
    (package / "py.typed").write_text("# Marker file for PEP 561\n", encoding="utf-8")
    _run([sys.executable, str(ROOT / "openapi" / "stamp_generated.py"), str(package), str(spec)])
    return package


def differing(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b)
    found = [*cmp.left_only, *cmp.right_only, *cmp.diff_files]
    for name, _sub in cmp.subdirs.items():
        found += [f"{name}/{item}" for item in differing(a / name, b / name)]
    return found


@pytest.mark.skipif(shutil.which("ruff", path=str(BIN)) is None, reason="needs make setup")
def test_changing_one_field_without_regenerating_is_detected(tmp_path: Path) -> None:
    spec = (ROOT / "openapi" / "history.yaml").read_text(encoding="utf-8")
    needle = "        nb_notes:\n          readOnly: true\n          type: integer\n"
    assert spec.count(needle) == 1
    changed = tmp_path / "history.yaml"
    changed.write_text(
        spec.replace(
            needle, "        nb_notes:\n          readOnly: true\n          type: string\n"
        )
    )
    first = generate(changed, tmp_path / "a")
    second = generate(changed, tmp_path / "b")
    assert differing(first, second) == []
    assert "models/cdr.py" in differing(first, ROOT / "generated" / "voipstudio_history_client")


def test_a_generator_failure_shows_its_output(tmp_path: Path) -> None:
    broken = tmp_path / "history.yaml"
    broken.write_text("openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /x: 7\n")
    with pytest.raises(pytest.fail.Exception) as failed:
        generate(broken, tmp_path / "out")
    assert "exited" in str(failed.value) and len(str(failed.value).splitlines()) > 2
