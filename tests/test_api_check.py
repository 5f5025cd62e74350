"""`make api-check`: public-API breaks fail until the CHANGELOG names them; the stamp is current."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

import pytest
from test_generation import BIN, ROOT, generate

import voipstudio_async

GEN_PKG = ROOT / "generated" / "voipstudio_history_client"
CDR_CALLDATE = "voipstudio_history_client.models.cdr.Cdr.calldate"


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("api_check", ROOT / "tools" / "api_check.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


api_check = _load_tool()


def test_version_comes_from_the_package_metadata() -> None:
    assert voipstudio_async.__version__ == version("voipstudio-async")
    assert "__version__" in voipstudio_async.__all__


def test_the_stamp_records_the_generator_and_the_spec_it_was_built_from() -> None:
    stamp = json.loads((GEN_PKG / "_stamp.json").read_text(encoding="utf-8"))
    spec = (ROOT / "openapi" / "history.yaml").read_bytes()
    assert stamp["spec_sha256"] == hashlib.sha256(spec).hexdigest(), "run make generate"
    assert stamp["generator"] == f"openapi-python-client {version('openapi-python-client')}"
    assert stamp["ruff"] == version("ruff")


def test_only_the_unreleased_section_announces_a_break() -> None:
    changelog = (
        "# Changelog\n\n## [Unreleased]\n\n### Removed\n- `a.b.C.gone` (renamed)\n\n"
        "## [0.1.0] - 2026-11-30\n- a.b.C.old\n"
    )
    section = api_check.unreleased_section(changelog)
    assert section.strip() == "### Removed\n- `a.b.C.gone` (renamed)"

    class Obj:
        def __init__(self, path: str) -> None:
            self.path = path

    class Breakage:
        def __init__(self, path: str) -> None:
            self.obj = Obj(path)

    found = [Breakage("a.b.C.gone"), Breakage("a.b.C.old")]
    assert [b.obj.path for b in api_check.unannounced(found, changelog)] == ["a.b.C.old"]


@pytest.mark.skipif(shutil.which("ruff", path=str(BIN)) is None, reason="needs make setup")
def test_renaming_a_cdr_field_in_the_spec_is_a_break_until_the_changelog_names_it(
    tmp_path: Path,
) -> None:
    spec = (ROOT / "openapi" / "history.yaml").read_text(encoding="utf-8")
    assert spec.count("        calldate:\n") >= 1
    renamed = tmp_path / "history.yaml"
    # Only the Cdr schema's property: the first `calldate:` under components.
    head, _, tail = spec.partition("components:")
    tail = tail.replace("calldate:", "call_date:", 1)
    # Cdr's period field (x-voipstudio-dated-by) follows the rename.
    tail = tail.replace("x-voipstudio-dated-by: calldate", "x-voipstudio-dated-by: call_date", 1)
    renamed.write_text(head + "components:" + tail)
    package = generate(renamed, tmp_path / "gen")

    old = api_check.load_snapshot(api_check.SNAPSHOT.read_text(encoding="utf-8"))
    new = api_check.load_current((ROOT, package.parent))
    found = list(api_check.breakages(old, new))
    assert CDR_CALLDATE in {b.obj.path for b in found}

    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert CDR_CALLDATE in {b.obj.path for b in api_check.unannounced(found, changelog)}
    announced = changelog.replace(
        "## [Unreleased]\n", f"## [Unreleased]\n\n### Changed\n- `{CDR_CALLDATE}` renamed\n", 1
    )
    assert CDR_CALLDATE not in {b.obj.path for b in api_check.unannounced(found, announced)}
