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


def generate(spec: Path, out: Path) -> Path:
    package = out / "voipstudio_history_client"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(
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
        check=True,
        capture_output=True,
        env=env,
    )
    # As `make generate`: headers, the stamp and the spec's facts (_spec_facts.py).
    stamper = ROOT / "openapi" / "stamp_generated.py"
    subprocess.run([sys.executable, str(stamper), str(package), str(spec)], check=True)
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
    needle = "        nb_notes:\n          type: integer\n"
    assert needle in spec
    changed = tmp_path / "history.yaml"
    changed.write_text(spec.replace(needle, "        nb_notes:\n          type: string\n"))
    first = generate(changed, tmp_path / "a")
    second = generate(changed, tmp_path / "b")
    assert differing(first, second) == []
    assert "models/cdr.py" in differing(first, ROOT / "generated" / "voipstudio_history_client")
